import { describe, expect, it } from "bun:test";
import { Core, healthId } from "../../../src/core/core.ts";
import { ConflictError, NotFoundError, ValidationError } from "../../../src/core/errors.ts";
import type { CoreEvent } from "../../../src/core/events.ts";
import type { BackendHealth, HealthChecker, HealthStatus, HealthUpdate } from "../../../src/core/health.ts";
import { healthCheckerWith } from "../../../src/core/pulse-checker.ts";
import { MemoryStateStore } from "../../../src/core/store.ts";
import { Errno, IpvsError } from "../../../src/ipvs/errors.ts";
import { MemoryIpvs } from "../../../src/ipvs/memory-ipvs.ts";
import type { CheckResult } from "../../../src/pulse/types.ts";

/** A health checker driven by hand: set a backend's status and weight, then push an update. */
class FakeHealth implements HealthChecker {
  onUpdate!: (u: HealthUpdate) => void;
  added = new Map<string, { generation: number; target: { host: string; port: number } }>();
  weights = new Map<string, number>();
  statuses = new Map<string, HealthStatus>();
  private generation = 0;
  normalize(input: unknown) {
    return { spec: input ?? {}, echo: { type: "tcp", interval: "1m", args: null } };
  }
  add(id: string, target: { host: string; port: number }) {
    this.added.set(id, { generation: ++this.generation, target });
    return this.generation;
  }
  remove(id: string) {
    this.added.delete(id);
  }
  metrics(id: string): BackendHealth {
    const status = this.statuses.get(id) ?? "unknown";
    return { status, health: status === "up" ? 1 : status === "down" ? 0 : null, uptime: 0 };
  }
  effectiveWeight(id: string, configured: number) {
    return this.weights.get(id) ?? configured;
  }
  applyAllDown(policy: string, backends: readonly { configured: number; effective: number }[]) {
    const allDown = backends.length > 0 && backends.every((b) => b.effective === 0);
    return allDown && policy === "one" ? backends.map(() => 1) : backends.map((b) => b.effective);
  }
  async stop() {}
  /** Sets the state of a backend and reports it, with the generation it was added under (or the one given). */
  push(id: string, status: HealthStatus, weight: number, generation = this.added.get(id)?.generation ?? 0) {
    const changed = this.statuses.get(id) !== status;
    this.statuses.set(id, status);
    this.weights.set(id, weight);
    this.onUpdate({ id, generation, status, health: status === "up" ? 1 : 0, changed });
  }
}

async function make(options: { ipvs?: MemoryIpvs; store?: MemoryStateStore } = {}) {
  const health = new FakeHealth();
  const ipvs = options.ipvs ?? new MemoryIpvs();
  const core = new Core({
    ipvs,
    ...(options.store ? { store: options.store } : {}),
    defaultHost: "192.0.2.1",
    resolve: async () => { throw new Error("no DNS in tests"); },
    health: (onUpdate) => ((health.onUpdate = onUpdate), health),
  });
  const events: CoreEvent[] = [];
  core.events.on((e) => events.push(e));
  await core.createService("web", { port: 80 });
  const dest = async (address: string) => (await ipvs.destinations((await ipvs.services())[0]!.key)).find((d) => d.address === address);
  const settle = () => Bun.sleep(1);
  return { core, ipvs, health, events, dest, settle };
}

describe("commands", () => {
  it("emits an event per committed change and none for refused ones", async () => {
    const { core, events, ipvs } = await make();
    await core.createBackend("web", "a", { host: "10.0.0.1", port: 80 });
    await core.setWeight("web", "a", 5);
    ipvs.failNext(1, Errno.ENOMEM);
    await expect(core.setWeight("web", "a", 6)).rejects.toBeInstanceOf(IpvsError);
    await core.updateService("web", { method: "rr" });
    await core.deleteBackend("web", "a");
    await core.deleteService("web");
    expect(events.map((e) => e.type)).toEqual([
      "service-created",
      "backend-created",
      "backend-weight",
      "backend-updated",
      "service-updated",
      "backend-deleted",
      "service-deleted",
    ]);
  });

  it("throws typed errors with HTTP statuses", async () => {
    const { core } = await make();
    await expect(core.createService("web", { port: 80 })).rejects.toBeInstanceOf(ConflictError);
    await expect(core.deleteService("nope")).rejects.toBeInstanceOf(NotFoundError);
    const error = await core.createService("x", { port: 0 }).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ status: 400, code: "VALIDATION", field: "port" });
  });

  it("validates input from any source, not only the API's schema", async () => {
    const { core } = await make();
    await expect(core.createService("x", { port: "80" as never })).rejects.toMatchObject({ field: "port" });
    await expect(core.createService("x", { port: 81, persistent: "yes" as never })).rejects.toMatchObject({ field: "persistent" });
    await expect(core.createBackend("web", "a", { host: "10.0.0.1", port: 80, weight: 1.5 })).rejects.toMatchObject({ field: "weight" });
    await expect(core.createService("x", { port: 82, all_down: "maybe" })).rejects.toMatchObject({ field: "all_down" });
  });

  it("drops the persisted intent and reports a failed rollback", async () => {
    const store = new MemoryStateStore();
    const { core, ipvs, events, dest } = await make({ store });
    await core.createBackend("web", "a", { host: "10.0.0.1", port: 80 });
    // Move a: delete 10.0.0.1 succeeds, add 10.0.0.2 fails, and the undo (re-add 10.0.0.1) fails too.
    ipvs.failNext(2, Errno.ENOMEM);
    const original = ipvs.apply.bind(ipvs);
    let calls = 0;
    ipvs.apply = async (ops) => (++calls === 2 ? ops.map(() => ({ ok: false as const, error: new IpvsError(Errno.EIO) })) : original(ops));
    await expect(core.updateBackend("web", "a", { host: "10.0.0.2" })).rejects.toBeInstanceOf(IpvsError);
    expect(events.at(-1)).toMatchObject({ type: "rollback-failed", service: "web" });
    expect((await store.load())[0]!.backends[0]!.options.host).toBe("10.0.0.1");
    expect(core.snapshot.services.get("web")!.backends.get("a")!.options.host).toBe("10.0.0.1");
    expect(await dest("10.0.0.1")).toBeUndefined(); // the kernel lost it: reconcile's job
  });
});

describe("health", () => {
  it("starts and stops checks with the backend", async () => {
    const { core, health } = await make();
    await core.createBackend("web", "a", { host: "10.0.0.1", port: 8080 });
    expect(health.added.get(healthId("web", "a"))?.target).toEqual({ host: "10.0.0.1", port: 8080 });
    await core.updateBackend("web", "a", { weight: 3 });
    expect(health.added.get(healthId("web", "a"))?.generation).toBe(1); // a weight change keeps the checks
    await core.updateBackend("web", "a", { port: 8081 });
    expect(health.added.get(healthId("web", "a"))).toEqual({ generation: 2, target: { host: "10.0.0.1", port: 8081 } });
    await core.deleteService("web");
    expect(health.added.size).toBe(0);
  });

  it("applies one update-destination when the effective weight changes", async () => {
    const { core, ipvs, health, dest, settle, events } = await make();
    await core.createBackend("web", "a", { host: "10.0.0.1", port: 80 });
    await core.createBackend("web", "b", { host: "10.0.0.2", port: 80 });
    const applied: string[][] = [];
    const original = ipvs.apply.bind(ipvs);
    ipvs.apply = (ops) => (applied.push(ops.map((o) => o.op)), original(ops));
    health.push(healthId("web", "a"), "down", 0);
    await settle();
    expect(applied).toEqual([["update-destination"]]);
    expect((await dest("10.0.0.1"))!.weight).toBe(0);
    expect((await dest("10.0.0.2"))!.weight).toBe(100);
    const view = await core.getBackend("web", "a");
    expect(view.weight).toBe(0);
    expect(view.backend.options.weight).toBe(100);
    expect(view.health.status).toBe("down");
    expect(events.filter((e) => e.type === "backend-status" || e.type === "backend-weight")).toEqual([
      { type: "backend-status", service: "web", backend: "a", status: "down", health: 0 },
      { type: "backend-weight", service: "web", backend: "a", weight: 0 },
    ]);
    health.push(healthId("web", "a"), "up", 50);
    await settle();
    expect((await dest("10.0.0.1"))!.weight).toBe(50);
    expect(applied).toHaveLength(2);
  });

  it("does nothing when the weight did not move", async () => {
    const { core, ipvs, health, settle } = await make();
    await core.createBackend("web", "a", { host: "10.0.0.1", port: 80 });
    let calls = 0;
    const original = ipvs.apply.bind(ipvs);
    ipvs.apply = (ops) => (calls++, original(ops));
    health.push(healthId("web", "a"), "up", 100);
    health.push(healthId("web", "a"), "up", 100);
    await settle();
    expect(calls).toBe(0);
  });

  it("ignores late results for removed or re-created backends", async () => {
    const { core, health, dest, settle } = await make();
    await core.createBackend("web", "a", { host: "10.0.0.1", port: 80 });
    const old = health.added.get(healthId("web", "a"))!.generation;
    await core.deleteBackend("web", "a");
    health.push(healthId("web", "a"), "down", 0, old);
    await core.createBackend("web", "a", { host: "10.0.0.1", port: 80 });
    health.push(healthId("web", "a"), "down", 0, old);
    await settle();
    expect((await dest("10.0.0.1"))!.weight).toBe(100);
  });

  it("keeps a PATCHed weight apart from the effective one", async () => {
    const { core, health, dest, settle } = await make();
    await core.createBackend("web", "a", { host: "10.0.0.1", port: 80 });
    health.push(healthId("web", "a"), "down", 0);
    await settle();
    await core.setWeight("web", "a", 30); // still down: the kernel keeps 0
    expect((await dest("10.0.0.1"))!.weight).toBe(0);
    health.weights.delete(healthId("web", "a"));
    health.push(healthId("web", "a"), "up", 30);
    await settle();
    expect((await dest("10.0.0.1"))!.weight).toBe(30);
  });

  it("applies the service's all-down policy", async () => {
    const { core, health, dest, settle } = await make();
    await core.updateService("web", { all_down: "one" });
    await core.createBackend("web", "a", { host: "10.0.0.1", port: 80 });
    await core.createBackend("web", "b", { host: "10.0.0.2", port: 80 });
    health.push(healthId("web", "a"), "down", 0);
    await settle();
    expect([(await dest("10.0.0.1"))!.weight, (await dest("10.0.0.2"))!.weight]).toEqual([0, 100]);
    health.push(healthId("web", "b"), "down", 0);
    await settle();
    expect([(await dest("10.0.0.1"))!.weight, (await dest("10.0.0.2"))!.weight]).toEqual([1, 1]);
  });

  it("averages the health of checked backends only", async () => {
    const { core, health } = await make();
    expect((await core.getService("web")).health).toBe(1);
    await core.createBackend("web", "a", { host: "10.0.0.1", port: 80 });
    await core.createBackend("web", "b", { host: "10.0.0.2", port: 80 });
    await core.createBackend("web", "c", { host: "10.0.0.3", port: 80 });
    expect((await core.getService("web")).health).toBe(1);
    health.push(healthId("web", "a"), "up", 100);
    health.push(healthId("web", "b"), "down", 0);
    expect((await core.getService("web")).health).toBe(0.5);
    await core.deleteBackend("web", "b");
    expect((await core.getService("web")).health).toBe(1);
    health.push(healthId("web", "c"), "down", 0);
    expect((await core.getService("web")).health).toBe(0.5);
    await core.updateBackend("web", "c", { port: 81 }); // re-checked from scratch: unknown again
    expect((await core.getService("web")).health).toBe(1);
  });
});

describe("with the real pulse", () => {
  it("takes a failing backend's weight to 0 and back", async () => {
    let result: CheckResult = { ok: false, latencyMs: 1, error: "refused" };
    const ipvs = new MemoryIpvs();
    const core = new Core({
      ipvs,
      defaultHost: "192.0.2.1",
      health: healthCheckerWith({ random: () => 0, checkers: { tcp: async () => result } }),
    });
    try {
      await core.createService("web", { port: 80 });
      await core.createBackend("web", "a", { host: "10.0.0.1", port: 80, pulse: { type: "tcp", interval: "20ms", window: 1 } });
      const weight = async () => (await ipvs.destinations((await ipvs.services())[0]!.key))[0]!.weight;
      expect(await weight()).toBe(100);
      for (let i = 0; i < 100 && (await weight()) !== 0; i++) await Bun.sleep(5);
      expect(await weight()).toBe(0);
      expect((await core.getBackend("web", "a")).health.status).toBe("down");
      result = { ok: true, latencyMs: 1 };
      for (let i = 0; i < 100 && (await weight()) !== 100; i++) await Bun.sleep(5);
      expect(await weight()).toBe(100);
      expect((await core.getBackend("web", "a")).health.status).toBe("up");
    } finally {
      await core.stop();
    }
  });
});
