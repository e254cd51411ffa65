import { describe, expect, it } from "bun:test";
import { keptWeights } from "../../../src/core/startup.ts";
import { MemoryStateStore } from "../../../src/core/store.ts";
import { MemoryIpvs } from "../../../src/ipvs/memory-ipvs.ts";
import type { DesiredService } from "../../../src/core/model.ts";
import { rig, save, settle } from "./helpers.ts";

const VIP = { family: "inet", protocol: "tcp", address: "192.0.2.1", port: 80 } as const;
const FOREIGN = { family: "inet", protocol: "tcp", address: "203.0.113.9", port: 443 } as const;
const dest = (address: string, weight: number) =>
  ({ family: "inet", address, port: 8080, forward: "masq", weight, upperThreshold: 0, lowerThreshold: 0 }) as const;

/** gorb #1 creates web (2 backends, one by host name) and dns (udp); returns the shared kernel and store. */
async function firstRun() {
  const first = rig({ core: { resolve: async (h) => (h === "web-3.example" ? "198.51.100.3" : Promise.reject(new Error("nx"))) } });
  await first.core.createService("web", { port: 80, method: "wrr" });
  await first.core.createBackend("web", "a", { host: "198.51.100.1", port: 8080, weight: 50 });
  await first.core.createBackend("web", "b", { host: "web-3.example", port: 8080 });
  await first.core.createService("dns", { host: "192.0.2.2", port: 53, protocol: "udp", method: "rr" });
  await first.core.createBackend("dns", "x", { host: "198.51.100.7", port: 53, weight: 0 });
  await first.core.updateBackend("dns", "x", { weight: 0 }); // drained on purpose
  return first;
}

describe("start-up: restore and adopt", () => {
  it("a restart with the kernel as gorb left it changes nothing and restores the same state", async () => {
    const first = await firstRun();
    await first.ipvs.addService({ key: FOREIGN, scheduler: "rr", flags: [], timeout: 0, netmask: 32, persistenceEngine: "" });
    const before = await save(first.ipvs);
    const second = rig({ ipvs: first.ipvs, store: first.store });
    const report = await second.core.start();
    expect(second.ops).toEqual([]);
    expect(await save(first.ipvs)).toEqual(before);
    expect(report).toMatchObject({ services: 2, backends: 3, skipped: [], flushed: false, adopted: 2, keptWeights: 0 });
    expect(report.reconcile).toMatchObject({ operations: [], repaired: 0, failed: 0, foreign: ["tcp:203.0.113.9:443"] });
    expect(second.core.listServices()).toEqual(["dns", "web"]);
    for (const id of ["web", "dns"]) expect(second.core.snapshot.services.get(id)!.options).toEqual(first.core.snapshot.services.get(id)!.options);
    // Resolved without DNS (the recorded address), drained backend kept at 0.
    expect((await second.core.getBackend("web", "b")).backend.destination.address).toBe("198.51.100.3");
    expect((await second.core.getBackend("dns", "x")).weight).toBe(0);
    // Commands plan against what was adopted: one small operation.
    await second.core.setWeight("web", "a", 60);
    expect(second.ops.map((o) => o.op)).toEqual(["update-destination"]);
  });

  it("fixes what differs in place: no delete, no window without the service", async () => {
    const first = await firstRun();
    const k = first.ipvs;
    await k.updateService({ key: VIP, scheduler: "rr", flags: [], timeout: 0, netmask: 32, persistenceEngine: "" });
    // Above the configured weight: never a health outcome, so repaired (below it would be kept until the first verdict).
    await k.updateDestination(VIP, dest("198.51.100.1", 500));
    await k.deleteDestination(VIP, dest("198.51.100.3", 0));
    await k.addDestination(VIP, dest("198.51.100.99", 1));
    const second = rig({ ipvs: k, store: first.store });
    const report = await second.core.start();
    expect(second.ops.map((o) => o.op).sort()).toEqual(["add-destination", "delete-destination", "update-destination", "update-service"]);
    expect(report.reconcile.operations.map((o) => [o.op, o.backend ?? o.destination, o.reason])).toEqual([
      ["update-service", undefined, "scheduler rr, want wrr"],
      ["delete-destination", "198.51.100.99:8080", "destination not in the desired state"],
      ["update-destination", "a", "weight 500, want 50"],
      ["add-destination", "b", "destination missing from the kernel"],
    ]);
    expect(report.reconcile.repaired).toBe(4);
    const third = rig({ ipvs: k, store: first.store });
    await third.core.start();
    expect(third.ops).toEqual([]);
  });

  it("creates what the kernel lacks (after a reboot) and leaves foreign services alone", async () => {
    const first = await firstRun();
    const kernel = new MemoryIpvs();
    await kernel.addService({ key: FOREIGN, scheduler: "rr", flags: [], timeout: 0, netmask: 32, persistenceEngine: "" });
    const second = rig({ ipvs: kernel, store: first.store });
    const report = await second.core.start();
    expect(await save(kernel)).toEqual(await save(first.ipvs).then((l) => [...l, "-A tcp 203.0.113.9:443 rr t0 m32 []"].sort()));
    expect(report.adopted).toBe(0);
    expect(report.reconcile.repaired).toBe(5);
    expect(second.ops.some((o) => o.op.startsWith("delete"))).toBe(false);
  });

  it("-f flushes the whole table first, then applies desired state", async () => {
    const first = await firstRun();
    await first.ipvs.addService({ key: FOREIGN, scheduler: "rr", flags: [], timeout: 0, netmask: 32, persistenceEngine: "" });
    const expected = (await save(first.ipvs)).filter((l) => !l.includes("203.0.113.9"));
    const second = rig({ ipvs: first.ipvs, store: first.store });
    const report = await second.core.start({ flush: true, log: () => {} });
    expect(report.flushed).toBe(true);
    expect(await save(first.ipvs)).toEqual(expected);
    expect(report.reconcile.foreign).toEqual([]);
  });

  it("keeps the kernel's weight of a down backend until the first verdict; a healthy one is not zeroed", async () => {
    const first = await firstRun();
    first.health.push("web/a", "down");
    await settle();
    expect((await first.ipvs.destinations(VIP)).find((d) => d.address === "198.51.100.1")!.weight).toBe(0);
    const before = await save(first.ipvs);

    const second = rig({ ipvs: first.ipvs, store: first.store });
    const report = await second.core.start();
    expect(report.keptWeights).toBe(1);
    expect(second.ops).toEqual([]);
    expect(await save(first.ipvs)).toEqual(before);
    expect((await second.core.getBackend("web", "a")).weight).toBe(0);
    // A reconcile before the verdict keeps it too.
    expect((await second.core.reconcile({ log: () => {} })).operations).toEqual([]);

    // The verdict: up → the configured weight; b (healthy, 100) never moved.
    second.health.push("web/a", "up");
    await settle();
    const weights = Object.fromEntries((await first.ipvs.destinations(VIP)).map((d) => [d.address, d.weight]));
    expect(weights).toEqual({ "198.51.100.1": 50, "198.51.100.3": 100 });
  });

  it("a down verdict after the restart keeps 0; a PATCH ends the adoption", async () => {
    const first = await firstRun();
    first.health.push("web/a", "down");
    first.health.push("web/b", "down");
    await settle();
    const second = rig({ ipvs: first.ipvs, store: first.store });
    await second.core.start();
    second.health.push("web/b", "down");
    await settle();
    expect(second.ops).toEqual([]);
    await second.core.updateBackend("web", "a", { weight: 30 });
    expect((await first.ipvs.destinations(VIP)).find((d) => d.address === "198.51.100.1")!.weight).toBe(30);
  });

  it("without a health checker the configured weight applies at once", async () => {
    const first = await firstRun();
    first.health.push("web/a", "down");
    await settle();
    const second = rig({ ipvs: first.ipvs, store: first.store, checks: false });
    const report = await second.core.start({ log: () => {} });
    expect(report.reconcile.operations.map((o) => o.reason)).toEqual(["weight 0, want 50"]);
  });

  it("a record that no longer validates is skipped with its backends, and its kernel entry left alone", async () => {
    const first = await firstRun();
    const before = await save(first.ipvs);
    const lines: string[] = [];
    // This gorb does not know the scheduler "rr": dns cannot be rebuilt.
    const second = rig({ ipvs: first.ipvs, store: first.store, core: { schedulers: ["wrr"] } });
    const report = await second.core.start({ log: (l) => lines.push(l) });
    expect(report.skipped).toHaveLength(1);
    expect(report.skipped[0]).toContain("service [dns]");
    expect(lines[0]).toContain("WARNING");
    expect(second.core.listServices()).toEqual(["web"]);
    expect(report.reconcile.foreign).toEqual(["udp:192.0.2.2:53"]);
    expect(await save(first.ipvs)).toEqual(before);
    expect((await first.store.load()).map((s) => s.id).sort()).toEqual(["dns", "web"]);
  });

  it("a service whose host is the default interface keeps its recorded VIP", async () => {
    const first = rig();
    await first.core.createService("web", { port: 80 });
    const second = rig({ ipvs: first.ipvs, store: first.store, core: { defaultHost: "192.0.2.200" } });
    await second.core.start();
    expect(second.ops).toEqual([]);
    expect(second.core.snapshot.services.get("web")!.service.key).toEqual(VIP);
  });
});

describe("keptWeights (table)", () => {
  const service = (weights: Record<string, number>): DesiredService =>
    ({
      id: "web",
      service: { key: VIP },
      backends: new Map(Object.entries(weights).map(([address, w]) => [address, { id: address, healthId: `web/${address}`, destination: dest(address, w) }])),
    }) as unknown as DesiredService;
  const table = (weights: Record<string, number>) => [{ service: { key: VIP } as never, destinations: Object.entries(weights).map(([a, w]) => dest(a, w)) }];
  const cases: [string, Record<string, number>, Record<string, number>, Record<string, number>][] = [
    ["kernel below configured: kept", { "10.0.0.1": 100 }, { "10.0.0.1": 0 }, { "web/10.0.0.1": 0 }],
    ["partial (recovering): kept", { "10.0.0.1": 100 }, { "10.0.0.1": 37 }, { "web/10.0.0.1": 37 }],
    ["equal: nothing to keep", { "10.0.0.1": 100 }, { "10.0.0.1": 100 }, {}],
    ["above configured (ipvsadm -e): configured wins", { "10.0.0.1": 100 }, { "10.0.0.1": 500 }, {}],
    ["not in the kernel: configured", { "10.0.0.1": 100 }, {}, {}],
    ["drained (configured 0)", { "10.0.0.1": 0 }, { "10.0.0.1": 0 }, {}],
  ];
  for (const [name, configured, kernel, kept] of cases) {
    it(name, () => {
      expect(Object.fromEntries(keptWeights([service(configured)], table(kernel)))).toEqual(kept);
    });
  }
  it("a service the kernel lacks keeps nothing", () => {
    expect(keptWeights([service({ "10.0.0.1": 100 })], []).size).toBe(0);
  });
});

describe("clean-up", () => {
  it("removes gorb's services and nothing else; desired state stays stored", async () => {
    const first = await firstRun();
    await first.ipvs.addService({ key: FOREIGN, scheduler: "rr", flags: [], timeout: 0, netmask: 32, persistenceEngine: "" });
    await first.ipvs.deleteService({ family: "inet", protocol: "udp", address: "192.0.2.2", port: 53 });
    const result = await first.core.cleanup();
    expect(result).toEqual({ removed: ["web"], absent: ["dns"], failed: [] });
    expect(await save(first.ipvs)).toEqual(["-A tcp 203.0.113.9:443 rr t0 m32 []"]);
    expect((await first.store.load()).map((s) => s.id)).toEqual(["web", "dns"]);
  });
});

void MemoryStateStore;
