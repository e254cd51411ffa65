/**
 * @module One timer for every check: a min-heap of due times and a single clock timer armed for
 * the earliest. No timer per backend, so 10,000 backends cost one pending timer.
 */
import type { Clock, TimerHandle } from "./clock.ts";
import { DueHeap, type HeapItem } from "./heap.ts";

// setTimeout has millisecond resolution and may fire a fraction early: run what falls due within
// that margin. Strictly below it, so an item rescheduled 1 ms ahead waits for the next timer.
const EARLY_MS = 1;

// One timer turn starts at most this much work; the rest runs on the next turn. Checks started
// together complete together and so fall due together next interval: without a cap a late turn
// merges its neighbours into one batch for good, and batches grow until their own start cost is
// the lateness (a convoy: seen with the libc TCP prober, which settles a whole turn at once).
// Capped turns settle in separate groups at least this far apart, which stay apart.
const TURN_BUDGET_MS = 1;

export class Scheduler<T extends HeapItem> {
  readonly #heap = new DueHeap<T>();
  readonly #clock: Clock;
  readonly #onDue: (item: T, now: number) => void;
  #timer: TimerHandle | undefined;
  #timerDue = Infinity;
  /** Inside #run: items it schedules must not arm a timer; its own #arm() runs once at the end. */
  #running = false;
  readonly #fire = () => this.#run();

  /** `onDue(item, now)` runs when `item` falls due; it is out of the heap by then. */
  constructor(clock: Clock, onDue: (item: T, now: number) => void) {
    this.#clock = clock;
    this.#onDue = onDue;
  }

  /** Items waiting. */
  get size(): number {
    return this.#heap.size;
  }

  /** Schedules `item` at clock time `due`, moving it if already scheduled. */
  schedule(item: T, due: number): void {
    this.#heap.set(item, due);
    if (due < this.#timerDue && !this.#running) this.#arm();
  }

  /** Unschedules `item` (no-op if not scheduled). The timer re-arms lazily. */
  cancel(item: T): void {
    this.#heap.delete(item);
  }

  /** Drops every item and the timer. */
  stop(): void {
    this.#heap.clear();
    this.#disarm();
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#timerDue = Infinity;
  }

  #arm(): void {
    const top = this.#heap.peek();
    if (top === undefined) return this.#disarm();
    // A timer already set for an earlier time will re-arm when it fires.
    if (this.#timer !== undefined && this.#timerDue <= top.due) return;
    this.#disarm();
    this.#timerDue = top.due;
    this.#timer = this.#clock.setTimer(this.#fire, Math.max(0, Math.ceil(top.due - this.#clock.now())));
  }

  #run(): void {
    this.#timer = undefined;
    this.#timerDue = Infinity;
    const now = this.#clock.now();
    this.#running = true;
    try {
      for (let top = this.#heap.peek(); top !== undefined && top.due < now + EARLY_MS; top = this.#heap.peek()) {
        // Still due: #arm() sets a 0 ms timer for it, after this turn's I/O and microtasks.
        if (this.#clock.now() - now >= TURN_BUDGET_MS) break;
        this.#heap.delete(top);
        this.#onDue(top, now);
      }
    } finally {
      this.#running = false;
      this.#arm();
    }
  }
}
