/**
 * @module The sliding window of the last N results behind `health` (GORB: N = 100). Immutable:
 * a push returns a new window and shares the bit array when no bit changes (the steady state).
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

/** Appends one result, evicting the oldest once full. Does not mutate `window`. */
export function pushResult(window: ResultWindow, ok: boolean): ResultWindow {
  const { size, next } = window;
  const full = window.count === size;
  const old = full ? bitAt(window.bits, next) : 0;
  const bit = ok ? 0 : 1;
  let bits = window.bits;
  if (bitAt(bits, next) !== bit) {
    bits = bits.slice();
    bits[next >>> 5] = bits[next >>> 5]! ^ (1 << (next & 31));
  }
  return {
    size,
    bits,
    next: next + 1 === size ? 0 : next + 1,
    count: full ? size : window.count + 1,
    failures: window.failures - old + bit,
  };
}

/** GORB's health: 1 − failures ÷ results; 1 for an empty window. Same float steps as Go's. */
export function windowHealth(window: ResultWindow): number {
  return window.count === 0 ? 1 : 1 - window.failures / window.count;
}
