import { describe, expect, it } from "bun:test";
import { Pulse, type PulseUpdate } from "../../../src/pulse/pulse.ts";
import { normalizePulseSpec, type PulseSpecInput } from "../../../src/pulse/spec.ts";
import type { CheckResult, CheckTarget, Checker } from "../../../src/pulse/types.ts";
import { FakeClock, settle } from "./fake-clock.ts";

interface Call {
  readonly target: CheckTarget;
  readonly at: number;
  readonly signal: AbortSignal;
  readonly resolve: (r: CheckResult) => void;
}

/** A tcp checker the test drives: each call waits until resolved (or aborted). */
class FakeChecker {
  readonly calls: Call[] = [];
  /** When set, calls resolve by themselves with this result after `delayMs` of fake time. */
  auto: ((target: CheckTarget) => CheckResult) | undefined;
  constructor(private readonly clock: FakeClock) {}

  readonly check: Checker = (target, _spec, signal) =>
    new Promise<CheckResult>((resolve) => {
      const call = { target, at: this.clock.now(), signal, resolve };
      this.calls.push(call);
      signal.addEventListener("abort", () => resolve({ ok: false, latencyMs: 0, error: String((signal.reason as Error).name) }));
      if (this.auto) resolve(this.auto(target));
    });

  callsFor(host: string): Call[] {
    return this.calls.filter((c) => c.target.host === host);
  }
}

function setup(random = () => 0.5) {
  const clock = new FakeClock(0);
  const checker = new FakeChecker(clock);
  const updates: PulseUpdate[] = [];
  const pulse = new Pulse({ clock, random, onUpdate: (u) => updates.push(u), checkers: { tcp: checker.check } });
  return { clock, checker, updates, pulse };
}

const spec = (input: PulseSpecInput = {}) => normalizePulseSpec({ interval: "10s", ...input });
const UP: CheckResult = { ok: true, latencyMs: 1 };
const DOWN: CheckResult = { ok: false, latencyMs: 1, error: "refused" };

describe("Pulse scheduling", () => {
  it("runs the first check at the random point within one interval", async () => {
    const { clock, checker, pulse } = setup(() => 0.25);
    pulse.add("a", { host: "10.0.0.1", port: 80 }, spec());
    await clock.advance(2_499);
    expect(checker.calls).toHaveLength(0);
    await clock.advance(1);
    expect(checker.calls.map((c) => c.at)).toEqual([2_500]);
  });

  it("spreads first checks of many backends over one interval, all on a single timer", async () => {
    const { clock, checker, pulse } = setup(Math.random);
    for (let i = 0; i < 500; i++) pulse.add(`b${i}`, { host: `10.0.${i >> 8}.${i & 255}`, port: 80 }, spec());
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(10_000);
    expect(checker.calls).toHaveLength(500);
    const times = checker.calls.map((c) => c.at);
    expect(Math.max(...times)).toBeLessThan(10_000);
    expect(new Set(times.map((t) => Math.floor(t / 1_000))).size).toBe(10); // every second of the interval used
    expect(clock.pendingTimers).toBe(1);
  });

  it("runs the next check one interval after the previous one completed", async () => {
    const { clock, checker, updates, pulse } = setup(() => 0);
    pulse.add("a", { host: "10.0.0.1", port: 80 }, spec());
    await clock.advance(0);
    expect(checker.calls).toHaveLength(1);
    await clock.advance(300); // the check takes 300 ms
    checker.calls[0]!.resolve(UP);
    await settle();
    expect(updates).toHaveLength(1);
    await clock.advance(9_999);
    expect(checker.calls).toHaveLength(1);
    await clock.advance(1);
    expect(checker.calls.map((c) => c.at)).toEqual([0, 10_300]);
  });

  it("aborts a check that outlives its timeout and records the failure", async () => {
    const { clock, checker, updates, pulse } = setup(() => 0);
    pulse.add("a", { host: "10.0.0.1", port: 80 }, spec({ timeout: "2s" }));
    await clock.advance(1_999);
    expect(checker.calls[0]!.signal.aborted).toBe(false);
    await clock.advance(1);
    expect(checker.calls[0]!.signal.aborted).toBe(true);
    expect(updates.map((u) => [u.status, u.result.error])).toEqual([["down", "TimeoutError"]]);
    await clock.advance(10_000);
    expect(checker.calls.map((c) => c.at)).toEqual([0, 12_000]);
    expect(checker.calls[1]!.signal.aborted).toBe(false); // a fresh signal for the next check
  });

  it("backs off a backend that stays down", async () => {
    const { clock, checker, pulse } = setup(() => 0);
    checker.auto = () => DOWN;
    pulse.add("a", { host: "10.0.0.1", port: 80 }, spec({ backoff_max: "40s" }));
    await clock.advance(200_000);
    const gaps = checker.calls.slice(1).map((c, i) => c.at - checker.calls[i]!.at);
    expect(gaps.slice(0, 6)).toEqual([10_000, 20_000, 40_000, 40_000, 40_000, 40_000]);
  });
});

describe("Pulse removal and generations", () => {
  it("remove() aborts the in-flight check, drops its result and stops the schedule", async () => {
    const { clock, checker, updates, pulse } = setup(() => 0);
    pulse.add("a", { host: "10.0.0.1", port: 80 }, spec());
    await clock.advance(0);
    const inflight = checker.calls[0]!;
    pulse.remove("a");
    expect(inflight.signal.aborted).toBe(true);
    expect((inflight.signal.reason as Error).name).toBe("AbortError");
    await settle();
    await clock.advance(60_000);
    expect(updates).toHaveLength(0);
    expect(checker.calls).toHaveLength(1);
    expect(pulse.metrics("a")).toBeUndefined();
    expect(clock.pendingTimers).toBe(0);
  });

  it("never lets a late result of a removed backend touch a re-created one with the same ID", async () => {
    const { clock, checker, updates, pulse } = setup(() => 0.5);
    // A checker that ignores abort, to prove the generation guard alone protects the new backend.
    const stale: ((r: CheckResult) => void)[] = [];
    const stubborn: Checker = () => new Promise((resolve) => stale.push(resolve));
    const p = new Pulse({ clock, random: () => 0, onUpdate: (u) => updates.push(u), checkers: { tcp: stubborn } });
    const g1 = p.add("a", { host: "10.0.0.1", port: 80 }, spec());
    await clock.advance(0);
    p.remove("a");
    const g2 = p.add("a", { host: "10.0.0.1", port: 80 }, spec({ interval: "1m" }));
    expect(g2).toBeGreaterThan(g1);
    stale[0]!(DOWN); // the old generation's result arrives late
    await settle();
    expect(updates).toHaveLength(0);
    expect(p.metrics("a")!.status).toBe("unknown");
    await clock.advance(0);
    stale[1]!(UP);
    await settle();
    expect(updates.map((u) => [u.id, u.generation, u.status])).toEqual([["a", g2, "up"]]);
    void pulse;
    void checker;
  });

  it("add() with an existing ID replaces the backend and cancels its check", async () => {
    const { clock, checker, pulse } = setup(() => 0);
    const g1 = pulse.add("a", { host: "10.0.0.1", port: 80 }, spec());
    await clock.advance(0);
    const g2 = pulse.add("a", { host: "10.0.0.2", port: 80 }, spec());
    expect(checker.calls[0]!.signal.aborted).toBe(true);
    expect(pulse.generation("a")).toBe(g2);
    expect(g2).not.toBe(g1);
    expect(pulse.size).toBe(1);
    await clock.advance(0);
    expect(checker.calls[1]!.target.host).toBe("10.0.0.2");
  });

  it("stop() cancels everything and resolves once in-flight checks have settled", async () => {
    const { clock, checker, updates, pulse } = setup(() => 0);
    pulse.add("a", { host: "10.0.0.1", port: 80 }, spec());
    pulse.add("b", { host: "10.0.0.2", port: 80 }, spec());
    await clock.advance(0);
    await pulse.stop();
    expect(checker.calls.every((c) => c.signal.aborted)).toBe(true);
    expect(clock.pendingTimers).toBe(0);
    expect(updates).toHaveLength(0);
    expect(() => pulse.add("c", { host: "10.0.0.3", port: 80 }, spec())).toThrow("stopped");
  });
});

describe("Pulse updates and weights", () => {
  it("reports every result with status, health, change flags and metrics", async () => {
    const { clock, checker, updates, pulse } = setup(() => 0);
    const script = [UP, DOWN, UP, UP];
    checker.auto = () => script[checker.calls.length - 1]!;
    const generation = pulse.add("a", { host: "10.0.0.1", port: 80 }, spec(), 12);
    await clock.advance(30_000);
    expect(updates.map((u) => [u.generation, u.status, u.health, u.changed, u.statusChanged, u.metrics.weight])).toEqual([
      [generation, "up", 1, false, true, 12],
      [generation, "down", 0.5, true, true, 0],
      [generation, "up", 1 - 1 / 3, true, true, 8],
      [generation, "up", 0.75, true, false, 9],
    ]);
    expect(pulse.effectiveWeight("a", 100)).toBe(75);
    expect(pulse.metrics("a")!.weight).toBe(9);
    expect(pulse.metrics("a", 40)!.weight).toBe(30);
    pulse.setConfiguredWeight("a", 4);
    expect(pulse.metrics("a")!.weight).toBe(3);
    expect(pulse.effectiveWeight("missing", 100)).toBeUndefined();
  });

  it("keeps scheduling when onUpdate throws, reporting the error", async () => {
    const clock = new FakeClock(0);
    const errors: string[] = [];
    const p = new Pulse({
      clock, random: () => 0, checkers: { tcp: () => Promise.resolve(UP) },
      onUpdate: () => { throw new Error("owner bug"); },
      onError: (e, id) => errors.push(`${id}: ${(e as Error).message}`),
    });
    p.add("a", { host: "10.0.0.1", port: 80 }, spec());
    await clock.advance(20_000);
    expect(errors).toEqual(["a: owner bug", "a: owner bug", "a: owner bug"]);
  });

  it("turns a checker that throws or rejects into a failed result", async () => {
    const clock = new FakeClock(0);
    const updates: PulseUpdate[] = [];
    const p = new Pulse({
      clock, random: () => 0, onUpdate: (u) => updates.push(u),
      checkers: { tcp: () => { throw new Error("sync"); }, http: () => Promise.reject(new Error("async")) },
    });
    p.add("a", { host: "10.0.0.1", port: 80 }, spec());
    p.add("b", { host: "10.0.0.2", port: 80 }, spec({ type: "http" }));
    await clock.advance(0);
    expect(updates.map((u) => [u.id, u.status, u.result.error])).toEqual([
      ["a", "down", "checker threw: Error: sync"],
      ["b", "down", "checker threw: Error: async"],
    ]);
  });

  it("reports scheduling lateness relative to the due time", async () => {
    const clock = new FakeClock(0);
    const late: number[] = [];
    const p = new Pulse({ clock, random: () => 0.5, onUpdate: () => {}, onLateness: (ms) => late.push(ms), checkers: { tcp: () => Promise.resolve(UP) } });
    p.add("a", { host: "10.0.0.1", port: 80 }, spec());
    await clock.advance(20_000);
    expect(late).toEqual([0, 0]);
  });
});
