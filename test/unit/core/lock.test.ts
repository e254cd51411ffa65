import { describe, expect, it } from "bun:test";
import { KeyedLock } from "../../../src/core/lock.ts";

describe("KeyedLock", () => {
  it("runs work under one key one at a time, in arrival order", async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const job = (name: string, ms: number) => lock.run("a", async () => {
      log.push(`start ${name}`);
      await Bun.sleep(ms);
      log.push(`end ${name}`);
      return name;
    });
    expect(await Promise.all([job("1", 5), job("2", 1), job("3", 0)])).toEqual(["1", "2", "3"]);
    expect(log).toEqual(["start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]);
    expect(lock.size).toBe(0);
  });

  it("runs different keys concurrently", async () => {
    const lock = new KeyedLock();
    let inside = 0;
    let most = 0;
    await Promise.all(["a", "b", "c"].map((k) => lock.run(k, async () => {
      most = Math.max(most, ++inside);
      await Bun.sleep(2);
      inside--;
    })));
    expect(most).toBe(3);
  });

  it("releases the key when the work throws", async () => {
    const lock = new KeyedLock();
    await expect(lock.run("a", async () => { throw new Error("boom"); })).rejects.toThrow("boom");
    expect(await lock.run("a", async () => 1)).toBe(1);
    expect(lock.size).toBe(0);
  });

  it("holds several keys without deadlocking against the reverse order", async () => {
    const lock = new KeyedLock();
    const both = await Promise.all([lock.runAll(["x", "y"], async () => "xy"), lock.runAll(["y", "x"], async () => "yx"), lock.run("x", async () => "x")]);
    expect(both).toEqual(["xy", "yx", "x"]);
  });
});
