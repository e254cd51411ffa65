/**
 * @module What both TCP probers (tcp-prober.ts: poll; tcp-prober-uring.ts: io_uring) share: the
 * slot of a check in flight, the pool of idle sockets, their limits, and a base class with
 * their counters, targets and idle sockets. Slots and sockets are pooled: a check allocates neither.
 */
import { AF_INET, type TcpProbeLibc } from "../../../ffi/tcp-probe.ts";
import type { PulseSpec } from "../spec.ts";
import type { CheckResult } from "../types.ts";
import type { ProbeTarget, ProberCounters } from "./tcp-prober.ts";

/** Connects still pending after their turn are looked at on a timer: 1 ms, doubling to 8 ms while none completes. */
export const MIN_DELAY_MS = 1;
export const MAX_DELAY_MS = 8;
/** Idle slots kept for reuse: enough for a busy turn, bounded after a burst. */
export const FREE_LIMIT = 4096;
/** Idle sockets kept per address family: a turn starts a few dozen connects; the rest are closed. */
export const IDLE_SOCKETS = 256;

export const noop = (): void => {};

/** One check in flight. While it waits past its turn it is its signal's abort listener (`handleEvent`). */
export abstract class ProbeSlot {
  fd = -1;
  target: ProbeTarget | null = null;
  spec: PulseSpec | null = null;
  signal: AbortSignal | null = null;
  start = 0;
  resolve: (result: CheckResult) => void = noop;
  abstract handleEvent(): void;
}

/** Unconnected sockets (SO_LINGER 0), ready for a connect, kept per address family. */
export class IdleSockets {
  readonly #v4: number[] = [];
  readonly #v6: number[] = [];
  constructor(readonly libc: TcpProbeLibc) {}

  /** A kept socket of `family`, else a new one; −errno when socket() fails. */
  take(family: number): number {
    const pool = family === AF_INET ? this.#v4 : this.#v6;
    return pool.length > 0 ? pool.pop()! : this.libc.socket(family);
  }

  /** Whether `keep` would keep another socket of `family` (else the caller closes it). */
  hasRoom(family: number): boolean {
    return (family === AF_INET ? this.#v4 : this.#v6).length < IDLE_SOCKETS;
  }

  /** Keeps `fd`, unconnected, for a later `take` (call `hasRoom` first). */
  keep(fd: number, family: number): void {
    (family === AF_INET ? this.#v4 : this.#v6).push(fd);
  }

  get size(): number {
    return this.#v4.length + this.#v6.length;
  }

  /** Closes every kept socket (they are opened again as checks need them). */
  closeAll(): void {
    for (const pool of [this.#v4, this.#v6]) while (pool.length > 0) this.libc.close(pool.pop()!);
  }
}

/**
 * The part of a prober that does not depend on how connects are waited for: counters, targets
 * and the idle sockets. A check's own start (`probe`) stays written out in each prober: moved
 * here as shared methods, it measured 43 → 52 µs of CPU per check in two of two paired quick
 * runs of bench:pulse (which vary by ±30 %), too likely a cost on the hot path to take.
 */
export abstract class SocketProber {
  readonly counters: ProberCounters = { started: 0, settledAtFirstPoll: 0, waited: 0, polls: 0 };
  protected readonly idle: IdleSockets;

  constructor(protected readonly c: TcpProbeLibc) {
    this.idle = new IdleSockets(c);
  }

  /** The target for `host` and `port`; its address is null for a host name. */
  target(host: string, port: number): ProbeTarget {
    return { host, port, address: this.c.socketAddress(host, port) };
  }

  /** Unconnected sockets kept for the next checks. */
  get idleSockets(): number {
    return this.idle.size;
  }

  /** Closes the kept sockets (they are opened again as checks need them). */
  closeIdle(): void {
    this.idle.closeAll();
  }
}
