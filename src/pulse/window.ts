/**
 * @module The sliding window of the last N results behind `health` (GORB: N = 100). `pushResult`
 * returns a new window; `pushResultInPlace` updates one (the scheduler's hot path: a window per
 * check that lives one interval would be promoted by the GC and pile up until a full collection).
 */

/** Ring of failure bits (1 = failed) plus running counts. */
export interface ResultWindow {
  readonly size: number;
  readonly bits: Uint32Array;
  /** Ring position the next result is written to. */
  readonly next: number;
  /** Results held (≤ size). */
  readonly count: number;
  /** Failed results held. */
  readonly failures: number;
}

/** An empty window holding up to `size` results. */
export function emptyWindow(size: number): ResultWindow {
  return { size, bits: new Uint32Array(Math.ceil(size / 32)), next: 0, count: 0, failures: 0 };
}

function bitAt(bits: Uint32Array, i: number): number {
  return (bits[i >>> 5]! >>> (i & 31)) & 1;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Appends one result, evicting the oldest once full. Does not mutate `window`. */
export function pushResult(window: ResultWindow, ok: boolean): ResultWindow {
  const copy = copyWindow(window);
  pushResultInPlace(copy, ok);
  return copy;
}

/** A window that shares nothing with `window`. */
export function copyWindow(window: ResultWindow): ResultWindow {
  return { ...window, bits: window.bits.slice() };
}

/** Appends one result to `window` itself (no allocation), evicting the oldest once full. */
export function pushResultInPlace(window: ResultWindow, ok: boolean): void {
  const w = window as Mutable<ResultWindow>;
  const { size, next } = w;
  const full = w.count === size;
  const old = full ? bitAt(w.bits, next) : 0;
  const bit = ok ? 0 : 1;
  if (bitAt(w.bits, next) !== bit) w.bits[next >>> 5] = w.bits[next >>> 5]! ^ (1 << (next & 31));
  w.next = next + 1 === size ? 0 : next + 1;
  w.count = full ? size : w.count + 1;
  w.failures = w.failures - old + bit;
}

/** GORB's health: 1 − failures ÷ results; 1 for an empty window. Same float steps as Go's. */
export function windowHealth(window: ResultWindow): number {
  return window.count === 0 ? 1 : 1 - window.failures / window.count;
}
