/** @module The time source the pulse runs on, injected so tests can drive it step by step. */

/** Opaque handle returned by `setTimer`. */
export type TimerHandle = unknown;

/**
 * Milliseconds plus one-shot timers. `now()` must never go backwards: schedules are absolute
 * times, so a wall-clock step would stall or stampede every check.
 */
export interface Clock {
  now(): number;
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

// performance.now() is monotonic; anchoring it at timeOrigin keeps values readable as epoch ms.
const origin = performance.timeOrigin;

/** The real clock: monotonic time expressed as (approximate) epoch milliseconds. */
export const systemClock: Clock = {
  now: () => origin + performance.now(),
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
