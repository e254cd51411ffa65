import { describe, expect, it } from "bun:test";
import { Reconciler } from "../../../src/core/reconciler.ts";
import { logLine } from "../../../src/core/reconcile.ts";
import { Errno } from "../../../src/ipvs/errors.ts";
import type { OperationResult } from "../../../src/ipvs/ipvs.ts";
import type { IpvsOperation } from "../../../src/ipvs/types.ts";
import { rig, save, settle } from "./helpers.ts";

const VIP = { family: "inet", protocol: "tcp", address: "192.0.2.1", port: 80 } as const;
const FOREIGN = { family: "inet", protocol: "tcp", address: "203.0.113.9", port: 443 } as const;
const dest = (address: string, weight: number, port = 8080) =>
  ({ family: "inet", address, port, forward: "masq", weight, upperThreshold: 0, lowerThreshold: 0 }) as const;
const quiet = { log: () => {} };

async function running() {
  const r = rig();
  await r.core.start(quiet);
  await r.core.createService("web", { port: 80, method: "wrr" });
  await r.core.createBackend("web", "a", { host: "198.51.100.1", port: 8080, weight: 50 });
  await r.core.createBackend("web", "b", { host: "198.51.100.2", port: 8080 });
  await r.core.createService("mark", { fwmark: 7, method: "rr", persistent: true });
  await r.core.createBackend("mark", "m", { host: "198.51.100.3", port: 0, method: "dr" });
  r.ops.length = 0;
  return { ...r, clean: await save(r.ipvs) };
}

describe("reconcile against drift injected into MemoryIpvs", () => {
  it("no drift: nothing to do, nothing applied", async () => {
    const r = await running();
    const result = await r.core.reconcile(quiet);
    expect(result).toMatchObject({ dryRun: false, services: 2, operations: [], repaired: 0, failed: 0, foreign: [] });
    expect(r.ops).toEqual([]);
  });

  it("repairs `ipvsadm -C`: every service and destination back, one log line each", async () => {
    const r = await running();
    await r.ipvs.flush();
    const lines: string[] = [];
    const result = await r.core.reconcile({ trigger: "periodic", log: (l) => lines.push(l) });
    expect(await save(r.ipvs)).toEqual(r.clean);
    expect(result.repaired).toBe(5);
    expect(result.operations.map((o) => [o.op, o.service, o.backend, o.reason, o.ok])).toEqual([
      ["add-service", "web", undefined, "service missing from the kernel", true],
      ["add-destination", "web", "a", "service missing from the kernel", true],
      ["add-destination", "web", "b", "service missing from the kernel", true],
      ["add-service", "mark", undefined, "service missing from the kernel", true],
      ["add-destination", "mark", "m", "service missing from the kernel", true],
    ]);
    expect(lines).toHaveLength(5);
    expect(lines[1]).toBe("gorb: reconcile (periodic): add-destination service [web] (tcp:192.0.2.1:80) backend [a] 198.51.100.1:8080: service missing from the kernel: repaired");
  });

  it("repairs a deleted destination, a changed weight, a changed scheduler and a stray destination", async () => {
    const r = await running();
    await r.ipvs.deleteDestination(VIP, dest("198.51.100.2", 0));
    await r.ipvs.updateDestination(VIP, dest("198.51.100.1", 5));
    await r.ipvs.updateService({ key: { family: "inet", fwmark: 7 }, scheduler: "wlc", flags: [], timeout: 300, netmask: 32, persistenceEngine: "" });
    await r.ipvs.addDestination(VIP, dest("198.51.100.66", 3));
    r.ops.length = 0;
    const dry = await r.core.reconcile({ dryRun: true });
    const result = await r.core.reconcile(quiet);
    const summary = result.operations.map((o) => `${o.op} ${o.service}${o.backend ? `/${o.backend}` : ""} ${o.destination ?? o.key}: ${o.reason}`);
    expect(summary).toEqual([
      "delete-destination web 198.51.100.66:8080: destination not in the desired state",
      "update-destination web/a 198.51.100.1:8080: weight 5, want 50",
      "add-destination web/b 198.51.100.2:8080: destination missing from the kernel",
      "update-service mark fwmark:inet:7: scheduler wlc, want rr",
    ]);
    expect(dry.operations.map((o) => o.reason)).toEqual(result.operations.map((o) => o.reason));
    expect(dry.operations.every((o) => o.ok === undefined)).toBe(true);
    expect(r.ops.map((o) => o.op)).toEqual(["delete-destination", "update-destination", "add-destination", "update-service"]);
    expect(await save(r.ipvs)).toEqual(r.clean);
  });

  it("a dry run changes nothing", async () => {
    const r = await running();
    await r.ipvs.flush();
    r.ops.length = 0;
    const result = await r.core.reconcile({ dryRun: true });
    expect(result).toMatchObject({ dryRun: true, repaired: 0, failed: 0 });
    expect(result.operations).toHaveLength(5);
    expect(await save(r.ipvs)).toEqual([]);
    expect(r.ops).toEqual([]);
  });

  it("leaves foreign services alone and lists them", async () => {
    const r = await running();
    await r.ipvs.addService({ key: FOREIGN, scheduler: "rr", flags: [], timeout: 0, netmask: 32, persistenceEngine: "" });
    await r.ipvs.addDestination(FOREIGN, dest("198.51.100.9", 1, 443));
    r.ops.length = 0;
    const result = await r.core.reconcile(quiet);
    expect(result.operations).toEqual([]);
    expect(result.foreign).toEqual(["tcp:203.0.113.9:443"]);
    expect(r.ops).toEqual([]);
  });

  it("repairs with the effective weight (a down backend stays at 0)", async () => {
    const r = await running();
    r.health.push("web/a", "down");
    await settle();
    await r.ipvs.updateDestination(VIP, dest("198.51.100.1", 50));
    const result = await r.core.reconcile(quiet);
    expect(result.operations.map((o) => o.reason)).toEqual(["weight 50, want 0"]);
    expect((await r.ipvs.destinations(VIP)).find((d) => d.address === "198.51.100.1")!.weight).toBe(0);
  });

  it("a refused repair is reported, counted and retried by the next run", async () => {
    const r = await running();
    await r.ipvs.flush();
    r.ipvs.failNext(2, Errno.ENOMEM);
    const lines: string[] = [];
    const first = await r.core.reconcile({ log: (l) => lines.push(l) });
    expect(first.failed).toBe(1);
    expect(first.operations.find((o) => !o.ok)).toMatchObject({ op: "add-destination", backend: "a", ok: false, error: "the kernel is out of memory" });
    expect(lines.some((l) => l.endsWith("FAILED: the kernel is out of memory"))).toBe(true);
    const second = await r.core.reconcile(quiet);
    expect(second.operations.map((o) => [o.op, o.backend])).toEqual([["add-destination", "a"]]);
    expect(await save(r.ipvs)).toEqual(r.clean);
    // API writes plan against what the kernel really has after the partial failure.
    await r.core.setWeight("web", "a", 9);
    expect((await r.ipvs.destinations(VIP)).find((d) => d.address === "198.51.100.1")!.weight).toBe(9);
  });

  it("does not fight a command in flight: it waits for the service's lock and re-reads the kernel", async () => {
    const r = await running();
    // Hold the command between "applied to the kernel" and "committed".
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const original = r.ipvs.apply;
    let held = false;
    r.ipvs.apply = async (ops: readonly IpvsOperation[]): Promise<OperationResult[]> => {
      const results = await original(ops);
      if (!held && ops.some((o) => o.op === "update-destination")) {
        held = true;
        await gate;
      }
      return results;
    };
    const command = r.core.setWeight("web", "a", 7);
    await Bun.sleep(1);
    // The kernel has 7, the committed state still 50: a naive reconcile would put 50 back.
    const reconciling = r.core.reconcile(quiet);
    await Bun.sleep(1);
    release();
    await command;
    const result = await reconciling;
    expect(result.operations).toEqual([]);
    expect((await r.ipvs.destinations(VIP)).find((d) => d.address === "198.51.100.1")!.weight).toBe(7);
  });

  it("skips a service deleted while it waited (a delete of what the kernel already lost succeeds)", async () => {
    const r = await running();
    await r.ipvs.flush();
    const deleting = r.core.deleteService("web");
    const result = await r.core.reconcile(quiet);
    await deleting;
    expect(result.operations.map((o) => o.service)).toEqual(["mark", "mark"]);
    expect((await save(r.ipvs)).some((l) => l.includes("192.0.2.1"))).toBe(false);
  });

  it("formats one log line per operation", () => {
    expect(logLine("api", { op: "update-destination", service: "web", key: "tcp:192.0.2.1:80", backend: "a", destination: "198.51.100.1:8080", reason: "weight 5, want 50" })).toBe(
      "gorb: reconcile (api): update-destination service [web] (tcp:192.0.2.1:80) backend [a] 198.51.100.1:8080: weight 5, want 50: would repair",
    );
  });
});

describe("Reconciler (periodic and on demand)", () => {
  it("repairs drift within one interval, counts, and stops cleanly", async () => {
    const r = await running();
    const reconciler = new Reconciler({ reconcile: (o) => r.core.reconcile({ ...o, log: () => {} }) }, 20);
    reconciler.start();
    await r.ipvs.flush();
    const deadline = Date.now() + 2000;
    while ((await save(r.ipvs)).length === 0 && Date.now() < deadline) await Bun.sleep(5);
    expect(await save(r.ipvs)).toEqual(r.clean);
    await Bun.sleep(50);
    const status = reconciler.status();
    expect(status.runs).toBeGreaterThanOrEqual(2);
    expect(status.repairs).toBe(5);
    expect(status.last?.trigger).toBe("periodic");
    await reconciler.stop();
    const runs = reconciler.status().runs;
    await r.ipvs.flush();
    await Bun.sleep(60);
    expect(reconciler.status().runs).toBe(runs);
    expect(await save(r.ipvs)).toEqual([]);
  });

  it("runs repairs one at a time; dry runs never wait; interval 0 never runs", async () => {
    let inFlight = 0;
    let most = 0;
    const calls: string[] = [];
    const target = {
      async reconcile(o: { dryRun?: boolean }) {
        calls.push(o.dryRun ? "dry" : "repair");
        if (!o.dryRun) {
          most = Math.max(most, ++inFlight);
          await Bun.sleep(10);
          inFlight--;
        }
        return { dryRun: !!o.dryRun, trigger: "api", at: "", durationMs: 0, services: 0, operations: [], repaired: 1, failed: 0, foreign: [] } as const;
      },
    };
    const reconciler = new Reconciler({ reconcile: (o) => target.reconcile(o).then((x) => ({ ...x, operations: [], foreign: [] })) }, 0);
    reconciler.start();
    await Promise.all([reconciler.run(), reconciler.run(), reconciler.run({ dryRun: true })]);
    expect(most).toBe(1);
    expect(calls).toContain("dry");
    expect(reconciler.status()).toMatchObject({ intervalMs: 0, runs: 2, repairs: 2 });
    await reconciler.stop();
  });

  it("counts a run that could not read the kernel", async () => {
    const reconciler = new Reconciler({ reconcile: async () => Promise.reject(new Error("netlink down")) }, 0);
    await expect(reconciler.run()).rejects.toThrow("netlink down");
    expect(reconciler.status()).toMatchObject({ errors: 1, lastError: "netlink down" });
  });

  it("backs off while repairs keep failing (doubling up to 16× the interval), and returns to the interval after a clean run", async () => {
    let failed = 1;
    let fail = false;
    const result = () => ({ dryRun: false, trigger: "api" as const, at: "", durationMs: 0, services: 1, operations: [], repaired: 0, failed, foreign: [] });
    const reconciler = new Reconciler({ reconcile: async () => (fail ? Promise.reject(new Error("netlink down")) : result()) }, 1000);
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      await reconciler.run();
      delays.push(reconciler.status().delayMs);
    }
    expect(delays).toEqual([2000, 4000, 8000, 16000, 16000, 16000]);
    failed = 0;
    await reconciler.run();
    expect(reconciler.status().delayMs).toBe(1000);
    fail = true;
    await expect(reconciler.run()).rejects.toThrow("netlink down");
    expect(reconciler.status().delayMs).toBe(2000);
  });
});
