/**
 * @module What core needs from the health checker (src/pulse/), behind one small interface so
 * core can be tested with a fake and runs without checks at all.
 */
import type { PulseEcho } from "./model.ts";

export type HealthStatus = "up" | "down" | "unknown";

/** What GET shows of a backend's checks. `health` is null before the first check. */
export interface BackendHealth {
  readonly status: HealthStatus;
  readonly health: number | null;
  /** Whole seconds of continuous "up". */
  readonly uptime: number;
}

/** One result from the checker; `generation` tells a re-created backend from its predecessor. */
export interface HealthUpdate {
  readonly id: string;
  readonly generation: number;
  readonly status: HealthStatus;
  readonly health: number | null;
  /** True when the status changed with this result. */
  readonly changed: boolean;
  /** False when the effective weight cannot have moved (core then skips the recomputation); default true. */
  readonly weightMayChange?: boolean;
}

export interface HealthTarget {
  readonly host: string;
  readonly port: number;
}

export interface HealthChecker {
  /** Checks and fills a request's `pulse` object; throws ValidationError naming "pulse.<field>". */
  normalize(input: unknown): { readonly spec: unknown; readonly echo: PulseEcho };
  /** Starts checking; returns the generation that the updates for this backend will carry. */
  add(id: string, target: HealthTarget, spec: unknown): number;
  remove(id: string): void;
  metrics(id: string): BackendHealth | undefined;
  /** The weight IPVS should get for this backend now (0 while down, partial while recovering). */
  effectiveWeight(id: string, configured: number): number;
  /**
   * Optional fast path for many backends at once: a function like `effectiveWeight` bound to one
   * instant (one clock read for a whole service).
   */
  weigher?(): (id: string, configured: number) => number;
  /**
   * The final weights of one service's backends (in input order) under its all-down policy;
   * absent: the effective weights as they are.
   */
  applyAllDown?(policy: string, backends: readonly { readonly healthId: string; readonly configured: number; readonly effective: number }[]): number[];
  stop(): Promise<void>;
  /** True for a checker that checks nothing and never reports (so there is no verdict to wait for). */
  readonly passive?: boolean;
}

export type HealthCheckerFactory = (onUpdate: (update: HealthUpdate) => void) => HealthChecker;

const UNKNOWN: BackendHealth = Object.freeze({ status: "unknown", health: null, uptime: 0 });

/**
 * A checker that checks nothing: every backend keeps its configured weight and reports "unknown".
 * Used where no real checker is wired (and as the fallback when the pulse module is absent).
 */
export function createNullHealthChecker(): HealthChecker {
  let generation = 0;
  return {
    passive: true,
    normalize(input) {
      const p = (input ?? {}) as Record<string, unknown>;
      return { spec: p, echo: { type: String(p.type ?? "tcp"), interval: String(p.interval ?? "1m"), args: p.args ?? null } };
    },
    add: () => ++generation,
    remove() {},
    metrics: () => UNKNOWN,
    effectiveWeight: (_id, configured) => configured,
    async stop() {},
  };
}
