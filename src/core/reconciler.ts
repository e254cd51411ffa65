/**
 * @module The periodic reconcile (--reconcile-interval) and the on-demand one (the API), one at a
 * time, with the counters /status shows. A run that repairs waits for the one in progress; a dry
 * run only reads, so it never waits. The timer is re-armed after each run, so runs never overlap
 * however slow the kernel is. A periodic run with refused repairs (or that could not read the
 * kernel) doubles the delay to the next one, up to 16× the interval, so a permanent refusal is
 * not retried and logged every interval forever; a clean run restores the interval.
 */
import type { ReconcileResult, ReconcileTrigger } from "./reconcile.ts";

export interface ReconcileTarget {
  reconcile(options: { dryRun?: boolean; trigger?: ReconcileTrigger }): Promise<ReconcileResult>;
}

export interface ReconcilerStatus {
  /** 0 when periodic runs are disabled. */
  readonly intervalMs: number;
  /** The delay before the next periodic run: the interval, or more while repairs keep failing. */
  readonly delayMs: number;
  /** Runs that could repair (periodic and on demand; not dry runs). */
  readonly runs: number;
  /** Operations applied successfully, and refused, over all runs. */
  readonly repairs: number;
  readonly failures: number;
  /** Runs that could not read the kernel at all. */
  readonly errors: number;
  readonly last: ReconcileResult | null;
  readonly lastError: string | null;
}

/** How far a run of failures stretches the delay between periodic runs. */
export const MAX_BACKOFF_FACTOR = 16;

export class Reconciler {
  private delayMs: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private runs = 0;
  private repairs = 0;
  private failures = 0;
  private errors = 0;
  private last: ReconcileResult | null = null;
  private lastError: string | null = null;

  constructor(
    private readonly target: ReconcileTarget,
    readonly intervalMs: number,
    private readonly log: (line: string) => void = (line) => console.error(line),
  ) {
    this.delayMs = intervalMs;
  }

  /** Starts the periodic runs (nothing when the interval is 0). */
  start(): void {
    if (this.intervalMs > 0 && !this.stopped) this.arm();
  }

  /** Reconciles now; a dry run reports the difference without changing anything. */
  run(options: { dryRun?: boolean; trigger?: ReconcileTrigger } = {}): Promise<ReconcileResult> {
    if (options.dryRun) return this.target.reconcile({ dryRun: true, trigger: options.trigger ?? "api" });
    const next = this.tail.then(() => this.repair(options.trigger ?? "api"));
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.tail;
  }

  status(): ReconcilerStatus {
    return { intervalMs: this.intervalMs, delayMs: this.delayMs, runs: this.runs, repairs: this.repairs, failures: this.failures, errors: this.errors, last: this.last, lastError: this.lastError };
  }

  private async repair(trigger: ReconcileTrigger): Promise<ReconcileResult> {
    try {
      const result = await this.target.reconcile({ trigger });
      this.runs++;
      this.repairs += result.repaired;
      this.failures += result.failed;
      this.last = result;
      this.lastError = null;
      this.backOff(result.failed > 0);
      return result;
    } catch (e) {
      this.errors++;
      this.lastError = (e as Error).message;
      this.backOff(true);
      throw e;
    }
  }

  private backOff(failed: boolean): void {
    this.delayMs = failed ? Math.min(this.delayMs * 2, this.intervalMs * MAX_BACKOFF_FACTOR) : this.intervalMs;
  }

  private arm(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      this.run({ trigger: "periodic" })
        .catch((e) => this.log(`gorb: reconcile (periodic) failed: ${(e as Error).message}`))
        .finally(() => {
          if (!this.stopped) this.arm();
        });
    }, this.delayMs);
  }
}
