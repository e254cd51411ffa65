/** @module Public surface of the pulse (health checks): spec, state machine, policies, checkers, Pulse. */
export { Pulse, type PulseOptions, type PulseUpdate } from "./pulse.ts";
export {
  CHECK_TYPES, PULSE_DEFAULTS, PulseArgsSchema, PulseSpecError, PulseSpecSchema, echoPulseSpec, normalizePulseSpec,
  type CheckType, type DnsCheckSpec, type HttpCheckSpec, type PulseSpec, type PulseSpecInput,
} from "./spec.ts";
export { createMonitorState, effectiveWeight, health, metrics, nextDelay, recordResult, type MonitorOptions, type MonitorState } from "./monitor.ts";
export { ALL_DOWN_POLICIES, AllDownPolicySchema, applyAllDownPolicy, isAllDown, isAllDownPolicy, type AllDownInput, type AllDownPolicy } from "./all-down.ts";
export { DEFAULT_CHECKERS, runCheck, checkDns, checkHttp, checkNone, checkTcp } from "./checks/index.ts";
export { systemClock, type Clock, type TimerHandle } from "./clock.ts";
export { parseDuration, formatDuration } from "./duration.ts";
export type { BackendMetrics, BackendStatus, CheckResult, CheckTarget, Checker } from "./types.ts";
