/**
 * @module Pulse: runs every backend's checks on one event loop. One scheduler (heap + one timer)
 * starts each check, enforces its timeout by aborting it, feeds the result to the backend's
 * state machine and reports to the owner, who recomputes the effective weight.
 */
import { DEFAULT_CHECKERS } from "./checks/index.ts";
import { CHECK_CANCELLED, CHECK_TIMEOUT } from "./checks/common.ts";
import { systemClock, type Clock } from "./clock.ts";
import type { HeapItem } from "./heap.ts";
import { STATUS_CHANGED, WEIGHT_MAY_CHANGE, applyResult, createMonitorState, effectiveWeight, health, metrics, nextDelay, type MonitorState } from "./monitor.ts";
import { Scheduler } from "./scheduler.ts";
import type { CheckType, PulseSpec } from "./spec.ts";
import type { BackendMetrics, BackendStatus, CheckResult, CheckTarget, Checker } from "./types.ts";

/** Sent after every completed check of a live backend. */
export interface PulseUpdate {
  readonly id: string;
  /** The generation `add` returned; a re-created backend with the same ID has a new one. */
  readonly generation: number;
  readonly status: BackendStatus;
  readonly health: number;
  /** The effective weight may have moved: recompute it with `effectiveWeight(id, configured)`. */
  readonly changed: boolean;
  /** The status flipped (unknown/up/down) with this result. */
  readonly statusChanged: boolean;
  readonly result: CheckResult;
  readonly metrics: BackendMetrics;
}

export interface PulseOptions {
  /** Time source; default the monotonic system clock. */
  clock?: Clock;
  /** Uniform [0, 1) source for the first check's offset; default Math.random. */
  random?: () => number;
  /** Receives every result; should return quickly (it runs on the check path). */
  onUpdate: (update: PulseUpdate) => void;
  /** Replace checkers per type (tests, custom probes). */
  checkers?: Partial<Record<CheckType, Checker>>;
  /** Observes scheduling lateness in ms (actual start − due time) of every check start. */
  onLateness?: (lateMs: number) => void;
  /** Receives what onUpdate threw; default console.error. */
  onError?: (error: unknown, id: string) => void;
}

interface Entry extends HeapItem {
  readonly id: string;
  readonly generation: number;
  readonly target: CheckTarget;
  readonly spec: PulseSpec;
  readonly checker: Checker;
  /** Updated in place by each result (one state per backend for its life). */
  readonly state: MonitorState;
  configured: number | undefined;
  /** Taken from the pool while a check runs, else null. */
  controller: AbortController | null;
  running: boolean;
  removed: boolean;
  /** Bound once per backend so a check allocates no callbacks here. */
  readonly settle: (result: CheckResult) => void;
  readonly reject: (error: unknown) => void;
}

// Idle controllers kept for reuse: one per backend would cost ~1 KB each for nothing.
const POOL_LIMIT = 1024;

export class Pulse {
  readonly #entries = new Map<string, Entry>();
  /** Unaborted AbortControllers of finished checks, reused (AbortController is one-shot once aborted). */
  readonly #controllers: AbortController[] = [];
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #checkers: Readonly<Record<CheckType, Checker>>;
  readonly #opts: PulseOptions;
  readonly #scheduler: Scheduler<Entry>;
  #generation = 0;
  #inflight = 0;
  #stopped = false;
  #idle: (() => void) | undefined;

  constructor(opts: PulseOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#random = opts.random ?? Math.random;
    this.#checkers = { ...DEFAULT_CHECKERS, ...opts.checkers };
    this.#scheduler = new Scheduler<Entry>(this.#clock, (entry) => this.#due(entry));
  }

  /** Backends being checked. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Starts checking a backend; its first check runs at a random point within one interval.
   * Replaces (and cancels) a backend already registered under `id`. `configuredWeight` lets
   * metrics report the effective weight. Returns the new generation.
   */
  add(id: string, target: CheckTarget, spec: PulseSpec, configuredWeight?: number): number {
    if (this.#stopped) throw new Error("pulse is stopped");
    this.remove(id);
    const now = this.#clock.now();
    const entry: Entry = {
      id,
      generation: ++this.#generation,
      target: { host: target.host, port: target.port },
      spec,
      checker: this.#checkers[spec.type],
      state: createMonitorState(spec, now),
      configured: configuredWeight,
      controller: null,
      running: false,
      removed: false,
      due: 0,
      heapIndex: -1,
      settle: (result) => this.#settle(entry, result),
      reject: (error) => this.#settle(entry, { ok: false, latencyMs: 0, error: `checker threw: ${String(error)}` }),
    };
    this.#entries.set(id, entry);
    // Whole milliseconds: timers fire on whole milliseconds, so the first check stays within the interval.
    this.#scheduler.schedule(entry, now + Math.floor(this.#random() * spec.intervalMs));
    return entry.generation;
  }

  /** Stops checking `id` at once: an in-flight check is aborted and its result dropped. */
  remove(id: string): void {
    const entry = this.#entries.get(id);
    if (entry === undefined) return;
    this.#entries.delete(id);
    entry.removed = true;
    this.#scheduler.cancel(entry);
    if (entry.running) entry.controller?.abort(CHECK_CANCELLED);
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** The generation of the live backend `id`, or undefined. */
  generation(id: string): number | undefined {
    return this.#entries.get(id)?.generation;
  }

  /** Records the configured weight used by `metrics` (the pulse never changes it). */
  setConfiguredWeight(id: string, weight: number): void {
    const entry = this.#entries.get(id);
    if (entry !== undefined) entry.configured = weight;
  }

  /** Metrics of `id`; `weight` is filled from `configuredWeight` or the one given to add. */
  metrics(id: string, configuredWeight?: number): BackendMetrics | undefined {
    const entry = this.#entries.get(id);
    return entry && metrics(entry.state, this.#clock.now(), configuredWeight ?? entry.configured);
  }

  /** The weight IPVS should have for `id` given its configured weight, now. */
  effectiveWeight(id: string, configuredWeight: number): number | undefined {
    const entry = this.#entries.get(id);
    return entry && effectiveWeight(entry.state, configuredWeight, this.#clock.now());
  }

  /** The state machine of `id` (live: the next result updates it; do not change it). */
  state(id: string): MonitorState | undefined {
    return this.#entries.get(id)?.state;
  }

  /** Cancels every check and resolves once in-flight checks have settled. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#scheduler.stop();
    for (const id of [...this.#entries.keys()]) this.remove(id);
    if (this.#inflight > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
  }

  #due(entry: Entry): void {
    if (entry.running) {
      // The timeout fell due first: abort, and let the checker resolve with its failure.
      entry.controller?.abort(CHECK_TIMEOUT);
      return;
    }
    const now = this.#clock.now();
    this.#opts.onLateness?.(now - entry.due);
    const controller = this.#controllers.pop() ?? new AbortController();
    entry.controller = controller;
    entry.running = true;
    this.#inflight++;
    this.#scheduler.schedule(entry, now + entry.spec.timeoutMs);
    try {
      entry.checker(entry.target, entry.spec, controller.signal).then(entry.settle, entry.reject);
    } catch (error) {
      entry.reject(error);
    }
  }

  #settle(entry: Entry, result: CheckResult): void {
    this.#inflight--;
    const controller = entry.controller;
    entry.controller = null;
    if (controller !== null && !controller.signal.aborted && this.#controllers.length < POOL_LIMIT) this.#controllers.push(controller);
    if (entry.removed) {
      if (this.#inflight === 0) this.#idle?.();
      return;
    }
    entry.running = false;
    const now = this.#clock.now();
    const state = entry.state;
    const flags = applyResult(state, result, now);
    const changed = (flags & WEIGHT_MAY_CHANGE) !== 0;
    const statusChanged = (flags & STATUS_CHANGED) !== 0;
    this.#scheduler.schedule(entry, now + nextDelay(state));
    try {
      this.#opts.onUpdate({
        id: entry.id,
        generation: entry.generation,
        status: state.status,
        health: health(state),
        changed,
        statusChanged,
        result,
        metrics: metrics(state, now, entry.configured),
      });
    } catch (error) {
      (this.#opts.onError ?? ((e, id) => console.error(`pulse: onUpdate failed for ${id}:`, e)))(error, entry.id);
    }
  }
}
