/** @module Builds monitor states from a script of results, for the state-machine tests. */
import { createMonitorState, recordResult, type MonitorOptions, type MonitorState } from "../../../src/pulse/monitor.ts";

export const T0 = 1_000_000;

export function options(overrides: Partial<MonitorOptions> = {}): MonitorOptions {
  return { rise: 1, fall: 1, window: 100, intervalMs: 1_000, backoffMaxMs: null, slowStartMs: 0, ...overrides };
}

/** One step: a result ("up"/"down") at a time offset from T0. */
export type Step = readonly ["up" | "down", number];

/** Feeds `results` (true = up) one interval apart starting at T0 + interval; returns every intermediate step. */
export function run(opts: MonitorOptions, results: readonly boolean[], start?: MonitorState) {
  let state = start ?? createMonitorState(opts, T0);
  let at = (state.lastCheckAt ?? T0);
  const steps: { state: MonitorState; changed: boolean; statusChanged: boolean; at: number }[] = [];
  for (const ok of results) {
    at += opts.intervalMs;
    const r = recordResult(state, ok ? { ok: true, latencyMs: 1 } : { ok: false, latencyMs: 1, error: "refused" }, at);
    state = r.state;
    steps.push({ ...r, at });
  }
  return { state, steps, at };
}

export const up = (n: number) => Array<boolean>(n).fill(true);
export const down = (n: number) => Array<boolean>(n).fill(false);
