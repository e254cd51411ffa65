/**
 * @module A persistent (immutable, structurally shared) map with string keys, for desired-state
 * snapshots: `with`/`without` return a new map that shares all but one bucket with the old one,
 * so a write costs O(size / 128), not a copy of the whole map (which made the garbage collector
 * the bottleneck of PUT with thousands of backends).
 */

/** The read side of a string-keyed map; a plain Map fits it too. */
export interface ReadonlyStringMap<V> extends Iterable<[string, V]> {
  readonly size: number;
  get(key: string): V | undefined;
  has(key: string): boolean;
  keys(): Iterable<string>;
  values(): Iterable<V>;
}

const BUCKETS = 128;
/** Up to this size the map is one bucket (copying it is cheaper than hashing). */
const SMALL = 32;

function bucketOf(key: string): number {
  // FNV-1a, 32 bit.
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % BUCKETS;
}

export class PersistentMap<V> implements ReadonlyStringMap<V> {
  private constructor(
    /** One bucket while small; else BUCKETS buckets (undefined = empty). Never mutated once shared. */
    private readonly buckets: readonly (ReadonlyMap<string, V> | undefined)[],
    readonly size: number,
  ) {}

  static empty<V>(): PersistentMap<V> {
    return new PersistentMap<V>([undefined], 0);
  }

  static from<V>(entries: Iterable<readonly [string, V]>): PersistentMap<V> {
    if (entries instanceof PersistentMap) return entries as PersistentMap<V>;
    let map = PersistentMap.empty<V>();
    for (const [k, v] of entries) map = map.with(k, v);
    return map;
  }

  private bucket(key: string): ReadonlyMap<string, V> | undefined {
    return this.buckets.length === 1 ? this.buckets[0] : this.buckets[bucketOf(key)];
  }

  get(key: string): V | undefined {
    return this.bucket(key)?.get(key);
  }

  has(key: string): boolean {
    return this.bucket(key)?.has(key) ?? false;
  }

  /** A map with `key` set to `value`. */
  with(key: string, value: V): PersistentMap<V> {
    const single = this.buckets.length === 1;
    const index = single ? 0 : bucketOf(key);
    const next = new Map(this.buckets[index]);
    const added = !next.has(key);
    next.set(key, value);
    const size = this.size + (added ? 1 : 0);
    if (single && size > SMALL) return PersistentMap.spread(next, size);
    const buckets = this.buckets.slice();
    buckets[index] = next;
    return new PersistentMap(buckets, size);
  }

  /** A map without `key` (this one when it has no such key). */
  without(key: string): PersistentMap<V> {
    const index = this.buckets.length === 1 ? 0 : bucketOf(key);
    const old = this.buckets[index];
    if (!old?.has(key)) return this;
    const next = new Map(old);
    next.delete(key);
    const buckets = this.buckets.slice();
    buckets[index] = next.size === 0 && buckets.length > 1 ? undefined : next;
    return new PersistentMap(buckets, this.size - 1);
  }

  private static spread<V>(entries: Map<string, V>, size: number): PersistentMap<V> {
    const buckets: (Map<string, V> | undefined)[] = new Array(BUCKETS).fill(undefined);
    for (const [k, v] of entries) (buckets[bucketOf(k)] ??= new Map()).set(k, v);
    return new PersistentMap(buckets, size);
  }

  *entries(): Generator<[string, V]> {
    for (const b of this.buckets) if (b) yield* b;
  }

  *keys(): Generator<string> {
    for (const b of this.buckets) if (b) yield* b.keys();
  }

  *values(): Generator<V> {
    for (const b of this.buckets) if (b) yield* b.values();
  }

  [Symbol.iterator](): Generator<[string, V]> {
    return this.entries();
  }
}
