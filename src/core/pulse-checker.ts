/**
 * @module The health checker of the daemon: src/pulse/ (Pulse, spec, all-down policy) behind
 * core's HealthChecker interface.
 */
import { applyAllDownPolicy, isAllDownPolicy } from "../pulse/all-down.ts";
import { systemClock } from "../pulse/clock.ts";
import { effectiveWeight } from "../pulse/monitor.ts";
import { Pulse, type PulseOptions } from "../pulse/pulse.ts";
import { echoPulseSpec, normalizePulseSpec, type PulseSpec, type PulseSpecInput } from "../pulse/spec.ts";
import type { HealthChecker, HealthUpdate } from "./health.ts";
import type { PulseEcho } from "./model.ts";

/** Pulse's knobs for tests (clock, random offset, fake checkers). */
export type PulseCheckerOptions = Omit<PulseOptions, "onUpdate">;

export function createHealthChecker(onUpdate: (update: HealthUpdate) => void, options: PulseCheckerOptions = {}): HealthChecker {
  const clock = options.clock ?? systemClock;
  const pulse = new Pulse({
    ...options,
    onUpdate: (u) =>
      onUpdate({ id: u.id, generation: u.generation, status: u.status, health: u.health, changed: u.statusChanged, weightMayChange: u.changed }),
  });
  return {
    normalize(input) {
      const spec = normalizePulseSpec(input as PulseSpecInput | undefined);
      return { spec, echo: echoPulseSpec(input as PulseSpecInput | undefined) as PulseEcho };
    },
    add: (id, target, spec) => pulse.add(id, target, spec as PulseSpec),
    remove: (id) => pulse.remove(id),
    metrics: (id) => pulse.metrics(id),
    effectiveWeight: (id, configured) => pulse.effectiveWeight(id, configured) ?? configured,
    weigher() {
      const now = clock.now();
      return (id, configured) => {
        const state = pulse.state(id);
        return state ? effectiveWeight(state, configured, now) : configured;
      };
    },
    applyAllDown(policy, backends) {
      if (!isAllDownPolicy(policy)) return backends.map((b) => b.effective);
      return applyAllDownPolicy(
        policy,
        backends.map((b) => ({ configured: b.configured, effective: b.effective, status: pulse.state(b.healthId)?.status ?? "unknown" })),
      );
    },
    stop: () => pulse.stop(),
  };
}

/** A factory with Pulse options bound (for tests: fake checkers and clock). */
export function healthCheckerWith(options: PulseCheckerOptions) {
  return (onUpdate: (update: HealthUpdate) => void) => createHealthChecker(onUpdate, options);
}
