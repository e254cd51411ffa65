import { describe, expect, it } from "bun:test";
import { PersistentMap } from "../../../src/core/pmap.ts";

describe("PersistentMap", () => {
  it("behaves like a Map and never changes an old version", () => {
    let current = PersistentMap.empty<number>();
    const model = new Map<string, number>();
    const checkpoints: [PersistentMap<number>, Map<string, number>][] = [[current, new Map()]];
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 300;
    for (let i = 0; i < 3000; i++) {
      const key = `k${rand()}`;
      if (rand() % 4 === 0) {
        current = current.without(key);
        model.delete(key);
      } else {
        current = current.with(key, i);
        model.set(key, i);
      }
      if (i % 100 === 0) checkpoints.push([current, new Map(model)]);
    }
    checkpoints.push([current, model]);
    for (const [version, expected] of checkpoints) {
      expect(version.size).toBe(expected.size);
      expect(new Map(version)).toEqual(expected);
      for (const [k, v] of expected) expect(version.get(k)).toBe(v);
      expect([...version.keys()].sort()).toEqual([...expected.keys()].sort());
    }
  });

  it("answers has/get/without for missing keys", () => {
    const m = PersistentMap.from([["a", 1]]);
    expect(m.has("b")).toBe(false);
    expect(m.get("b")).toBeUndefined();
    expect(m.without("b")).toBe(m);
    expect([...m.values()]).toEqual([1]);
  });
});
