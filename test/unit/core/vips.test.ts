/** VIPs on the -vipi interface through core's commands, start-up, reconcile and clean-up (MemoryInterfaceAddresses). */
import { describe, expect, it } from "bun:test";
import { VipError } from "../../../src/core/errors.ts";
import { MemoryStateStore, type StateStore } from "../../../src/core/store.ts";
import { VipManager } from "../../../src/core/vips.ts";
import { Errno } from "../../../src/ipvs/errors.ts";
import type { MemoryIpvs } from "../../../src/ipvs/memory-ipvs.ts";
import { MemoryInterfaceAddresses } from "../../../src/net/memory-interfaces.ts";
import { rig, save } from "./helpers.ts";

/** eth1 holds the host's own address 192.0.2.200/24 (someone else's: never removed). */
function hostInterfaces(): MemoryInterfaceAddresses {
  return new MemoryInterfaceAddresses({ eth1: [{ address: "192.0.2.200", prefix: 24, family: "inet" }], eth2: [] });
}

function vipRig(options: { interfaces?: MemoryInterfaceAddresses; store?: StateStore; ipvs?: MemoryIpvs; ifname?: string } = {}) {
  const interfaces = options.interfaces ?? hostInterfaces();
  const store = options.store ?? new MemoryStateStore();
  const lines: string[] = [];
  const vips = new VipManager({ interfaces, ifname: options.ifname ?? "eth1", store, log: (l) => lines.push(l) });
  const r = rig({ store, ...(options.ipvs ? { ipvs: options.ipvs } : {}), core: { vips } });
  return { ...r, interfaces, vips, lines };
}

async function addresses(interfaces: MemoryInterfaceAddresses, ifname = "eth1"): Promise<string[]> {
  return (await interfaces.list(ifname)).map((a) => `${a.address}/${a.prefix}`);
}

describe("VIPs on the -vipi interface", () => {
  it("a service's VIP goes on the interface as /32 (/128 for IPv6) and leaves with the service", async () => {
    const r = vipRig();
    await r.core.createService("web", { host: "192.0.2.10", port: 80 });
    await r.core.createService("web6", { host: "2001:db8::10", port: 80 });
    expect(await addresses(r.interfaces)).toEqual(["192.0.2.200/24", "192.0.2.10/32", "2001:db8::10/128"]);
    expect(await r.store.loadVips()).toEqual([
      { ifname: "eth1", address: "192.0.2.10", prefix: 32 },
      { ifname: "eth1", address: "2001:db8::10", prefix: 128 },
    ]);
    expect(r.vips.status()).toEqual([
      { vip: "192.0.2.10/32", services: ["web"], owned: true },
      { vip: "2001:db8::10/128", services: ["web6"], owned: true },
    ]);
    await r.core.deleteService("web");
    await r.core.deleteService("web6");
    expect(await addresses(r.interfaces)).toEqual(["192.0.2.200/24"]);
    expect(await r.store.loadVips()).toEqual([]);
    expect(r.vips.status()).toEqual([]);
  });

  it("an address already on the interface is used but never removed; fwmark services have no VIP", async () => {
    const r = vipRig();
    await r.core.createService("main", { host: "192.0.2.200", port: 443 });
    await r.core.createService("marked", { fwmark: 7 });
    expect(r.vips.status()).toEqual([{ vip: "192.0.2.200/32", services: ["main"], owned: false }]);
    expect(await r.store.loadVips()).toEqual([]);
    await r.core.deleteService("main");
    await r.core.deleteService("marked");
    expect(await addresses(r.interfaces)).toEqual(["192.0.2.200/24"]);
  });

  it("services sharing a VIP keep it until the last one goes", async () => {
    const r = vipRig();
    await r.core.createService("http", { host: "192.0.2.10", port: 80 });
    await r.core.createService("https", { host: "192.0.2.10", port: 443 });
    await r.core.deleteService("http");
    expect(await addresses(r.interfaces)).toContain("192.0.2.10/32");
    expect(r.vips.status()).toEqual([{ vip: "192.0.2.10/32", services: ["https"], owned: true }]);
    await r.core.deleteService("https");
    expect(await addresses(r.interfaces)).not.toContain("192.0.2.10/32");
  });

  it("a delete and a create of services on one VIP at once leave the VIP on the interface", async () => {
    const r = vipRig();
    await r.core.createService("old", { host: "192.0.2.10", port: 80 });
    await Promise.all([r.core.deleteService("old"), r.core.createService("new", { host: "192.0.2.10", port: 8080 })]);
    expect(await addresses(r.interfaces)).toContain("192.0.2.10/32");
    expect(r.vips.status()).toEqual([{ vip: "192.0.2.10/32", services: ["new"], owned: true }]);
  });

  it("a VIP the kernel refuses fails the create with a 500 naming it, and changes nothing", async () => {
    const r = vipRig();
    r.interfaces.failNext(Errno.EPERM);
    const error = await r.core.createService("web", { host: "192.0.2.10", port: 80 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VipError);
    expect((error as VipError).status).toBe(500);
    expect((error as Error).message).toContain("error while adding the VIP 192.0.2.10/32 to eth1: permission denied: needs CAP_NET_ADMIN");
    expect(r.core.listServices()).toEqual([]);
    expect(await save(r.ipvs)).toEqual([]);
    expect(await r.store.load()).toEqual([]);
    expect(await r.store.loadVips()).toEqual([]);
    expect(await addresses(r.interfaces)).toEqual(["192.0.2.200/24"]);
    expect(r.vips.status()).toEqual([]);
  });

  it("a create that IPVS refuses takes its VIP off again", async () => {
    const r = vipRig();
    r.ipvs.failNext(1, Errno.ENOMEM);
    await expect(r.core.createService("web", { host: "192.0.2.10", port: 80 })).rejects.toThrow();
    expect(await addresses(r.interfaces)).toEqual(["192.0.2.200/24"]);
    expect(await r.store.loadVips()).toEqual([]);
    expect(await r.store.load()).toEqual([]);
    // A store that refuses the intent: the same.
    (r.store as MemoryStateStore).failNextWrite = new Error("disk full");
    const s = vipRig({ store: r.store, interfaces: r.interfaces });
    await expect(s.core.createService("web", { host: "192.0.2.10", port: 80 })).rejects.toThrow("disk full");
    expect(await addresses(r.interfaces)).toEqual(["192.0.2.200/24"]);
    expect(await r.store.loadVips()).toEqual([]);
    expect(s.vips.status()).toEqual([]);
  });

  it("a VIP whose removal fails stays recorded, and the next reconcile removes it", async () => {
    const r = vipRig();
    await r.core.createService("web", { host: "192.0.2.10", port: 80 });
    r.interfaces.failNext(Errno.EBUSY);
    await r.core.deleteService("web"); // the service goes; its VIP's removal is retried
    expect(r.core.listServices()).toEqual([]);
    expect(await addresses(r.interfaces)).toContain("192.0.2.10/32");
    expect(r.lines.join("\n")).toContain("could not remove VIP 192.0.2.10/32 from eth1");
    const dry = await r.core.reconcile({ dryRun: true });
    expect(dry.vips).toEqual([{ op: "remove-vip", vip: "192.0.2.10/32", interface: "eth1", services: [], reason: "no service uses this VIP any more" }]);
    const done = await r.core.reconcile();
    expect(done.vips?.[0]).toMatchObject({ op: "remove-vip", ok: true });
    expect(done.repaired).toBe(1);
    expect(await addresses(r.interfaces)).toEqual(["192.0.2.200/24"]);
    expect(await r.store.loadVips()).toEqual([]);
  });

  it("reconcile puts back a VIP removed behind gorb's back (dry run only reports it)", async () => {
    const r = vipRig();
    await r.core.createService("web", { host: "192.0.2.10", port: 80 });
    await r.interfaces.remove("eth1", "192.0.2.10", 32); // ip addr del
    const dry = await r.core.reconcile({ dryRun: true });
    expect(dry.vips).toEqual([{ op: "add-vip", vip: "192.0.2.10/32", interface: "eth1", services: ["web"], reason: "VIP missing from the interface" }]);
    expect(dry.repaired).toBe(0);
    expect(await addresses(r.interfaces)).not.toContain("192.0.2.10/32");
    const done = await r.core.reconcile({ trigger: "periodic" });
    expect(done.repaired).toBe(1);
    expect(await addresses(r.interfaces)).toContain("192.0.2.10/32");
    expect(r.lines).toContain("gorb: vip (periodic): add-vip 192.0.2.10/32 on eth1 (services [web]): VIP missing from the interface: done");
    expect((await r.core.reconcile()).vips).toEqual([]);
  });

  it("a restart keeps VIPs, puts back missing ones and removes owned ones no service uses", async () => {
    const first = vipRig();
    await first.core.createService("web", { host: "192.0.2.10", port: 80 });
    await first.core.createService("api", { host: "192.0.2.11", port: 80 });
    await first.core.createService("main", { host: "192.0.2.200", port: 443 });
    // While gorb is down: a reboot-like loss of one VIP, and a crash's leftover (owned, no service).
    await first.interfaces.remove("eth1", "192.0.2.11", 32);
    await first.interfaces.add("eth1", "192.0.2.99", 32);
    await first.store.write([{ kind: "put-vip", vip: { ifname: "eth1", address: "192.0.2.99", prefix: 32 } }]);
    const second = vipRig({ store: first.store, interfaces: first.interfaces, ipvs: first.ipvs });
    const report = await second.core.start();
    expect(report.vips).toEqual([
      { op: "add-vip", vip: "192.0.2.11/32", interface: "eth1", services: ["api"], reason: "VIP missing from the interface", ok: true },
      { op: "remove-vip", vip: "192.0.2.99/32", interface: "eth1", services: [], reason: "no service uses this VIP any more", ok: true },
    ]);
    expect((await addresses(first.interfaces)).sort()).toEqual(["192.0.2.10/32", "192.0.2.11/32", "192.0.2.200/24"]);
    expect(second.vips.status()).toEqual([
      { vip: "192.0.2.10/32", services: ["web"], owned: true },
      { vip: "192.0.2.11/32", services: ["api"], owned: true },
      { vip: "192.0.2.200/32", services: ["main"], owned: false },
    ]);
    // The restarted gorb still removes what the first one added.
    await second.core.deleteService("web");
    expect(await addresses(first.interfaces)).not.toContain("192.0.2.10/32");
  });

  it("a changed -vipi moves gorb's VIPs: removed from the old interface, added to the new", async () => {
    const first = vipRig();
    await first.core.createService("web", { host: "192.0.2.10", port: 80 });
    const second = vipRig({ store: first.store, interfaces: first.interfaces, ipvs: first.ipvs, ifname: "eth2" });
    await second.core.start();
    expect(await addresses(first.interfaces, "eth1")).toEqual(["192.0.2.200/24"]);
    expect(await addresses(first.interfaces, "eth2")).toEqual(["192.0.2.10/32"]);
    expect(await first.store.loadVips()).toEqual([{ ifname: "eth2", address: "192.0.2.10", prefix: 32 }]);
  });

  it("--cleanup-on-exit removes the VIPs gorb added, not the others", async () => {
    const r = vipRig();
    await r.core.createService("web", { host: "192.0.2.10", port: 80 });
    await r.core.createService("main", { host: "192.0.2.200", port: 443 });
    const result = await r.core.cleanup();
    expect(result.vips?.map((v) => [v.op, v.vip, v.ok])).toEqual([["remove-vip", "192.0.2.10/32", true]]);
    expect(await addresses(r.interfaces)).toEqual(["192.0.2.200/24"]);
    expect(await r.store.loadVips()).toEqual([]);
  });

  it("without -vipi, VIPs are neither managed nor reported", async () => {
    const r = rig();
    await r.core.createService("web", { host: "192.0.2.10", port: 80 });
    expect(r.core.vips).toBeUndefined();
    expect((await r.core.reconcile()).vips).toBeUndefined();
    expect((await r.core.cleanup()).vips).toBeUndefined();
  });
});
