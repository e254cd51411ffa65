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

/** A 0 ms timer runs as an immediate: setTimeout(0) waits about 1 ms, idle, for nothing. */
class Immediate {
  constructor(readonly handle: ReturnType<typeof setImmediate>) {}
}

/** The real clock: monotonic time expressed as (approximate) epoch milliseconds. */
export const systemClock: Clock = {
  now: () => origin + performance.now(),
  setTimer: (callback, delayMs) => (delayMs <= 0 ? new Immediate(setImmediate(callback)) : setTimeout(callback, delayMs)),
  clearTimer: (handle) => {
    if (handle instanceof Immediate) clearImmediate(handle.handle);
    else clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
