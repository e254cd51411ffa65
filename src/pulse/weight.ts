/**
 * @module Effective weight = f(configured weight, pulse state, now). The configured weight is
 * never mutated; what IPVS gets is recomputed from it. Pure.
 */
import type { MonitorState } from "./monitor.ts";
import { windowHealth } from "./window.ts";

function ramping(state: MonitorState, now: number): boolean {
  return state.rampFrom !== null && now - state.rampFrom < state.options.slowStartMs;
}

/**
 * The weight IPVS should have:
 * - unknown (no verdict yet): the configured weight (GORB left new backends untouched);
 * - down: 0;
 * - up, slow start ramping: configured × elapsed ÷ slow_start, truncated, at least 1;
 * - up, recovering (GORB): trunc(configured × health) — small weights stay 0 until health is 1;
 * - up otherwise: the configured weight.
 *
 * @example effectiveWeight(recoveringAtHalfHealth, 12, now) // 6
 */
export function effectiveWeight(state: MonitorState, configured: number, now: number): number {
  if (configured <= 0) return 0;
  switch (state.status) {
    case "unknown":
      return configured;
    case "down":
      return 0;
    case "up":
      if (ramping(state, now)) {
        const fraction = (now - state.rampFrom!) / state.options.slowStartMs;
        return Math.min(configured, Math.max(1, Math.trunc(configured * fraction)));
      }
      // Same float steps as GORB: int32(float64(weight) * health).
      return state.recovering ? Math.trunc(configured * windowHealth(state.window)) : configured;
  }
}

/**
 * A number that changes whenever the effective weight may change, for any configured weight:
 * -1 full weight, -2 zero, the health while recovering, NaN while ramping (time-dependent).
 */
export function weightKey(state: MonitorState, now: number): number {
  if (state.status === "down") return -2;
  if (state.status === "unknown") return -1;
  if (ramping(state, now)) return NaN;
  return state.recovering ? windowHealth(state.window) : -1;
}
