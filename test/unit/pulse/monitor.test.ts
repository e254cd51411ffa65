import { describe, expect, it } from "bun:test";
import { STATUS_CHANGED, WEIGHT_MAY_CHANGE, applyResult, createMonitorState, effectiveWeight, health, metrics, nextDelay, recordResult } from "../../../src/pulse/monitor.ts";
import { down, options, run, T0, up } from "./monitor-helpers.ts";

describe("GORB's weight algorithm (pinned cases)", () => {
  it("first Down: weight 100 → 0, and the backend starts recovering", () => {
    const { state, steps } = run(options(), [true, false]);
    expect(state.status).toBe("down");
    expect(state.recovering).toBe(true);
    expect(effectiveWeight(state, 100, steps[1]!.at)).toBe(0);
    expect(steps[1]!.changed).toBe(true);
  });

  it("Up while recovering with remembered 12 at health 0.5 → 6, still recovering", () => {
    const { state, at } = run(options(), [false, true]);
    expect(health(state)).toBe(0.5);
    expect(state.status).toBe("up");
    expect(state.recovering).toBe(true);
    expect(effectiveWeight(state, 12, at)).toBe(6);
  });

  it("Up at health 1 → 12, and the remembered weight is forgotten", () => {
    // A window of 2 lets the Down age out after two Ups.
    const { state, steps } = run(options({ window: 2 }), [false, true, true]);
    expect(effectiveWeight(steps[1]!.state, 12, steps[1]!.at)).toBe(6);
    expect(health(state)).toBe(1);
    expect(effectiveWeight(state, 12, steps[2]!.at)).toBe(12);
    expect(state.recovering).toBe(false);
    // Forgotten: a later success leaves the weight alone and reports no change.
    const next = recordResult(state, { ok: true, latencyMs: 1 }, steps[2]!.at + 1000);
    expect(next.changed).toBe(false);
  });

  it("fixed bug: a Down while recovering sets 0 again (GORB kept the partial weight)", () => {
    const { steps } = run(options(), [false, true, true, false]);
    expect(effectiveWeight(steps[2]!.state, 12, steps[2]!.at)).toBe(8); // trunc(12 × 2/3)
    expect(steps[3]!.state.status).toBe("down");
    expect(effectiveWeight(steps[3]!.state, 12, steps[3]!.at)).toBe(0);
  });

  it("recovers along GORB's health curve k/(k+1): 50, 66, 75, 80, 83 for weight 100", () => {
    const { steps } = run(options(), [false, ...up(5)]);
    expect(steps.slice(1).map((s) => effectiveWeight(s.state, 100, s.at))).toEqual([50, 66, 75, 80, 83]);
    expect(steps.slice(1).every((s) => s.changed)).toBe(true);
  });

  it("returns to full weight only when the Down leaves the 100-result window", () => {
    const { steps } = run(options(), [...up(100), false, ...up(100)]);
    const after = steps.slice(101); // after[k]: k + 1 successes since the Down
    expect(effectiveWeight(steps[100]!.state, 100, steps[100]!.at)).toBe(0);
    expect(health(after[0]!.state)).toBe(0.99);
    expect(effectiveWeight(after[0]!.state, 100, after[0]!.at)).toBe(99);
    expect(effectiveWeight(after[98]!.state, 100, after[98]!.at)).toBe(99);
    expect(after[98]!.state.recovering).toBe(true);
    expect(effectiveWeight(after[99]!.state, 100, after[99]!.at)).toBe(100);
    expect(after[99]!.state.recovering).toBe(false);
  });

  it("truncates weight 1 to 0 for the whole recovery (GORB behaviour, kept)", () => {
    const { steps } = run(options({ window: 4 }), [false, ...up(4)]);
    expect(steps.slice(1).map((s) => effectiveWeight(s.state, 1, s.at))).toEqual([0, 0, 0, 1]);
  });

  it("never touches a healthy backend: configured weight, no change reported", () => {
    const { steps } = run(options(), up(5));
    expect(steps.map((s) => effectiveWeight(s.state, 7, s.at))).toEqual([7, 7, 7, 7, 7]);
    expect(steps.map((s) => s.changed)).toEqual([false, false, false, false, false]);
    expect(steps[0]!.statusChanged).toBe(true);
  });

  it("leaves the configured weight to unknown backends and gives 0 to a configured 0", () => {
    const fresh = createMonitorState(options(), T0);
    expect(fresh.status).toBe("unknown");
    expect(effectiveWeight(fresh, 100, T0)).toBe(100);
    expect(effectiveWeight(fresh, 0, T0)).toBe(0);
  });

  it("uses the current configured weight, not one remembered at the Down", () => {
    const { state, at } = run(options(), [false, true]);
    expect(effectiveWeight(state, 40, at)).toBe(20);
  });
});

describe("rise and fall", () => {
  const opts = options({ rise: 3, fall: 2 });

  it("stays unknown until rise successes in a row", () => {
    const { steps } = run(opts, up(3));
    expect(steps.map((s) => s.state.status)).toEqual(["unknown", "unknown", "up"]);
  });

  it("goes down only after fall failures in a row, and back up after rise successes", () => {
    const { steps } = run(opts, [...up(3), false, false, true, true, true]);
    expect(steps.map((s) => s.state.status)).toEqual(["unknown", "unknown", "up", "up", "down", "down", "down", "up"]);
    expect(steps[3]!.changed).toBe(false); // one failure below `fall` keeps the weight
    expect(effectiveWeight(steps[3]!.state, 100, steps[3]!.at)).toBe(100);
    expect(steps[4]!.statusChanged).toBe(true);
  });

  it("never goes down while failures alternate with successes", () => {
    const { steps } = run(opts, [...up(3), false, true, false, true, false]);
    expect(steps.every((s, i) => i < 2 || s.state.status === "up")).toBe(true);
  });

  it("reaches down from unknown after fall failures", () => {
    const { steps } = run(opts, down(2));
    expect(steps.map((s) => s.state.status)).toEqual(["unknown", "down"]);
  });

  it("counts health over every result, debounced status or not", () => {
    const { state } = run(opts, [...up(3), false]);
    expect(health(state)).toBe(0.75);
  });

  it("after rising from down, recovers by health like GORB", () => {
    const { state, at } = run(opts, [...up(3), false, false, ...up(3)]);
    expect(state.status).toBe("up");
    expect(effectiveWeight(state, 100, at)).toBe(Math.trunc(100 * (1 - 2 / 8)));
  });
});

describe("back-off", () => {
  it("doubles the interval for a backend that stays down, up to the cap, and resets on success", () => {
    const opts = options({ intervalMs: 1_000, backoffMaxMs: 8_000 });
    const { steps } = run(opts, [...down(6), true]);
    expect(steps.map((s) => nextDelay(s.state))).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000, 1_000]);
  });

  it("counts doublings from the failure that took the backend down", () => {
    const { steps } = run(options({ fall: 2, backoffMaxMs: 60_000 }), down(4));
    expect(steps.map((s) => nextDelay(s.state))).toEqual([1_000, 1_000, 2_000, 4_000]);
  });

  it("is off by default", () => {
    const { steps } = run(options(), down(5));
    expect(steps.map((s) => nextDelay(s.state))).toEqual([1_000, 1_000, 1_000, 1_000, 1_000]);
  });

  it("keeps the plain interval while a down backend is rising", () => {
    const { state } = run(options({ rise: 3, backoffMaxMs: 60_000 }), [...down(4), true]);
    expect(state.status).toBe("down");
    expect(nextDelay(state)).toBe(1_000);
  });
});

describe("slow start", () => {
  const opts = options({ slowStartMs: 10_000 });

  it("ramps a recovered backend linearly to its configured weight over slow_start", () => {
    const { state, at } = run(opts, [false, true]); // up at `at`
    expect(state.rampFrom).toBe(at);
    expect(effectiveWeight(state, 100, at)).toBe(1);
    expect(effectiveWeight(state, 100, at + 2_500)).toBe(25);
    expect(effectiveWeight(state, 100, at + 5_000)).toBe(50);
    expect(effectiveWeight(state, 100, at + 9_999)).toBe(99);
    expect(effectiveWeight(state, 100, at + 10_000)).toBe(100);
  });

  it("never rounds a healthy backend down to 0 while ramping", () => {
    const { state, at } = run(opts, [false, true]);
    expect(effectiveWeight(state, 3, at + 1)).toBe(1);
    expect(effectiveWeight(state, 1, at)).toBe(1);
    expect(effectiveWeight(state, 0, at + 5_000)).toBe(0);
  });

  it("replaces the health-based recovery: full weight at the end of the ramp despite old failures", () => {
    const { state, at } = run(opts, [false, ...up(11)]);
    expect(health(state)).toBeLessThan(1);
    expect(state.rampFrom).toBeNull();
    expect(effectiveWeight(state, 100, at)).toBe(100);
  });

  it("reports a change on every check while ramping and once after the ramp ends", () => {
    const { steps } = run(opts, [false, ...up(13)]);
    const changed = steps.map((s) => s.changed);
    // Down, up (ramp starts), 9 checks inside the ramp, the one at its end, then quiet.
    expect(changed).toEqual([true, true, ...Array(9).fill(true), true, false, false]);
  });

  it("restarts the ramp after a Down during the ramp, which sets 0", () => {
    const { steps } = run(opts, [false, true, true, false, true]);
    expect(effectiveWeight(steps[3]!.state, 100, steps[3]!.at)).toBe(0);
    expect(steps[4]!.state.rampFrom).toBe(steps[4]!.at);
    expect(effectiveWeight(steps[4]!.state, 100, steps[4]!.at + 1_000)).toBe(10);
  });

  it("does not ramp a backend that comes up for the first time", () => {
    const { state, at } = run(opts, [true]);
    expect(state.rampFrom).toBeNull();
    expect(effectiveWeight(state, 100, at)).toBe(100);
  });
});

describe("metrics", () => {
  it("reports unknown with health null before the first result", () => {
    expect(metrics(createMonitorState(options(), T0), T0 + 5_000, 100)).toEqual({
      status: "unknown", health: null, uptime: 0, lastCheckAt: null, lastLatencyMs: null, lastError: null, weight: 100,
    });
  });

  it("counts uptime in whole seconds of continuous up status and resets it on down", () => {
    let state = createMonitorState(options(), T0);
    state = recordResult(state, { ok: true, latencyMs: 2.5 }, T0 + 1_000).state;
    expect(metrics(state, T0 + 4_900).uptime).toBe(3);
    state = recordResult(state, { ok: true, latencyMs: 1 }, T0 + 6_000).state;
    expect(metrics(state, T0 + 7_000).uptime).toBe(6);
    state = recordResult(state, { ok: false, latencyMs: 5_000, error: "timed out after 5s" }, T0 + 8_000).state;
    expect(metrics(state, T0 + 9_000, 50)).toEqual({
      status: "down", health: 1 - 1 / 3, uptime: 0, lastCheckAt: T0 + 8_000, lastLatencyMs: 5_000, lastError: "timed out after 5s", weight: 0,
    });
  });

  it("keeps uptime through a failure below the fall count", () => {
    let state = createMonitorState(options({ fall: 2 }), T0);
    state = recordResult(state, { ok: true, latencyMs: 1 }, T0 + 1_000).state;
    state = recordResult(state, { ok: false, latencyMs: 1, error: "x" }, T0 + 2_000).state;
    const m = metrics(state, T0 + 3_000);
    expect([m.status, m.uptime, m.lastError, m.weight]).toEqual(["up", 2, "x", null]);
  });

  it("does not mutate the state it is given", () => {
    const before = createMonitorState(options({ window: 3 }), T0);
    const snapshot = structuredClone(before);
    recordResult(before, { ok: false, latencyMs: 1 }, T0 + 1);
    expect(before).toEqual(snapshot);
  });
});

describe("applyResult (the scheduler's in-place path)", () => {
  it("reaches the same states and flags as recordResult, step by step, updating one object", () => {
    const opts = options({ rise: 2, fall: 2, window: 8, slowStartMs: 3_000 });
    const script = [true, true, false, false, false, true, true, true, false, true, true, true, true, true];
    const pure = run(opts, script);
    const live = createMonitorState(opts, T0);
    script.forEach((ok, i) => {
      const at = T0 + (i + 1) * opts.intervalMs;
      const flags = applyResult(live, ok ? { ok: true, latencyMs: 1 } : { ok: false, latencyMs: 1, error: "refused" }, at);
      const step = pure.steps[i]!;
      expect(live).toEqual(step.state);
      expect([(flags & WEIGHT_MAY_CHANGE) !== 0, (flags & STATUS_CHANGED) !== 0]).toEqual([step.changed, step.statusChanged]);
    });
    // recordResult never touched the states it was given.
    expect(pure.steps[0]!.state.window.count).toBe(1);
  });
});
