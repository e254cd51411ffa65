/**
 * @module The TCP prober every `tcp` check shares, in two implementations behind one interface:
 *
 * - io_uring (tcp-prober-uring.ts, ffi/io-uring.ts), picked when the kernel lets us set up a
 *   ring: per event-loop turn ONE io_uring_enter submits every connect started in it, each linked
 *   to its reset, and completions are read from the shared CQ ring. No system call per check.
 * - poll (`PollTcpProber`, below), the fallback when io_uring_setup fails (ENOSYS, EPERM from a
 *   seccomp filter or kernel.io_uring_disabled, a kernel older than 5.19) or when
 *   GORB_TCP_PROBER=poll: per check a non-blocking connect and a reset through libc
 *   (ffi/tcp-probe.ts), then ONE poll per event-loop turn covers every connect started in it.
 *
 * Both: on loopback and near backends the handshake completes inside the turn's system call, so
 * nearly every check settles right after it. The rest (remote or dead backends) are looked at on
 * a timer of 1 ms that backs off to 8 ms while nothing completes. A timeout or a removal answers
 * at once and leaves nothing pending. Sockets are reset (SO_LINGER 0, connect(AF_UNSPEC): RST,
 * no TIME_WAIT) and kept for the next check; slots and buffers are reused, so a check allocates
 * only its promise and its result.
 *
 * PollTcpProber in detail: sockets settled by the first poll are reset with connect(AF_UNSPEC)
 * and kept (that saves socket() and close(), a quarter of the kernel's cost per check on
 * loopback). Connects still pending wait in one epoll set.
 */
import { Errno, errnoName } from "../../../ffi/errno.ts";
import { IoUringUnavailable, type IoUring } from "../../../ffi/io-uring.ts";
import {
  addressFamily, EPOLL_DATA_OFFSET, EPOLL_EVENT_SIZE, POLLERR, POLLFD_SIZE, POLLHUP, POLLOUT, tcpProbeLibc, type SocketAddress, type TcpProbeLibc,
} from "../../../ffi/tcp-probe.ts";
import type { PulseSpec } from "../spec.ts";
import type { CheckResult } from "../types.ts";
import { abortText, connectText, failure, success } from "./common.ts";
import { UringTcpProber } from "./tcp-prober-uring.ts";
import { FREE_LIMIT, MAX_DELAY_MS, MIN_DELAY_MS, noop, ProbeSlot, SocketProber } from "./probe-slot.ts";

/** A backend's address as checked, built once per backend. */
export interface ProbeTarget {
  readonly host: string;
  readonly port: number;
  /** null: not an IP literal (Bun.connect resolves names). */
  readonly address: SocketAddress | null;
}

const EPOLL_BATCH = 256;

/** One connect in flight; pooled. While it waits in epoll it is its signal's abort listener. */
class Slot extends ProbeSlot {
  constructor(readonly onAbort: (slot: Slot) => void) {
    super();
  }
  handleEvent(): void {
    this.onAbort(this);
  }
}

/** Running totals, for the benchmark and tests: how many connects the first poll settled. */
export interface ProberCounters {
  /** Connects in progress after their turn's system call (poll: connect returned EINPROGRESS; io_uring: all submitted). */
  started: number;
  /** Of those, settled right after their turn: by its poll, or found in the CQ ring after its io_uring_enter. */
  settledAtFirstPoll: number;
  /** Of those, left to the timer (remote, dead or slow backends): in epoll, or in flight in the ring. */
  waited: number;
  /** System calls over a turn's fresh connects: poll(2), or io_uring_enter. */
  polls: number;
}

/** What every tcp check calls; `tcpProber()` returns the process's one. */
export interface TcpProber {
  /** "io_uring (coop_taskrun)", "poll", or "poll (io_uring_setup: EPERM)": for reports. */
  readonly name: string;
  readonly counters: ProberCounters;
  /** The target for `host` and `port`; its address is null for a host name. */
  target(host: string, port: number): ProbeTarget;
  /**
   * Connects to `target` (an IP literal: its address is not null); resolves once, with the same
   * results and texts as the Bun.connect check.
   */
  probe(target: ProbeTarget, spec: PulseSpec, signal: AbortSignal): Promise<CheckResult>;
  /** Sockets open for checks in flight (for tests: none may outlive its check). */
  readonly openSockets: number;
  /** Unconnected sockets kept for the next checks. */
  readonly idleSockets: number;
  /** Closes the kept sockets (they are opened again as checks need them). */
  closeIdle(): void;
}

/** The poll(2) + epoll implementation (see the module comment). */
export class PollTcpProber extends SocketProber implements TcpProber {
  readonly #free: Slot[] = [];
  /** Connects started since the last poll; the first `#freshCount` entries are live. */
  readonly #fresh: Slot[] = [];
  #freshCount = 0;
  #flushQueued = false;
  // struct pollfd[]: fd at int32 2i, events at int16 4i+2, revents at int16 4i+3.
  #pollfds = new Uint8Array(64 * POLLFD_SIZE);
  #pollI32 = new Int32Array(this.#pollfds.buffer);
  #pollI16 = new Int16Array(this.#pollfds.buffer);
  /** Slots waiting in epoll, indexed by fd (descriptors are small integers). */
  readonly #waiting: (Slot | undefined)[] = [];
  #waitingCount = 0;
  #epfd = -1;
  readonly #events = new Uint8Array(EPOLL_BATCH * EPOLL_EVENT_SIZE);
  readonly #eventView = new DataView(this.#events.buffer);
  #timer: ReturnType<typeof setTimeout> | undefined;
  #delay = MIN_DELAY_MS;
  // Bound once, so no check allocates a callback.
  readonly #flush = () => this.#pollFresh();
  readonly #tick = () => this.#pollWaiting();
  readonly #onAbort = (slot: Slot) => this.#abort(slot);
  #nextResolve: (result: CheckResult) => void = noop;
  readonly #executor = (resolve: (result: CheckResult) => void) => {
    this.#nextResolve = resolve;
  };

  constructor(
    libc: TcpProbeLibc,
    readonly name = "poll",
  ) {
    super(libc);
  }

  /** Sockets open for checks in flight (for tests: none may outlive its check). */
  get openSockets(): number {
    return this.#freshCount + this.#waitingCount;
  }

  /**
   * Connects to `target` (an IP literal: its address is not null); resolves once, with the same
   * results and texts as the Bun.connect check.
   */
  probe(target: ProbeTarget, spec: PulseSpec, signal: AbortSignal): Promise<CheckResult> {
    const start = performance.now();
    if (signal.aborted) return Promise.resolve(failure(start, abortText(signal, spec)));
    const address = target.address;
    if (address === null) return Promise.resolve(failure(start, connectText(target, "not an IP address")));
    const family = addressFamily(address);
    const fd = this.idle.take(family);
    if (fd < 0) return Promise.resolve(failure(start, connectText(target, errnoName(-fd))));
    const error = this.c.connect(fd, address);
    if (error !== Errno.EINPROGRESS) {
      this.#recycle(fd, family);
      return Promise.resolve(error === 0 ? success(start) : failure(start, connectText(target, errnoName(error))));
    }
    const slot = this.#free.pop() ?? new Slot(this.#onAbort);
    slot.fd = fd;
    slot.target = target;
    slot.spec = spec;
    slot.signal = signal;
    slot.start = start;
    const promise = new Promise<CheckResult>(this.#executor);
    slot.resolve = this.#nextResolve;
    this.#fresh[this.#freshCount++] = slot;
    // A microtask runs after the scheduler has started every check due in this tick: one poll for all.
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(this.#flush);
    }
    return promise;
  }

  #pollFresh(): void {
    this.#flushQueued = false;
    const count = this.#freshCount;
    this.#freshCount = 0;
    if (count * POLLFD_SIZE > this.#pollfds.byteLength) this.#growPollfds(count);
    const i32 = this.#pollI32;
    const i16 = this.#pollI16;
    for (let i = 0; i < count; i++) {
      i32[2 * i] = this.#fresh[i]!.fd;
      i16[4 * i + 2] = POLLOUT;
      i16[4 * i + 3] = 0;
    }
    // −1 (ENOMEM, EINTR) leaves every revents 0: those connects then wait in epoll.
    this.c.pollNow(this.#pollfds, count);
    this.counters.polls++;
    this.counters.started += count;
    for (let i = 0; i < count; i++) {
      const slot = this.#fresh[i]!;
      const revents = i16[4 * i + 3]!;
      // Aborted between connect and this poll (a removal in the same tick): no listener was set yet.
      if (slot.signal!.aborted) this.#finish(slot, failure(slot.start, abortText(slot.signal!, slot.spec!)), true);
      else if (revents !== 0) {
        this.counters.settledAtFirstPoll++;
        this.#settle(slot, revents, true);
      } else this.#wait(slot);
    }
  }

  #growPollfds(count: number): void {
    let bytes = this.#pollfds.byteLength;
    while (bytes < count * POLLFD_SIZE) bytes *= 2;
    this.#pollfds = new Uint8Array(bytes);
    this.#pollI32 = new Int32Array(this.#pollfds.buffer);
    this.#pollI16 = new Int16Array(this.#pollfds.buffer);
  }

  /** Still connecting: watch it in epoll until it completes or its signal aborts. */
  #wait(slot: Slot): void {
    if (this.#epfd < 0) this.#epfd = this.c.epollCreate();
    const error = this.#epfd < 0 ? this.c.errno() : this.c.epollAdd(this.#epfd, slot.fd);
    if (error !== 0) return this.#finish(slot, failure(slot.start, connectText(slot.target!, `epoll: ${errnoName(error)}`)), false);
    this.#waiting[slot.fd] = slot;
    this.#waitingCount++;
    this.counters.waited++;
    slot.signal!.addEventListener("abort", slot);
    // A new connect is likely to complete within a round trip: look again soon.
    this.#delay = MIN_DELAY_MS;
    this.#timer ??= setTimeout(this.#tick, MIN_DELAY_MS);
  }

  #pollWaiting(): void {
    this.#timer = undefined;
    let completed = 0;
    for (;;) {
      const n = this.c.epollNow(this.#epfd, this.#events, EPOLL_BATCH);
      for (let i = 0; i < n; i++) {
        const at = i * EPOLL_EVENT_SIZE;
        const fd = this.#eventView.getUint32(at + EPOLL_DATA_OFFSET, true);
        const slot = this.#waiting[fd];
        if (slot === undefined) continue;
        this.#unwait(slot);
        this.#settle(slot, this.#eventView.getUint32(at, true), false);
        completed++;
      }
      if (n < EPOLL_BATCH) break;
    }
    if (this.#waitingCount === 0) return;
    this.#delay = completed > 0 ? MIN_DELAY_MS : Math.min(this.#delay * 2, MAX_DELAY_MS);
    this.#timer = setTimeout(this.#tick, this.#delay);
  }

  #unwait(slot: Slot): void {
    this.#waiting[slot.fd] = undefined;
    this.#waitingCount--;
    // Pulse reuses unaborted controllers: the listener must not outlive this check.
    slot.signal!.removeEventListener("abort", slot);
  }

  /** Timeout or removal while waiting in epoll: close (which also leaves epoll) and answer now. */
  #abort(slot: Slot): void {
    if (this.#waiting[slot.fd] !== slot) return;
    this.#unwait(slot);
    this.#finish(slot, failure(slot.start, abortText(slot.signal!, slot.spec!)), false);
  }

  /**
   * The connect completed: POLLOUT alone is connected, an error or hang-up carries SO_ERROR.
   * `reusable`: the socket never joined epoll, so it can be kept (one that did would stay registered).
   */
  #settle(slot: Slot, revents: number, reusable: boolean): void {
    const error = revents & (POLLERR | POLLHUP) ? this.c.socketError(slot.fd) : 0;
    if (error !== 0) return this.#finish(slot, failure(slot.start, connectText(slot.target!, errnoName(error))), reusable);
    const result = revents & POLLOUT ? success(slot.start) : failure(slot.start, connectText(slot.target!, "connection closed"));
    this.#finish(slot, result, reusable);
  }

  /** Resets the connection and keeps the socket for the next check, or closes it. */
  #recycle(fd: number, family: number): void {
    if (this.idle.hasRoom(family) && this.c.disconnect(fd)) this.idle.keep(fd, family);
    else this.c.close(fd);
  }

  #finish(slot: Slot, result: CheckResult, reusable: boolean): void {
    if (reusable) this.#recycle(slot.fd, addressFamily(slot.target!.address!));
    else this.c.close(slot.fd);
    const resolve = slot.resolve;
    slot.fd = -1;
    slot.target = null;
    slot.spec = null;
    slot.signal = null;
    slot.resolve = noop;
    if (this.#free.length < FREE_LIMIT) this.#free.push(slot);
    resolve(result);
  }
}

/** How `createTcpProber` chooses (tests inject these). */
export interface ProberChoice {
  /** GORB_TCP_PROBER: "poll" forces the poll implementation; anything else (or unset) prefers io_uring. */
  env?: string | undefined;
  /** Sets up the ring; default `IoUring.open` with the prober's sizes. Throws IoUringUnavailable. */
  openRing?: () => IoUring;
}

/** The io_uring prober when a ring can be set up (and GORB_TCP_PROBER is not "poll"), else the poll one. */
export function createTcpProber(libc: TcpProbeLibc, choice: ProberChoice = {}): TcpProber {
  if (choice.env === "poll") return new PollTcpProber(libc, "poll (GORB_TCP_PROBER=poll)");
  try {
    return new UringTcpProber(libc, (choice.openRing ?? UringTcpProber.openRing)());
  } catch (error) {
    if (!(error instanceof IoUringUnavailable)) throw error;
    return new PollTcpProber(libc, `poll (${error.message})`);
  }
}

let shared: TcpProber | null | undefined;

/** The process's prober, or null when libc cannot be used through bun:ffi (then Bun.connect). */
export function tcpProber(): TcpProber | null {
  if (shared === undefined) {
    const libc = tcpProbeLibc();
    shared = libc === null ? null : createTcpProber(libc, { env: process.env.GORB_TCP_PROBER });
  }
  return shared;
}
