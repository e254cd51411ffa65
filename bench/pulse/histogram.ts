/**
 * @module A fixed-bucket latency histogram that allocates nothing per sample: 0.01 ms steps up
 * to 1 s, then 1 ms steps up to 60 s (under 1 MB in all).
 */
const FINE_MS = 0.01;
const FINE = 100_000; // 0 .. 1 s
const COARSE = 59_000; // 1 s .. 60 s, 1 ms each

export class Histogram {
  readonly #counts = new Uint32Array(FINE + COARSE + 1);
  #n = 0;
  #max = 0;

  #bucket(ms: number): number {
    if (ms < 1000) return Math.floor(ms / FINE_MS);
    return Math.min(FINE + COARSE, FINE + Math.floor(ms - 1000));
  }

  #upper(bucket: number): number {
    return bucket < FINE ? (bucket + 1) * FINE_MS : 1000 + (bucket - FINE + 1);
  }

  add(ms: number): void {
    const v = ms < 0 ? 0 : ms;
    this.#counts[this.#bucket(v)]!++;
    this.#n++;
    if (v > this.#max) this.#max = v;
  }

  get count(): number {
    return this.#n;
  }

  get max(): number {
    return this.#max;
  }

  /** The value below which a fraction `q` of samples fall (bucket upper bound). */
  quantile(q: number): number {
    const rank = Math.max(1, Math.ceil(q * this.#n));
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return this.#upper(i);
    }
    return 0;
  }
}
