/**
 * @module The per-backend health state machine: unknown → up / down with rise and fall counts,
 * GORB's sliding-window health, back-off and slow start. Pure: every function takes the time
 * as `now` and returns new state, so tests drive it with plain numbers.
 */
import type { PulseSpec } from "./spec.ts";
import type { BackendMetrics, BackendStatus, CheckResult } from "./types.ts";
import { emptyWindow, pushResult, windowHealth, type ResultWindow } from "./window.ts";
import { effectiveWeight, weightKey } from "./weight.ts";

export { effectiveWeight } from "./weight.ts";

/** The parts of a PulseSpec the state machine reads. */
export type MonitorOptions = Pick<PulseSpec, "rise" | "fall" | "window" | "intervalMs" | "backoffMaxMs" | "slowStartMs">;

export interface MonitorState {
  readonly options: MonitorOptions;
  readonly status: BackendStatus;
  readonly window: ResultWindow;
  /** Consecutive successes / failures ending with the latest result. */
  readonly okStreak: number;
  readonly failStreak: number;
  /** When `status` last changed (creation time while unknown); uptime counts from here. */
  readonly statusSince: number;
  /**
   * GORB's "stash": the backend went down and its health has not reached 1 since, so its weight
   * is trunc(configured × health). Only without slow start.
   */
  readonly recovering: boolean;
  /** Slow start: when the ramp to the configured weight began (down → up), else null. */
  readonly rampFrom: number | null;
  readonly lastCheckAt: number | null;
  readonly lastLatencyMs: number | null;
  readonly lastError: string | null;
}

/** A fresh backend: status unknown, empty window. */
export function createMonitorState(options: MonitorOptions, now: number): MonitorState {
  return {
    options,
    status: "unknown",
    window: emptyWindow(options.window),
    okStreak: 0,
    failStreak: 0,
    statusSince: now,
    recovering: false,
    rampFrom: null,
    lastCheckAt: null,
    lastLatencyMs: null,
    lastError: null,
  };
}

function nextStatus(status: BackendStatus, ok: boolean, okStreak: number, failStreak: number, o: MonitorOptions): BackendStatus {
  if (ok) return status !== "up" && okStreak >= o.rise ? "up" : status;
  return status !== "down" && failStreak >= o.fall ? "down" : status;
}

/**
 * Applies one check result. `changed` says whether the effective weight may have moved (status
 * or recovery fraction changed, or a slow-start ramp is or was running), i.e. whether the owner
 * should recompute it; `statusChanged` whether the status itself flipped.
 */
export function recordResult(
  state: MonitorState,
  result: CheckResult,
  now: number,
): { state: MonitorState; changed: boolean; statusChanged: boolean } {
  const o = state.options;
  const window = pushResult(state.window, result.ok);
  const okStreak = result.ok ? state.okStreak + 1 : 0;
  const failStreak = result.ok ? 0 : state.failStreak + 1;
  const status = nextStatus(state.status, result.ok, okStreak, failStreak, o);
  const statusChanged = status !== state.status;

  let recovering = state.recovering;
  let rampFrom = state.rampFrom;
  if (status === "down") {
    // GORB stashes on the first Down; fixed: a Down while recovering zeroes again (status down → 0).
    recovering = o.slowStartMs === 0;
    rampFrom = null;
  } else if (status === "up") {
    if (statusChanged && state.status === "down" && o.slowStartMs > 0) rampFrom = now;
    if (rampFrom !== null && now - rampFrom >= o.slowStartMs) rampFrom = null;
    // GORB forgets the stash once trunc(stash × health) == stash, i.e. when health is 1.
    if (recovering && windowHealth(window) >= 1) recovering = false;
  }

  const next: MonitorState = {
    options: o,
    status,
    window,
    okStreak,
    failStreak,
    statusSince: statusChanged ? now : state.statusSince,
    recovering,
    rampFrom,
    lastCheckAt: now,
    lastLatencyMs: result.latencyMs,
    lastError: result.ok ? null : (result.error ?? "check failed"),
  };
  // Compare the weight inputs as they were at the previous check with those now: a ramp that
  // ended in between still needs one last write.
  const before = weightKey(state, state.lastCheckAt ?? now);
  const after = weightKey(next, now);
  const changed = before !== after || Number.isNaN(before) || Number.isNaN(after);
  return { state: next, changed, statusChanged };
}

/**
 * Delay until the next check: the interval, doubled for each failure beyond `fall` while down,
 * capped at backoffMaxMs (no back-off when null).
 */
export function nextDelay(state: MonitorState): number {
  const { intervalMs, backoffMaxMs, fall } = state.options;
  if (backoffMaxMs === null || state.status !== "down" || state.failStreak <= fall) return intervalMs;
  const doublings = Math.min(state.failStreak - fall, 30);
  return Math.min(backoffMaxMs, intervalMs * 2 ** doublings);
}

/** Health in [0, 1] over the window (1 before the first result). */
export function health(state: MonitorState): number {
  return windowHealth(state.window);
}

/** The GET/Prometheus view; `weight` is filled when the configured weight is given. */
export function metrics(state: MonitorState, now: number, configuredWeight?: number): BackendMetrics {
  return {
    status: state.status,
    health: state.window.count === 0 ? null : windowHealth(state.window),
    uptime: state.status === "up" ? Math.max(0, Math.floor((now - state.statusSince) / 1000)) : 0,
    lastCheckAt: state.lastCheckAt,
    lastLatencyMs: state.lastLatencyMs,
    lastError: state.lastError,
    weight: configuredWeight === undefined ? null : effectiveWeight(state, configuredWeight, now),
  };
}
