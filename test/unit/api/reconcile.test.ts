import { describe, expect, it } from "bun:test";
import { createApp } from "../../../src/api/app.ts";
import { Reconciler } from "../../../src/core/reconciler.ts";
import { MemoryStateStore } from "../../../src/core/store.ts";
import { VipManager } from "../../../src/core/vips.ts";
import { MemoryInterfaceAddresses } from "../../../src/net/memory-interfaces.ts";
import { setup, VIP } from "./helpers.ts";

const KEY = { family: "inet", protocol: "tcp", address: VIP, port: 80 } as const;

async function withDrift() {
  const t = setup();
  await t.core.start({ log: () => {} });
  expect((await t.req("PUT", "/service/web", { port: 80 })).status).toBe(200);
  expect((await t.req("PUT", "/service/web/a", { host: "198.51.100.1", port: 8080, weight: 50, pulse: { type: "none" } })).status).toBe(200);
  await t.ipvs.updateDestination(KEY, { family: "inet", address: "198.51.100.1", port: 8080, forward: "masq", weight: 5, upperThreshold: 0, lowerThreshold: 0 });
  await t.ipvs.addService({ key: { ...KEY, address: "203.0.113.1" }, scheduler: "rr", flags: [], timeout: 0, netmask: 32, persistenceEngine: "" });
  return t;
}

const weight = async (t: Awaited<ReturnType<typeof withDrift>>) => (await t.ipvs.destinations(KEY))[0]!.weight;

describe("/reconcile", () => {
  it("GET shows the difference and changes nothing", async () => {
    const t = await withDrift();
    const res = await t.req("GET", "/reconcile");
    expect(res.status).toBe(200);
    expect(res.text).toContain('\n\t"dry_run": true');
    expect(res.json).toMatchObject({
      dry_run: true,
      trigger: "api",
      services: 1,
      repaired: 0,
      failed: 0,
      operations: [{ op: "update-destination", service: "web", key: "tcp:192.0.2.1:80", backend: "a", destination: "198.51.100.1:8080", reason: "weight 5, want 50" }],
      foreign: ["tcp:203.0.113.1:80"],
    });
    expect(res.json.operations[0].ok).toBeUndefined();
    expect(await weight(t)).toBe(5);
  });

  it("POST ?dry_run=true only reports; POST repairs and reports each operation", async () => {
    const t = await withDrift();
    const dry = await t.req("POST", "/reconcile?dry_run=true");
    expect(dry.json).toMatchObject({ dry_run: true, repaired: 0 });
    expect(await weight(t)).toBe(5);
    const res = await t.req("POST", "/reconcile");
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ dry_run: false, repaired: 1, failed: 0, operations: [{ op: "update-destination", backend: "a", reason: "weight 5, want 50", ok: true }] });
    expect(await weight(t)).toBe(50);
    expect((await t.req("POST", "/reconcile")).json).toMatchObject({ repaired: 0, operations: [] });
  });

  it("other methods are 405 with Allow", async () => {
    const t = setup();
    const res = await t.req("DELETE", "/reconcile");
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD, POST");
    expect((await t.req("PUT", "/status", {})).status).toBe(405);
  });
});

describe("/status", () => {
  it("shows where state is kept, what start-up did and the reconcile counters", async () => {
    const t = await withDrift();
    const reconciler = new Reconciler({ reconcile: (o) => t.core.reconcile({ ...o, log: () => {} }) }, 30_000);
    const startup = await t.core.reconcile({ dryRun: true });
    const app = createApp({
      core: t.core,
      reconciler,
      daemon: {
        version: "9.9.9",
        stateFile: "/var/lib/gorb/state.db",
        startedAt: "2025-01-01T00:00:00.000Z",
        startup: () => ({ services: 1, backends: 1, skipped: [], flushed: false, adopted: 1, keptWeights: 0, reconcile: startup, durationMs: 2 }),
      },
    });
    const post = await app.handle(new Request("http://localhost/reconcile", { method: "POST" }));
    expect(((await post.json()) as { repaired: number }).repaired).toBe(1);
    const status = (await (await app.handle(new Request("http://localhost/status"))).json()) as Record<string, unknown>;
    expect(status).toMatchObject({
      version: "9.9.9",
      ipvs: "memory",
      state_file: "/var/lib/gorb/state.db",
      services: 1,
      backends: 1,
      startup: { restored_services: 1, restored_backends: 1, adopted_services: 1, repaired: 0, failed: 0 },
      reconcile: { interval_ms: 30_000, runs: 1, repaired: 1, failed: 0, errors: 0, last_repaired: 1, last_error: null },
    });
    await reconciler.stop();
  });

  it("works without a daemon or reconciler (tests, embedding)", async () => {
    const t = setup();
    const res = await t.req("GET", "/status");
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ ipvs: "memory", state_file: null, startup: null, services: 0, reconcile: { runs: 0 } });
  });
});

describe("-vipi in the API", () => {
  function withVips() {
    const interfaces = new MemoryInterfaceAddresses(["eth1"]);
    const store = new MemoryStateStore();
    const t = setup({ store, vips: new VipManager({ interfaces, ifname: "eth1", store, log: () => {} }) });
    return { ...t, interfaces };
  }

  it("GET /status lists the VIPs, their services and whether gorb added them", async () => {
    const t = withVips();
    expect((await t.req("PUT", "/service/web", { host: "192.0.2.10", port: 80 })).status).toBe(200);
    expect((await t.req("PUT", "/service/web6", { host: "2001:db8::10", port: 443 })).status).toBe(200);
    const res = await t.req("GET", "/status");
    expect(res.json.vip_interface).toBe("eth1");
    expect(res.json.vips).toEqual([
      { vip: "192.0.2.10/32", services: ["web"], owned: true },
      { vip: "2001:db8::10/128", services: ["web6"], owned: true },
    ]);
    expect((await setup().req("GET", "/status")).json).toMatchObject({ vip_interface: null, vips: [] });
  });

  it("a VIP the kernel refuses: PUT answers 500 naming the VIP and the interface, and nothing is created", async () => {
    const t = withVips();
    t.interfaces.deleteInterface("eth1");
    const res = await t.req("PUT", "/service/web", { host: "192.0.2.10", port: 80 });
    expect(res.status).toBe(500);
    expect(res.json.error).toBe("error while adding the VIP 192.0.2.10/32 to eth1: no such interface eth1");
    expect((await t.req("GET", "/service")).json).toEqual([]);
    expect(await t.ipvs.table()).toEqual([]);
  });

  it("GET /reconcile shows a missing VIP; POST puts it back and counts it", async () => {
    const t = withVips();
    expect((await t.req("PUT", "/service/web", { host: "192.0.2.10", port: 80 })).status).toBe(200);
    await t.interfaces.remove("eth1", "192.0.2.10", 32);
    const dry = await t.req("GET", "/reconcile");
    expect(dry.json.vips).toEqual([{ op: "add-vip", vip: "192.0.2.10/32", interface: "eth1", services: ["web"], reason: "VIP missing from the interface" }]);
    const done = await t.req("POST", "/reconcile");
    expect(done.json).toMatchObject({ repaired: 1, failed: 0, vips: [{ op: "add-vip", ok: true }] });
    expect((await t.interfaces.list("eth1")).map((a) => a.address)).toEqual(["192.0.2.10"]);
  });
});

