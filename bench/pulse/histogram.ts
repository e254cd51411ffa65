/** @module A fixed-bucket latency histogram (0.01 ms steps up to 10 s) that allocates nothing per sample. */
const STEP_MS = 0.01;
const BUCKETS = 1_000_000;

export class Histogram {
  readonly #counts = new Uint32Array(BUCKETS + 1);
  #n = 0;
  #max = 0;

  add(ms: number): void {
    const v = ms < 0 ? 0 : ms;
    this.#counts[Math.min(BUCKETS, Math.floor(v / STEP_MS))]!++;
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
    const rank = Math.ceil(q * this.#n);
    let seen = 0;
    for (let i = 0; i <= BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank && seen > 0) return (i + 1) * STEP_MS;
    }
    return 0;
  }

  reset(): void {
    this.#counts.fill(0);
    this.#n = 0;
    this.#max = 0;
  }
}
