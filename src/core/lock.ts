/**
 * @module A keyed async lock: work under one key runs one at a time, in arrival order; different
 * keys run concurrently. Used per service ID (and per kernel service identity on create).
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `fn` once every earlier holder of `key` has finished (whether it resolved or threw). */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    this.tails.set(key, mine);
    try {
      if (previous) await previous;
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === mine) this.tails.delete(key);
    }
  }

  /** Runs `fn` holding every key (sorted, so two multi-key holders cannot deadlock). */
  async runAll<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const step = (i: number): Promise<T> => (i === sorted.length ? fn() : this.run(sorted[i]!, () => step(i + 1)));
    return step(0);
  }

  /** Keys currently held or waited for (for tests and diagnostics). */
  get size(): number {
    return this.tails.size;
  }
}
