import { describe, expect, it } from "bun:test";
import { systemClock, type Clock, type TimerHandle } from "../../../src/pulse/clock.ts";
import type { HeapItem } from "../../../src/pulse/heap.ts";
import { Scheduler } from "../../../src/pulse/scheduler.ts";
import { FakeClock } from "./fake-clock.ts";

interface Item extends HeapItem {
  readonly name: string;
}
const item = (name: string): Item => ({ name, due: 0, heapIndex: -1 });

function setup() {
  const clock = new FakeClock(0);
  const fired: [string, number][] = [];
  const scheduler = new Scheduler<Item>(clock, (i, now) => fired.push([i.name, now]));
  return { clock, fired, scheduler };
}

/** A clock that moves only when told, recording each timer set (none fires by itself). */
function manualClock() {
  let now = 0;
  const timers: { callback: () => void; delayMs: number }[] = [];
  const clock: Clock = {
    now: () => now,
    setTimer: (callback, delayMs): TimerHandle => timers.push({ callback, delayMs }),
    clearTimer: () => {},
  };
  return { clock, timers, advance: (ms: number) => void (now += ms) };
}

describe("Scheduler", () => {
  it("fires items at their due times, in order, from a single timer", async () => {
    const { clock, fired, scheduler } = setup();
    const items = ["c", "a", "b"].map(item);
    scheduler.schedule(items[0]!, 300);
    scheduler.schedule(items[1]!, 100);
    scheduler.schedule(items[2]!, 200);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(99);
    expect(fired).toEqual([]);
    await clock.advance(150);
    expect(fired).toEqual([["a", 100], ["b", 200]]);
    await clock.advance(1_000);
    expect(fired).toEqual([["a", 100], ["b", 200], ["c", 300]]);
    expect(clock.pendingTimers).toBe(0);
  });

  it("re-arms for an item scheduled earlier than the armed timer", async () => {
    const { clock, fired, scheduler } = setup();
    scheduler.schedule(item("late"), 1_000);
    scheduler.schedule(item("early"), 10);
    await clock.advance(10);
    expect(fired).toEqual([["early", 10]]);
    expect(clock.pendingTimers).toBe(1);
  });

  it("moves a scheduled item instead of duplicating it, and cancel() drops it", async () => {
    const { clock, fired, scheduler } = setup();
    const a = item("a");
    const b = item("b");
    scheduler.schedule(a, 100);
    scheduler.schedule(a, 500);
    scheduler.schedule(b, 200);
    scheduler.cancel(b);
    await clock.advance(1_000);
    expect(fired).toEqual([["a", 500]]);
    expect(scheduler.size).toBe(0);
  });

  it("lets onDue reschedule the item it is given", async () => {
    const clock = new FakeClock(0);
    const times: number[] = [];
    const scheduler: Scheduler<Item> = new Scheduler<Item>(clock, (i, now) => {
      times.push(now);
      if (times.length < 4) scheduler.schedule(i, now + 100);
    });
    scheduler.schedule(item("tick"), 100);
    await clock.advance(1_000);
    expect(times).toEqual([100, 200, 300, 400]);
  });

  it("stop() clears the timer and every item", async () => {
    const { clock, fired, scheduler } = setup();
    scheduler.schedule(item("a"), 100);
    scheduler.stop();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(1_000);
    expect(fired).toEqual([]);
  });

  it("caps the work of one timer turn and runs the rest on a 0 ms timer", () => {
    // Each onDue costs 5 ms, more than a turn's budget.
    const { clock, timers, advance } = manualClock();
    const fired: string[] = [];
    const scheduler = new Scheduler<Item>(clock, (i) => {
      fired.push(i.name);
      advance(5);
    });
    for (const name of ["a", "b", "c"]) scheduler.schedule(item(name), 0);
    timers.shift()!.callback();
    expect(fired).toHaveLength(1);
    // b and c are overdue: the next turn comes at once (after I/O and microtasks), not a timer later.
    expect(timers.map((t) => t.delayMs)).toEqual([0]);
    timers.shift()!.callback();
    timers.shift()!.callback();
    expect(fired.toSorted()).toEqual(["a", "b", "c"]); // equal due times: any order
    expect(scheduler.size).toBe(0);
  });

  it("arms one timer per turn, for the next due item, however much the turn schedules", () => {
    const { clock, timers, advance } = manualClock();
    // As Pulse does: a started check schedules its own timeout, here 50 ms ahead.
    const scheduler: Scheduler<Item> = new Scheduler<Item>(clock, (i, at) => scheduler.schedule(i, at + 50));
    scheduler.schedule(item("a"), 10);
    scheduler.schedule(item("b"), 10);
    scheduler.schedule(item("c"), 20);
    advance(10);
    timers.shift()!.callback();
    // Not a 0 ms timer armed mid-turn for c (which is not due): one timer, 10 ms on, for c.
    expect(timers.map((t) => t.delayMs)).toEqual([10]);
  });
});

describe("systemClock", () => {
  it("runs a 0 ms timer as an immediate, before a 1 ms timer, and can cancel it", async () => {
    const order: string[] = [];
    systemClock.setTimer(() => order.push("1ms"), 1);
    systemClock.setTimer(() => order.push("0ms"), 0);
    systemClock.clearTimer(systemClock.setTimer(() => order.push("cancelled"), 0));
    await Bun.sleep(20);
    expect(order).toEqual(["0ms", "1ms"]);
  });
});
