/**
 * What the driver writes, ipvsadm reads the same, and the other way round (runs inside the VM).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { openKernelIpvs, type KernelIpvs } from "../../../src/ipvs/kernel-ipvs.ts";
import { DEFAULT_SCHEDULERS } from "../../../src/ipvs/memory-ipvs.ts";
import { serviceId, destinationId } from "../../../src/ipvs/keys.ts";
import type { Destination, Service } from "../../../src/ipvs/types.ts";
import { config, dest, service } from "../../ipvs/contract.ts";
import { ipvsadm, parseSave, thresholds } from "./ipvsadm.ts";

let ipvs: KernelIpvs;
beforeAll(async () => {
  ipvs = await openKernelIpvs();
});
beforeEach(() => ipvs.flush());
afterAll(async () => {
  await ipvs.flush();
  ipvs.close();
});

const sortDest = (ds: readonly Destination[]) => [...ds].sort((a, b) => destinationId(a).localeCompare(destinationId(b)));
const destConfig = (d: Destination): Destination => {
  const { family, address, port, forward, weight, tunnel } = d;
  return { family, address, port, forward, weight, upperThreshold: 0, lowerThreshold: 0, ...(tunnel ? { tunnel } : {}) };
};

describe("driver → ipvsadm", () => {
  test("services of every kind, with destinations, read back identically by ipvsadm -Sn", async () => {
    const services: [Service, Destination[]][] = [
      [
        service({ family: "inet", protocol: "tcp", address: "192.0.2.1", port: 80 }, { scheduler: "sh", flags: ["sched1", "sched2"], timeout: 300, netmask: 24 }),
        [
          dest("198.51.100.1", 80, { weight: 100, upperThreshold: 1000, lowerThreshold: 100 }),
          dest("198.51.100.2", 80, { forward: "route", weight: 0 }),
          dest("198.51.100.3", 80, { forward: "tunnel", tunnel: { type: "gue", port: 6080, checksum: "csum" } }),
          dest("198.51.100.4", 80, { forward: "tunnel", tunnel: { type: "gre", port: 0, checksum: "remcsum" } }),
        ],
      ],
      [
        service({ family: "inet6", protocol: "udp", address: "2001:db8::53", port: 53 }, { scheduler: "rr", flags: ["one-packet"], timeout: 60, netmask: 64 }),
        [dest("2001:db8::1:1", 53, { weight: 3 }), dest("2001:db8::1:2", 53, { weight: 4 })],
      ],
      [service({ family: "inet", protocol: "sctp", address: "192.0.2.2", port: 3868 }, { scheduler: "lc" }), [dest("198.51.100.9", 3868)]],
      [service({ family: "inet", fwmark: 42 }, { scheduler: "mh", flags: ["sched1"] }), [dest("198.51.100.10", 0, { forward: "route" })]],
      [service({ family: "inet6", fwmark: 43 }, { scheduler: "wlc" }), [dest("2001:db8::2:1", 0, { forward: "route", weight: 9 })]],
    ];
    for (const [s, ds] of services) {
      await ipvs.addService(s);
      for (const d of ds) await ipvs.addDestination(s.key, d);
    }
    const seen = parseSave(ipvsadm(["-Sn"]));
    expect([...seen.services.keys()].sort()).toEqual(services.map(([s]) => serviceId(s.key)).sort());
    for (const [s, ds] of services) {
      const entry = seen.services.get(serviceId(s.key))!;
      expect(config(entry.service)).toEqual(config(s));
      expect(sortDest(entry.destinations)).toEqual(sortDest(ds.map(destConfig)));
    }
    const t = thresholds().get(`${serviceId(services[0]![0].key)} 198.51.100.1:80`);
    expect(t).toEqual({ upper: 1000, lower: 100 });
  });

  test("every scheduler the kernel has", async () => {
    for (const [i, scheduler] of DEFAULT_SCHEDULERS.entries()) {
      await ipvs.addService(service({ family: "inet", protocol: "tcp", address: "192.0.2.5", port: 2000 + i }, { scheduler }));
    }
    const seen = parseSave(ipvsadm(["-Sn"]));
    expect([...seen.services.values()].map((e) => e.service.scheduler).sort()).toEqual([...DEFAULT_SCHEDULERS].sort());
  });
});

describe("ipvsadm → driver", () => {
  test("rules loaded with ipvsadm -R are what the driver dumps", async () => {
    const rules = [
      "-A -t 192.0.2.7:443 -s wrr -p 120 -M 255.255.0.0",
      "-a -t 192.0.2.7:443 -r 198.51.100.20:8443 -m -w 10",
      "-a -t 192.0.2.7:443 -r 198.51.100.21:8443 -m -w 20",
      "-A -u [2001:db8::7]:514 -s sed",
      "-a -u [2001:db8::7]:514 -r [2001:db8::20]:514 -m -w 1",
      "-A -f 99 -s rr",
      "-a -f 99 -r 198.51.100.30:0 -g -w 2",
    ].join("\n");
    const p = Bun.spawnSync(["ipvsadm", "-R"], { stdin: Buffer.from(rules + "\n") });
    expect(p.exitCode).toBe(0);
    const table = await ipvs.table();
    const seen = parseSave(ipvsadm(["-Sn"]));
    expect(table.length).toBe(3);
    for (const { service: s, destinations } of table) {
      const entry = seen.services.get(serviceId(s.key))!;
      expect(config(entry.service)).toEqual(config(s));
      expect(sortDest(destinations.map(destConfig))).toEqual(sortDest(entry.destinations));
    }
    const web = table.find((t) => serviceId(t.service.key) === "tcp:192.0.2.7:443")!;
    expect(web.service.timeout).toBe(120);
    expect(web.service.netmask).toBe(16);
    expect(web.destinations.map((d) => d.weight).sort()).toEqual([10, 20]);
  });
});

describe("statistics", () => {
  test("a connection attempt to a VIP shows in the service's and destination's counters", async () => {
    const key = { family: "inet", protocol: "tcp", address: "192.0.2.60", port: 80 } as const;
    await ipvs.addService(service(key, { scheduler: "rr" }));
    await ipvs.addDestination(key, dest("198.51.100.60", 80));
    // A local client is scheduled by IPVS at LOCAL_OUT; the restricted slirp answers with a reset.
    const attempt = Bun.connect({ hostname: "192.0.2.60", port: 80, socket: { data() {}, error() {} } }).catch(() => undefined);
    // The kernel refreshes the totals it exports from its estimator, every 2 s.
    await Bun.sleep(2500);
    const s = await ipvs.service(key);
    const [d] = await ipvs.destinations(key);
    expect(s.stats.connections).toBe(1);
    expect(s.stats.packetsIn).toBeGreaterThanOrEqual(1);
    expect(s.stats.bytesIn).toBeGreaterThan(0);
    expect(d!.stats.connections).toBe(1);
    expect(d!.activeConnections + d!.inactiveConnections).toBe(1);
    const listed = ipvsadm(["-Ln", "--stats", "-t", "192.0.2.60:80"]);
    expect(listed).toMatch(/TCP\s+192\.0\.2\.60:80\s+1\s+/);
    void attempt;
  });
});
