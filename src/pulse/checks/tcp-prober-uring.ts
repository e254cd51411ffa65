/**
 * @module The io_uring TCP prober (see tcp-prober.ts for the interface and the choice): no
 * system call per check. Each check's connect goes into the submission ring as an
 * IORING_OP_CONNECT linked to a second CONNECT with an AF_UNSPEC sockaddr, the same reset as
 * the poll prober's disconnect (RST, socket ready for reuse), which the kernel runs as soon as
 * the connect succeeds. While a scheduler turn starts checks, one io_uring_enter submits every
 * SUBMIT_BATCH connects (so the turn's time budget sees their kernel time); one more after the
 * turn submits the rest.
 * (Linked, the reset needs no later submit: a backend is not left holding an accepted
 * connection until some next turn, which may be a whole interval away on a quiet pulse.)
 *
 * On loopback and near backends the handshake completes inside that enter: io_uring tries the
 * non-blocking connect inline, its internal poll is ready at once, and with COOP_TASKRUN the
 * completion work runs before the enter returns. So the CQEs are read from the shared CQ ring
 * right after each enter (`counters.settledAtFirstPoll`). Connects still in flight (remote,
 * slow or dead backends) complete later, their CQEs posted whenever the thread next leaves the
 * kernel; a timer of 1 ms backing off to 8 ms reads the ring (an enter only when the kernel
 * flags completion work still waiting).
 *
 * A timeout or removal answers at once, submits IORING_OP_ASYNC_CANCEL for the connect (the ring
 * holds a reference to the socket: close() alone would not stop a connect to a dead host) and
 * closes the socket when the cancelled chain's CQEs are in, normally within the same enter.
 *
 * A socket is kept for the next check when its connect and reset both succeeded, or when the
 * connect was refused (the kernel has already disconnected it; the reset completes −ECANCELED).
 * Slots are indexed by their CQE's user_data (slot id × 2 + 0 for the connect, + 1 for the
 * reset); a slot is reused only once both CQEs are in.
 */
import { ptr as addressOf } from "bun:ffi";
import { Errno, errnoName } from "../../../ffi/errno.ts";
import { IoUring, IoUringModes, SQE_IO_LINK, type IoUringMode } from "../../../ffi/io-uring.ts";
import { AF_INET, addressFamily, type TcpProbeLibc } from "../../../ffi/tcp-probe.ts";
import type { PulseSpec } from "../spec.ts";
import type { CheckResult } from "../types.ts";
import { abortText, connectText, failure, success } from "./common.ts";
import { FREE_LIMIT, MAX_DELAY_MS, MIN_DELAY_MS, noop, ProbeSlot, SocketProber } from "./probe-slot.ts";
import type { ProbeTarget, TcpProber } from "./tcp-prober.ts";

/** SQ entries: a turn's connects take two each; a larger turn is submitted in several enters. */
const SQ_ENTRIES = 256;
/** Connects per io_uring_enter while a turn is starting checks (the rest go in one enter after it). */
export const SUBMIT_BATCH = 16;
/** CQ entries: completions of one turn plus those arriving between two timer reads. */
const CQ_ENTRIES = 4096;
/** user_data of cancel requests: their CQEs are ignored (odd: no connect has it). */
const CANCEL_USER_DATA = 0xffffffff;
const ECANCELED = 125;
/** Enters in a row to drain completion work the kernel still flags (DEFER_TASKRUN, CQ overflow). */
const MAX_EXTRA_ENTERS = 16;

const FREE = 0;
/** Started in this turn, not submitted yet. */
const FRESH = 1;
/** Submitted, its connect's CQE not in yet; the check is unanswered. */
const CONNECTING = 2;
/** Answered (or aborted); waiting for the rest of its CQEs before the socket is kept or closed. */
const DRAINING = 3;

/** One check in the ring; pooled (beyond FREE_LIMIT free slots, a slot's id is kept, the object dropped). */
class Slot extends ProbeSlot {
  family = AF_INET;
  state = FREE;
  /** CQEs still to come (connect, reset). */
  cqes = 0;
  connectResult = 0;
  resetResult = 0;
  aborted = false;
  /** Registered as its signal's abort listener. */
  listening = false;
  constructor(
    readonly id: number,
    readonly onAbort: (slot: Slot) => void,
  ) {
    super();
  }
  handleEvent(): void {
    this.onAbort(this);
  }
}

export class UringTcpProber extends SocketProber implements TcpProber {
  readonly name: string;
  readonly #ring: IoUring;
  /** Every slot by id (user_data >>> 1); undefined: id free in `#freeIds`. */
  readonly #slots: (Slot | undefined)[] = [];
  readonly #free: Slot[] = [];
  readonly #freeIds: number[] = [];
  /** Checks started since the last submit; the first `#freshCount` entries are live. */
  readonly #fresh: Slot[] = [];
  #freshCount = 0;
  #flushQueued = false;
  /** Slots not FREE: each holds a socket. */
  #busy = 0;
  /** Submitted slots with CQEs still to come: the timer runs while there are any. */
  #inFlight = 0;
  /** The sockaddr that resets (AF_UNSPEC), and its address for the SQEs. */
  readonly #unspec = new Uint8Array(16);
  readonly #unspecAt: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #delay = MIN_DELAY_MS;
  #completed = 0;
  // Bound once, so no check allocates a callback.
  readonly #flush = () => this.#submitFresh();
  readonly #tick = () => this.#readLater();
  readonly #onAbort = (slot: Slot) => this.#abort(slot);
  #nextResolve: (result: CheckResult) => void = noop;
  readonly #executor = (resolve: (result: CheckResult) => void) => {
    this.#nextResolve = resolve;
  };

  /**
   * A ring sized for this prober, in the first of `modes` the kernel accepts; by default
   * COOP_TASKRUN (with SINGLE_ISSUER where known). Throws IoUringUnavailable.
   */
  static openRing(modes: readonly IoUringMode[] = [IoUringModes.coopSingleIssuer, IoUringModes.coop]): IoUring {
    return IoUring.open({ entries: SQ_ENTRIES, cqEntries: CQ_ENTRIES, modes });
  }

  /** Takes ownership of `ring`. */
  constructor(libc: TcpProbeLibc, ring: IoUring) {
    super(libc);
    this.#ring = ring;
    this.name = `io_uring (${ring.mode})`;
    this.#unspecAt = addressOf(this.#unspec);
  }

  get openSockets(): number {
    return this.#busy;
  }

  probe(target: ProbeTarget, spec: PulseSpec, signal: AbortSignal): Promise<CheckResult> {
    const start = performance.now();
    if (signal.aborted) return Promise.resolve(failure(start, abortText(signal, spec)));
    const address = target.address;
    if (address === null) return Promise.resolve(failure(start, connectText(target, "not an IP address")));
    const family = addressFamily(address);
    const fd = this.idle.take(family);
    if (fd < 0) return Promise.resolve(failure(start, connectText(target, errnoName(-fd))));
    const slot = this.#free.pop() ?? this.#newSlot();
    slot.fd = fd;
    slot.family = family;
    slot.target = target;
    slot.spec = spec;
    slot.signal = signal;
    slot.start = start;
    slot.state = FRESH;
    this.#busy++;
    const promise = new Promise<CheckResult>(this.#executor);
    slot.resolve = this.#nextResolve;
    this.#fresh[this.#freshCount++] = slot;
    // Submitted now, inside the scheduler's turn, whose time budget must see the handshakes'
    // kernel time: left to the microtask, a turn's starts look free, turns grow, and checks
    // settled together fall due together next interval (a convoy: p99 lateness doubled).
    if (this.#freshCount >= SUBMIT_BATCH) this.#submitFresh();
    // A microtask runs after the scheduler has started every check due in this tick: one enter for the rest.
    else if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(this.#flush);
    }
    return promise;
  }

  #newSlot(): Slot {
    const id = this.#freeIds.pop() ?? this.#slots.length;
    const slot = new Slot(id, this.#onAbort);
    this.#slots[id] = slot;
    return slot;
  }

  /** The connects started since the last submit, each linked to its reset, in one io_uring_enter; then the CQ ring. */
  #submitFresh(): void {
    this.#flushQueued = false;
    const count = this.#freshCount;
    this.#freshCount = 0;
    const ring = this.#ring;
    let submitted = 0;
    for (let i = 0; i < count; i++) {
      const slot = this.#fresh[i]!;
      // Aborted between probe() and this submit (a removal in the same tick): nothing was submitted.
      if (slot.signal!.aborted) {
        slot.state = DRAINING;
        this.#answer(slot, failure(slot.start, abortText(slot.signal!, slot.spec!)));
        this.#release(slot, true);
        continue;
      }
      if (ring.space() < 2) this.counters.polls += this.#enter();
      const address = slot.target!.address!;
      const user = slot.id * 2;
      ring.connect(slot.fd, addressOf(address), address.byteLength, user, SQE_IO_LINK);
      ring.connect(slot.fd, this.#unspecAt, 16, user + 1, 0);
      slot.state = CONNECTING;
      slot.cqes = 2;
      this.#inFlight++;
      submitted++;
    }
    if (submitted === 0) return;
    this.counters.polls += this.#enter();
    this.counters.started += submitted;
    for (let i = 0; i < count; i++) {
      const slot = this.#fresh[i]!;
      // Still connecting after the enter: wait for its CQE, or its signal.
      if (slot.state === CONNECTING && !slot.listening) this.#wait(slot);
    }
    // A reset whose CQE is not in yet keeps its socket until the timer reads it.
    if (this.#inFlight > 0) this.#timer ??= setTimeout(this.#tick, this.#delay);
  }

  /**
   * Submits what is queued (with GETEVENTS: completion work runs now) and reads the CQ ring.
   * Returns how many io_uring_enter calls that took.
   */
  #enter(): number {
    const ring = this.#ring;
    let entered = ring.enter(true);
    let calls = 1;
    this.#reap();
    // Completion work the kernel could not finish in one go (DEFER_TASKRUN), or CQEs beyond the
    // ring. A failed enter (EAGAIN, EBUSY: short of memory) leaves its entries queued for the timer.
    for (; entered >= 0 && calls <= MAX_EXTRA_ENTERS && (ring.workPending || ring.pending > 0); calls++) {
      entered = ring.enter(true);
      this.#reap();
    }
    return calls;
  }

  /** Handles every CQE in the ring. */
  #reap(): void {
    const ring = this.#ring;
    for (let n = ring.ready(); n > 0; n = ring.ready()) {
      for (let k = 0; k < n; k++) {
        const user = ring.userData(k);
        if (user === CANCEL_USER_DATA) continue;
        const slot = this.#slots[user >>> 1];
        if (slot === undefined || slot.state < CONNECTING) continue;
        const result = ring.result(k);
        if ((user & 1) === 0) this.#connected(slot, result);
        else slot.resetResult = result;
        if (--slot.cqes === 0) this.#release(slot, false);
      }
      ring.consume(n);
    }
  }

  /** The connect's CQE: 0 connected, else −errno. Answers the check unless it was aborted. */
  #connected(slot: Slot, result: number): void {
    slot.connectResult = result;
    if (slot.state !== CONNECTING) return;
    slot.state = DRAINING;
    this.#completed++;
    if (slot.listening) this.#unwait(slot);
    else this.counters.settledAtFirstPoll++;
    this.#answer(slot, result === 0 ? success(slot.start) : failure(slot.start, connectText(slot.target!, errnoName(-result))));
  }

  /** Still connecting after its turn: listen for its abort; the timer reads its CQE. */
  #wait(slot: Slot): void {
    slot.listening = true;
    slot.signal!.addEventListener("abort", slot);
    this.counters.waited++;
    // A new connect is likely to complete within a round trip: look again soon.
    this.#delay = MIN_DELAY_MS;
    this.#timer ??= setTimeout(this.#tick, MIN_DELAY_MS);
  }

  #unwait(slot: Slot): void {
    slot.listening = false;
    // Pulse reuses unaborted controllers: the listener must not outlive this check.
    slot.signal!.removeEventListener("abort", slot);
  }

  /** Reads completions of connects still in flight; an enter only when the kernel flags work for one. */
  #readLater(): void {
    this.#timer = undefined;
    const ring = this.#ring;
    const before = this.#completed;
    if (ring.deferred || ring.workPending || ring.pending > 0) this.#enter();
    else this.#reap();
    if (this.#inFlight === 0) return;
    this.#delay = this.#completed > before ? MIN_DELAY_MS : Math.min(this.#delay * 2, MAX_DELAY_MS);
    this.#timer = setTimeout(this.#tick, this.#delay);
  }

  /**
   * Timeout or removal while connecting: answer now, cancel the connect (its linked reset is
   * cancelled with it) and read the ring, so the socket is normally closed before this returns.
   */
  #abort(slot: Slot): void {
    if (slot.state !== CONNECTING || !slot.listening) return;
    this.#unwait(slot);
    slot.state = DRAINING;
    slot.aborted = true;
    this.#answer(slot, failure(slot.start, abortText(slot.signal!, slot.spec!)));
    const ring = this.#ring;
    if (ring.space() < 1) this.#enter();
    ring.cancel(slot.id * 2, CANCEL_USER_DATA);
    this.#enter();
    if (this.#inFlight > 0) this.#timer ??= setTimeout(this.#tick, this.#delay);
  }

  /** Resolves the check's promise once; the slot keeps its socket until its CQEs are in. */
  #answer(slot: Slot, result: CheckResult): void {
    const resolve = slot.resolve;
    slot.resolve = noop;
    slot.spec = null;
    slot.signal = null;
    resolve(result);
  }

  /**
   * Every CQE of the slot is in (or none was submitted: `unsubmitted`): keep the socket if it
   * is known to be unconnected, else close it; free the slot.
   */
  #release(slot: Slot, unsubmitted: boolean): void {
    if (!unsubmitted) this.#inFlight--;
    const reusable =
      unsubmitted ||
      (!slot.aborted &&
        ((slot.connectResult === 0 && slot.resetResult === 0) || (slot.connectResult === -Errno.ECONNREFUSED && (slot.resetResult === -ECANCELED || slot.resetResult === 0))));
    if (reusable && this.idle.hasRoom(slot.family)) this.idle.keep(slot.fd, slot.family);
    else this.c.close(slot.fd);
    slot.fd = -1;
    slot.target = null;
    slot.state = FREE;
    slot.cqes = 0;
    slot.connectResult = 0;
    slot.resetResult = 0;
    slot.aborted = false;
    this.#busy--;
    if (this.#free.length < FREE_LIMIT) this.#free.push(slot);
    else {
      this.#slots[slot.id] = undefined;
      this.#freeIds.push(slot.id);
    }
  }
}
