/** @module Shared vocabulary of the pulse: check results, targets, statuses and the checker signature. */
import type { PulseSpec } from "./spec.ts";

/** Where a check connects: the backend's address, unless the spec overrides host or port. */
export interface CheckTarget {
  readonly host: string;
  readonly port: number;
}

/**
 * The outcome of one check. Checkers never throw: a refused connection, a wrong status or a
 * timeout are all `ok: false` with a short `error` a person can read.
 */
export interface CheckResult {
  readonly ok: boolean;
  /** Wall time of the attempt, in milliseconds. */
  readonly latencyMs: number;
  readonly error?: string;
}

/**
 * A health check. `signal` aborts an in-flight attempt (timeout or removal); the promise still
 * resolves, with `ok: false`. The caller enforces `spec.timeoutMs` by aborting `signal`.
 */
export type Checker = (target: CheckTarget, spec: PulseSpec, signal: AbortSignal) => Promise<CheckResult>;

/** "unknown" until enough results decide (rise/fall), then "up" or "down". */
export type BackendStatus = "unknown" | "up" | "down";

/** What GET and Prometheus show for one backend. */
export interface BackendMetrics {
  readonly status: BackendStatus;
  /** 1 − failures ÷ results over the result window; null before the first result (GORB showed 0). */
  readonly health: number | null;
  /** Whole seconds of continuous "up" status; 0 when not up. */
  readonly uptime: number;
  /** Clock time (ms since the epoch) of the last completed check, or null before the first. */
  readonly lastCheckAt: number | null;
  /** Latency of the last completed check in ms, or null before the first. */
  readonly lastLatencyMs: number | null;
  /** Error of the last check, or null when it succeeded (or none ran yet). */
  readonly lastError: string | null;
  /** Effective weight, when the configured weight was supplied; else null. */
  readonly weight: number | null;
}
