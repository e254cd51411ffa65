import { describe, expect, it } from "bun:test";
import { emptyWindow, pushResult, pushResultInPlace, windowHealth, type ResultWindow } from "../../../src/pulse/window.ts";

function feed(size: number, results: readonly boolean[]): ResultWindow {
  return results.reduce((w, ok) => pushResult(w, ok), emptyWindow(size));
}

describe("result window", () => {
  it("is healthy when empty", () => {
    expect(windowHealth(emptyWindow(100))).toBe(1);
  });

  it("matches a plain sliding window for random sequences and sizes (including > 32 bits)", () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const size of [1, 2, 31, 32, 33, 100, 1000]) {
      let w = emptyWindow(size);
      const plain: boolean[] = [];
      for (let i = 0; i < 3 * size + 7; i++) {
        const ok = random() < 0.7;
        w = pushResult(w, ok);
        plain.push(ok);
        if (plain.length > size) plain.shift();
        const failures = plain.filter((x) => !x).length;
        expect(w.count).toBe(plain.length);
        expect(w.failures).toBe(failures);
        expect(windowHealth(w)).toBe(1 - failures / plain.length);
      }
    }
  });

  it("pushResult leaves the window it is given as it was; pushResultInPlace updates it without allocating", () => {
    const healthy = feed(4, [true, true, true, true]);
    const failed = pushResult(healthy, false);
    expect(failed.bits).not.toBe(healthy.bits);
    expect(windowHealth(healthy)).toBe(1);
    expect(windowHealth(failed)).toBe(0.75);
    const bits = healthy.bits;
    pushResultInPlace(healthy, false);
    expect(healthy.bits).toBe(bits);
    expect(healthy).toEqual(failed);
  });
});
