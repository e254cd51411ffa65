/**
 * @module The Ipvs contract: one suite, run against MemoryIpvs on the host
 * (test/unit/ipvs/memory-ipvs.test.ts) and against KernelIpvs in the VM
 * (test/kernel/guest/kernel-ipvs.test.ts). Where the kernel disagrees, MemoryIpvs is wrong.
 */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { Errno, IpvsError } from "../../src/ipvs/errors.ts";
import type { Ipvs } from "../../src/ipvs/ipvs.ts";
import { serviceId, destinationId } from "../../src/ipvs/keys.ts";
import type { Destination, IpvsOperation, Service, ServiceKey } from "../../src/ipvs/types.ts";

export interface ContractOptions {
  /** Schedulers this IPVS has. */
  schedulers: readonly string[];
  /** An interface a sync daemon can be started on. */
  daemonInterface: string;
}

export const tcp4: ServiceKey = { family: "inet", protocol: "tcp", address: "192.0.2.10", port: 80 };
const udp6: ServiceKey = { family: "inet6", protocol: "udp", address: "2001:db8::10", port: 53 };
const sctp4: ServiceKey = { family: "inet", protocol: "sctp", address: "192.0.2.11", port: 3868 };
const mark4: ServiceKey = { family: "inet", fwmark: 7 };
const mark6: ServiceKey = { family: "inet6", fwmark: 8 };

export function service(key: ServiceKey, extra: Partial<Service> = {}): Service {
  return {
    key,
    scheduler: "wrr",
    flags: [],
    timeout: 0,
    netmask: key.family === "inet" ? 32 : 128,
    persistenceEngine: "",
    ...extra,
  };
}

export function dest(address: string, port: number, extra: Partial<Destination> = {}): Destination {
  return {
    family: address.includes(":") ? "inet6" : "inet",
    address,
    port,
    forward: "masq",
    weight: 1,
    upperThreshold: 0,
    lowerThreshold: 0,
    ...extra,
  };
}

async function errnoOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    if (e instanceof IpvsError) return e.errno;
    throw e;
  }
  return 0;
}

/** The configuration fields of a service entry (drops statistics; flags sorted). */
export function config(s: Service): Service {
  return {
    key: s.key,
    scheduler: s.scheduler,
    flags: [...s.flags].sort(),
    timeout: s.timeout,
    netmask: s.netmask,
    persistenceEngine: s.persistenceEngine,
  };
}

function destConfig(d: Destination): Destination {
  const { family, address, port, forward, weight, upperThreshold, lowerThreshold, tunnel } = d;
  return tunnel
    ? { family, address, port, forward, weight, upperThreshold, lowerThreshold, tunnel }
    : { family, address, port, forward, weight, upperThreshold, lowerThreshold };
}

export function runIpvsContract(name: string, open: () => Promise<Ipvs>, options: ContractOptions): void {
  describe(`Ipvs contract: ${name}`, () => {
    let ipvs: Ipvs;
    beforeEach(async () => {
      ipvs ??= await open();
      await ipvs.flush();
    });
    afterAll(async () => {
      await ipvs?.flush();
      ipvs?.close();
    });

    test("info reports IPVS 1.2.1", async () => {
      const info = await ipvs.info();
      expect(info.version).toBe("1.2.1");
      expect(info.connectionTableSize).toBeGreaterThan(0);
    });

    test.each([
      ["tcp over IPv4", tcp4],
      ["udp over IPv6", udp6],
      ["sctp over IPv4", sctp4],
      ["fwmark IPv4", mark4],
      ["fwmark IPv6", mark6],
    ] as const)("a %s service round-trips", async (_label, key) => {
      const s = service(key);
      await ipvs.addService(s);
      expect(config(await ipvs.service(key))).toEqual(config(s));
      const all = await ipvs.services();
      expect(all.map((x) => serviceId(x.key))).toEqual([serviceId(key)]);
      expect(all[0]!.stats.connections).toBe(0);
    });

    test("every scheduler can be set and read back", async () => {
      for (const [i, scheduler] of options.schedulers.entries()) {
        const key: ServiceKey = { family: "inet", protocol: "tcp", address: "192.0.2.20", port: 1000 + i };
        await ipvs.addService(service(key, { scheduler }));
        expect((await ipvs.service(key)).scheduler).toBe(scheduler);
      }
      expect((await ipvs.services()).length).toBe(options.schedulers.length);
    });

    test("flags, persistence and netmask round-trip, and an update replaces them", async () => {
      const s = service(tcp4, { scheduler: "sh", flags: ["sched1", "sched2"], timeout: 300, netmask: 24 });
      await ipvs.addService(s);
      expect(config(await ipvs.service(tcp4))).toEqual(config(s));
      const changed = service(tcp4, { scheduler: "rr", flags: ["one-packet"], timeout: 0 });
      await ipvs.updateService(changed);
      expect(config(await ipvs.service(tcp4))).toEqual(config(changed));
      const v6 = service(udp6, { timeout: 600, netmask: 64, flags: ["sched3"] });
      await ipvs.addService(v6);
      expect(config(await ipvs.service(udp6))).toEqual(config(v6));
    });

    test("service errors: duplicate, missing, unknown scheduler, bad IPv6 netmask", async () => {
      await ipvs.addService(service(tcp4));
      expect(await errnoOf(ipvs.addService(service(tcp4)))).toBe(Errno.EEXIST);
      expect(await errnoOf(ipvs.deleteService(udp6))).toBe(Errno.ESRCH);
      expect(await errnoOf(ipvs.updateService(service(udp6)))).toBe(Errno.ESRCH);
      expect(await errnoOf(ipvs.service(udp6))).toBe(Errno.ESRCH);
      expect(await errnoOf(ipvs.addService(service(sctp4, { scheduler: "no-such-sched" })))).toBe(Errno.ENOENT);
      expect(await errnoOf(ipvs.addService(service(udp6, { netmask: 0 })))).toBe(Errno.EINVAL);
      const e = await ipvs.addService(service(tcp4)).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(IpvsError);
      expect((e as IpvsError).message).toContain("already exists");
      expect((await ipvs.services()).length).toBe(1);
    });

    test("destinations of every forwarding method round-trip", async () => {
      await ipvs.addService(service(tcp4));
      const dests: Destination[] = [
        dest("198.51.100.1", 8080, { weight: 100 }),
        dest("198.51.100.2", 8080, { forward: "route", weight: 0 }),
        dest("198.51.100.3", 8080, { forward: "tunnel", tunnel: { type: "ipip", port: 0, checksum: "none" } }),
        dest("198.51.100.4", 8080, { forward: "tunnel", tunnel: { type: "gue", port: 6080, checksum: "csum" } }),
        dest("198.51.100.5", 8080, { forward: "tunnel", tunnel: { type: "gre", port: 0, checksum: "csum" } }),
        dest("198.51.100.6", 8080, { weight: 7, upperThreshold: 100, lowerThreshold: 10 }),
      ];
      for (const d of dests) await ipvs.addDestination(tcp4, d);
      const read = (await ipvs.destinations(tcp4)).map(destConfig);
      const byId = (a: Destination, b: Destination) => destinationId(a).localeCompare(destinationId(b));
      expect(read.sort(byId)).toEqual(dests.map(destConfig).sort(byId));
      const [first] = await ipvs.destinations(tcp4);
      expect(first!.activeConnections).toBe(0);
      expect(first!.stats.packetsIn).toBe(0);
    });

    test("IPv6 destinations, and an IPv6 destination in an IPv4 service by tunnel only", async () => {
      await ipvs.addService(service(udp6));
      await ipvs.addDestination(udp6, dest("2001:db8::1:2", 53, { weight: 5 }));
      expect((await ipvs.destinations(udp6)).map(destConfig)).toEqual([dest("2001:db8::1:2", 53, { weight: 5 })]);
      await ipvs.addService(service(tcp4));
      expect(await errnoOf(ipvs.addDestination(tcp4, dest("2001:db8::9", 80)))).toBe(Errno.EINVAL);
      const tunnelled = dest("2001:db8::9", 80, { forward: "tunnel", tunnel: { type: "ipip", port: 0, checksum: "none" } });
      await ipvs.addDestination(tcp4, tunnelled);
      expect((await ipvs.destinations(tcp4)).map(destConfig)).toEqual([tunnelled]);
    });

    test("destinations of a fwmark service", async () => {
      await ipvs.addService(service(mark4, { scheduler: "rr" }));
      await ipvs.addDestination(mark4, dest("198.51.100.7", 0, { forward: "route" }));
      await ipvs.addDestination(mark4, dest("198.51.100.8", 443, { forward: "route" }));
      const read = await ipvs.destinations(mark4);
      expect(read.map((d) => destinationId(d)).sort()).toEqual(["198.51.100.7:0", "198.51.100.8:443"]);
    });

    test("update and delete a destination", async () => {
      await ipvs.addService(service(tcp4));
      await ipvs.addDestination(tcp4, dest("198.51.100.1", 80, { weight: 10 }));
      await ipvs.updateDestination(tcp4, dest("198.51.100.1", 80, { weight: 0, forward: "route" }));
      expect((await ipvs.destinations(tcp4)).map(destConfig)).toEqual([dest("198.51.100.1", 80, { weight: 0, forward: "route" })]);
      await ipvs.deleteDestination(tcp4, { family: "inet", address: "198.51.100.1", port: 80 });
      expect(await ipvs.destinations(tcp4)).toEqual([]);
    });

    test("destination errors: duplicate, missing, missing service, negative weight, thresholds, GUE port, multicast", async () => {
      await ipvs.addService(service(tcp4));
      await ipvs.addDestination(tcp4, dest("198.51.100.1", 80));
      expect(await errnoOf(ipvs.addDestination(tcp4, dest("198.51.100.1", 80)))).toBe(Errno.EEXIST);
      expect(await errnoOf(ipvs.updateDestination(tcp4, dest("198.51.100.2", 80)))).toBe(Errno.ENOENT);
      expect(await errnoOf(ipvs.deleteDestination(tcp4, dest("198.51.100.2", 80)))).toBe(Errno.ENOENT);
      expect(await errnoOf(ipvs.addDestination(udp6, dest("2001:db8::1", 80)))).toBe(Errno.ESRCH);
      expect(await errnoOf(ipvs.addDestination(tcp4, dest("198.51.100.3", 80, { weight: -1 })))).toBe(Errno.ERANGE);
      expect(await errnoOf(ipvs.updateDestination(tcp4, dest("198.51.100.1", 80, { weight: -5 })))).toBe(Errno.ERANGE);
      expect(
        await errnoOf(ipvs.addDestination(tcp4, dest("198.51.100.3", 80, { upperThreshold: 5, lowerThreshold: 10 }))),
      ).toBe(Errno.ERANGE);
      expect(
        await errnoOf(
          ipvs.addDestination(tcp4, dest("198.51.100.3", 80, { forward: "tunnel", tunnel: { type: "gue", port: 0, checksum: "none" } })),
        ),
      ).toBe(Errno.EINVAL);
      expect(await errnoOf(ipvs.addDestination(tcp4, dest("224.0.0.9", 80)))).toBe(Errno.EINVAL);
      expect(await errnoOf(ipvs.destinations(udp6))).toBe(Errno.ESRCH);
      expect((await ipvs.destinations(tcp4)).map(destConfig)).toEqual([dest("198.51.100.1", 80)]);
    });

    test("a batch reports each operation's own result and goes on after a failure", async () => {
      const ops: IpvsOperation[] = [
        { op: "add-service", service: service(tcp4) },
        { op: "add-service", service: service(tcp4) },
        { op: "add-destination", service: tcp4, destination: dest("198.51.100.1", 80) },
        { op: "delete-destination", service: tcp4, destination: dest("198.51.100.9", 80) },
        { op: "add-service", service: service(udp6) },
      ];
      const results = await ipvs.apply(ops);
      expect(results.map((r) => (r.ok ? 0 : r.error.errno))).toEqual([0, Errno.EEXIST, 0, Errno.ENOENT, 0]);
      expect((await ipvs.services()).length).toBe(2);
      expect((await ipvs.destinations(tcp4)).length).toBe(1);
    });

    test("a batch larger than one send: 60 services × 10 destinations, then the table", async () => {
      const ops: IpvsOperation[] = [];
      for (let s = 0; s < 60; s++) {
        const key: ServiceKey = { family: "inet", protocol: "tcp", address: `192.0.2.${100 + s}`, port: 80 };
        ops.push({ op: "add-service", service: service(key) });
        for (let d = 0; d < 10; d++) ops.push({ op: "add-destination", service: key, destination: dest(`198.51.100.${d + 1}`, 8000 + s) });
      }
      const results = await ipvs.apply(ops);
      expect(results.filter((r) => !r.ok)).toEqual([]);
      const table = await ipvs.table();
      expect(table.length).toBe(60);
      expect(table.reduce((n, t) => n + t.destinations.length, 0)).toBe(600);
      // The last operation failing must be reported too (it carries the only ack of its chunk).
      const last = await ipvs.apply([...ops.slice(0, 3), ops[0]!]);
      expect(last.map((r) => r.ok)).toEqual([false, false, false, false]);
    });

    test("a service with 400 destinations reads back whole (a dump of many datagrams)", async () => {
      const key: ServiceKey = { family: "inet", protocol: "tcp", address: "192.0.2.99", port: 443 };
      const ops: IpvsOperation[] = [{ op: "add-service", service: service(key) }];
      const expected: string[] = [];
      for (let d = 0; d < 400; d++) {
        const address = `198.51.100.${(d % 250) + 1}`;
        const port = 8000 + Math.floor(d / 250);
        ops.push({ op: "add-destination", service: key, destination: dest(address, port) });
        expected.push(`${address}:${port}`);
      }
      expect((await ipvs.apply(ops)).filter((r) => !r.ok)).toEqual([]);
      const listed = (await ipvs.destinations(key)).map((d) => `${d.address}:${d.port}`);
      expect(listed.toSorted()).toEqual(expected.toSorted());
      const [entry] = await ipvs.table();
      expect(entry?.destinations.length).toBe(400);
    });

    test("flush removes everything; zero needs an existing service", async () => {
      await ipvs.addService(service(tcp4));
      await ipvs.addService(service(mark6));
      await ipvs.zero();
      await ipvs.zero(tcp4);
      expect(await errnoOf(ipvs.zero(udp6))).toBe(Errno.ESRCH);
      await ipvs.flush();
      expect(await ipvs.services()).toEqual([]);
    });

    test("timeouts: set, read back, and 0 leaves a value unchanged", async () => {
      const before = await ipvs.timeouts();
      try {
        await ipvs.setTimeouts({ tcp: 1000, tcpFin: 100, udp: 200 });
        expect(await ipvs.timeouts()).toEqual({ tcp: 1000, tcpFin: 100, udp: 200 });
        await ipvs.setTimeouts({ tcp: 0, tcpFin: 0, udp: 250 });
        expect(await ipvs.timeouts()).toEqual({ tcp: 1000, tcpFin: 100, udp: 250 });
      } finally {
        await ipvs.setTimeouts(before);
      }
    });

    test("sync daemon: start, list, refuse a second master, stop", async () => {
      await ipvs.startDaemon({ role: "master", interface: options.daemonInterface, syncId: 9 });
      try {
        const [d] = await ipvs.daemons();
        expect({ role: d!.role, interface: d!.interface, syncId: d!.syncId }).toEqual({
          role: "master",
          interface: options.daemonInterface,
          syncId: 9,
        });
        expect(await errnoOf(ipvs.startDaemon({ role: "master", interface: options.daemonInterface, syncId: 9 }))).toBe(Errno.EEXIST);
      } finally {
        await ipvs.stopDaemon("master");
      }
      expect(await ipvs.daemons()).toEqual([]);
      expect(await errnoOf(ipvs.stopDaemon("master"))).toBe(Errno.ESRCH);
    });
  });
}
