/**
 * @module The per-backend health state machine: unknown → up / down with rise and fall counts,
 * GORB's sliding-window health, back-off and slow start. Every function takes the time as
 * `now`, so tests drive it with plain numbers. `recordResult` returns new state; `applyResult`
 * updates a state in place, for the scheduler, which owns one state per backend for its life
 * (a new state per check would live one interval, be promoted by the GC and pile up in RSS).
 */
import type { PulseSpec } from "./spec.ts";
import type { BackendMetrics, BackendStatus, CheckResult } from "./types.ts";
import { copyWindow, emptyWindow, pushResultInPlace, windowHealth, type ResultWindow } from "./window.ts";
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

/** `applyResult`'s answer: bit set when the effective weight may have moved. */
export const WEIGHT_MAY_CHANGE = 1;
/** `applyResult`'s answer: bit set when the status flipped. */
export const STATUS_CHANGED = 2;

/**
 * Applies one check result. `changed` says whether the effective weight may have moved (status
 * or recovery fraction changed, or a slow-start ramp is or was running), i.e. whether the owner
 * should recompute it; `statusChanged` whether the status itself flipped. Does not mutate `state`.
 */
export function recordResult(
  state: MonitorState,
  result: CheckResult,
  now: number,
): { state: MonitorState; changed: boolean; statusChanged: boolean } {
  const next: MonitorState = { ...state, window: copyWindow(state.window) };
  const flags = applyResult(next, result, now);
  return { state: next, changed: (flags & WEIGHT_MAY_CHANGE) !== 0, statusChanged: (flags & STATUS_CHANGED) !== 0 };
}

/** `recordResult` on `state` itself, allocating nothing: returns WEIGHT_MAY_CHANGE | STATUS_CHANGED bits. */
export function applyResult(state: MonitorState, result: CheckResult, now: number): number {
  const s = state as Mutable<MonitorState>;
  const o = s.options;
  // The weight inputs as they were at the previous check: a ramp that ended in between still needs one last write.
  const before = weightKey(s, s.lastCheckAt ?? now);
  const previous = s.status;
  pushResultInPlace(s.window, result.ok);
  s.okStreak = result.ok ? s.okStreak + 1 : 0;
  s.failStreak = result.ok ? 0 : s.failStreak + 1;
  s.status = nextStatus(previous, result.ok, s.okStreak, s.failStreak, o);
  const statusChanged = s.status !== previous;

  if (s.status === "down") {
    // GORB stashes on the first Down; fixed: a Down while recovering zeroes again (status down → 0).
    s.recovering = o.slowStartMs === 0;
    s.rampFrom = null;
  } else if (s.status === "up") {
    if (statusChanged && previous === "down" && o.slowStartMs > 0) s.rampFrom = now;
    if (s.rampFrom !== null && now - s.rampFrom >= o.slowStartMs) s.rampFrom = null;
    // GORB forgets the stash once trunc(stash × health) == stash, i.e. when health is 1.
    if (s.recovering && windowHealth(s.window) >= 1) s.recovering = false;
  }
  if (statusChanged) s.statusSince = now;
  s.lastCheckAt = now;
  s.lastLatencyMs = result.latencyMs;
  s.lastError = result.ok ? null : (result.error ?? "check failed");
  const after = weightKey(s, now);
  const changed = before !== after || Number.isNaN(before) || Number.isNaN(after);
  return (changed ? WEIGHT_MAY_CHANGE : 0) | (statusChanged ? STATUS_CHANGED : 0);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

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
