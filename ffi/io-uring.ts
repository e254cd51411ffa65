/**
 * @module A minimal io_uring through bun:ffi, for the TCP prober
 * (src/pulse/checks/tcp-prober-uring.ts): io_uring_setup and io_uring_enter as raw system calls
 * through libc's `syscall`, the rings mapped with mmap, and just the submissions the prober
 * needs: CONNECT (optionally linked to the next entry) and ASYNC_CANCEL. No liburing.
 *
 * Ring indices are read and written with Atomics on views of the mapped memory: the kernel
 * updates the CQ tail and SQ head behind the JIT's back, so those loads must not be hoisted,
 * and the SQ tail must be published after the entries it covers (and the CQ head after the
 * entries are read). x86-64 and arm64 only (the generic system-call numbers 425/426). Needs
 * FAST_POLL (5.7); the modes below need 5.18–6.1, and `open` tries them in the order given.
 */
import { dlopen, FFIType, ptr as addressOf, toArrayBuffer, type Pointer } from "bun:ffi";
import { Errno, errnoName, errnoReader } from "./errno.ts";

const SYS_IO_URING_SETUP = 425;
const SYS_IO_URING_ENTER = 426;

/** io_uring_setup flags (include/uapi/linux/io_uring.h). */
export const SetupFlag = {
  CQSIZE: 1 << 3,
  CLAMP: 1 << 4,
  /** 5.18: keep submitting after an entry fails to prepare. */
  SUBMIT_ALL: 1 << 7,
  /** 5.19: task work does not interrupt the task (no IPI); it runs at its next kernel exit. */
  COOP_TASKRUN: 1 << 8,
  /** 5.19: IORING_SQ_TASKRUN in the SQ flags tells that task work is waiting. */
  TASKRUN_FLAG: 1 << 9,
  /** 6.0: only one task submits. */
  SINGLE_ISSUER: 1 << 12,
  /** 6.1: completion work runs only inside io_uring_enter(GETEVENTS), never in other calls. */
  DEFER_TASKRUN: 1 << 13,
} as const;

const FEAT_SINGLE_MMAP = 1 << 0;
const FEAT_NODROP = 1 << 1;
/** 5.7: poll-driven retry of sockets instead of a blocking worker thread: required. */
const FEAT_FAST_POLL = 1 << 5;

const ENTER_GETEVENTS = 1 << 0;
const SQ_TASKRUN = 1 << 1;
const SQ_CQ_OVERFLOW = 1 << 2;

const OP_ASYNC_CANCEL = 14;
const OP_CONNECT = 16;
/** The next entry runs only after this one succeeded (else it completes with −ECANCELED). */
export const SQE_IO_LINK = 1 << 2;

const OFF_SQ_RING = 0;
const OFF_CQ_RING = 0x8000000;
const OFF_SQES = 0x10000000;

const PROT_READ_WRITE = 0x1 | 0x2;
const MAP_SHARED_POPULATE = 0x01 | 0x8000;

const SQE_SIZE = 64;
const CQE_SIZE = 16;
const PARAMS_SIZE = 120;

const { i32, i64, u64, ptr } = FFIType;

function load() {
  return dlopen("libc.so.6", {
    // long syscall(long number, ...): every argument a full register (io_uring_enter has six).
    syscall: { args: [i64, i64, i64, i64, i64, i64, i64], returns: i32 },
    mmap: { args: [ptr, u64, i32, i32, i32, i64], returns: ptr },
    munmap: { args: [ptr, u64], returns: i32 },
    close: { args: [i32], returns: i32 },
    __errno_location: { args: [], returns: ptr },
  }).symbols;
}
type Symbols = ReturnType<typeof load>;

/** One mmap of the ring's descriptor. */
interface Mapping {
  readonly at: Pointer;
  readonly bytes: number;
  readonly buffer: ArrayBuffer;
}

/** Why a ring could not be set up: the step and the errno (ENOSYS, EPERM from seccomp, ...). */
export class IoUringUnavailable extends Error {
  override readonly name = "IoUringUnavailable";
  constructor(
    readonly step: string,
    readonly errno: number,
  ) {
    super(`${step}: ${errno > 0 ? errnoName(errno) : "unsupported"}`);
  }
}

/** One attempt of `IoUring.open`: its setup flags and the name reported for them. */
export interface IoUringMode {
  readonly name: string;
  readonly flags: number;
}

/** Setup modes (all with SUBMIT_ALL: Linux ≥ 5.18): the ring's flags and the name reported. */
export const IoUringModes = {
  /**
   * Completions are posted by task work that runs whenever the task next leaves the kernel
   * (any system call or interrupt), without an IPI: nothing interrupts the event loop, and CQEs
   * of a submit are in the ring when io_uring_enter returns. 6.0 (SINGLE_ISSUER).
   */
  coopSingleIssuer: { name: "coop_taskrun", flags: SetupFlag.COOP_TASKRUN | SetupFlag.TASKRUN_FLAG | SetupFlag.SINGLE_ISSUER | SetupFlag.SUBMIT_ALL },
  /** The same without SINGLE_ISSUER: 5.19. */
  coop: { name: "coop_taskrun", flags: SetupFlag.COOP_TASKRUN | SetupFlag.TASKRUN_FLAG | SetupFlag.SUBMIT_ALL },
  /**
   * Completion work runs only inside io_uring_enter(GETEVENTS). But one enter runs at most ~20
   * items of it (Linux 6.13+; each connect needs one, its linked reset another): on 6.18 a turn
   * of 40 loopback connects took 3 enters instead of 1. Not used by the prober; kept for
   * measurements (bench/pulse/prober-micro.ts) and tests. 6.1.
   */
  deferTaskrun: { name: "defer_taskrun", flags: SetupFlag.SINGLE_ISSUER | SetupFlag.DEFER_TASKRUN | SetupFlag.TASKRUN_FLAG | SetupFlag.SUBMIT_ALL },
} as const satisfies Record<string, IoUringMode>;

export interface IoUringOptions {
  /** Submission queue entries (a power of two; the kernel rounds up). */
  entries: number;
  /** Completion queue entries (≥ entries). */
  cqEntries: number;
  /** Setup attempts, in order: the first the kernel accepts (EINVAL: an unknown flag) is used. */
  modes: readonly IoUringMode[];
}

/**
 * One io_uring instance. Entries are written into the SQ with `connect` / `cancel` and handed
 * to the kernel by `enter`; completions are read straight from the CQ ring: `ready()` of them,
 * the k-th through `userData(k)` / `result(k)`, then `consume(n)`. user_data is 32 bits here.
 */
export class IoUring {
  readonly #c: Symbols;
  readonly #errno: () => number;
  readonly fd: number;
  /** The setup mode the kernel accepted. */
  readonly mode: string;
  /** True when completions wait for `enter(…, getEvents)` (DEFER_TASKRUN). */
  readonly deferred: boolean;
  readonly #maps: Mapping[];
  // SQ ring: head, tail (u32 indices into the ring), flags; the index array is filled once.
  readonly #sq: Uint32Array;
  readonly #sqHead: number;
  readonly #sqTail: number;
  readonly #sqFlags: number;
  readonly #sqMask: number;
  readonly #sqEntries: number;
  /** The next SQ tail: entries written but not yet published. */
  #tail = 0;
  /** Published to the kernel, not yet passed to io_uring_enter. */
  #toSubmit = 0;
  // SQE array: 64-byte entries as 16 u32 words.
  readonly #sqe: Uint32Array;
  // CQ ring: head, tail; CQEs as 4 i32 words (user_data lo, hi, res, flags).
  readonly #cq: Uint32Array;
  readonly #cqI32: Int32Array;
  readonly #cqHead: number;
  readonly #cqTail: number;
  readonly #cqMask: number;
  readonly #cqes: number;
  #head = 0;

  private constructor(c: Symbols, errno: () => number, fd: number, mode: IoUringMode, params: Uint32Array, maps: Mapping[]) {
    this.#c = c;
    this.#errno = errno;
    this.fd = fd;
    this.mode = mode.name;
    this.deferred = (mode.flags & SetupFlag.DEFER_TASKRUN) !== 0;
    this.#maps = maps;
    const [sqRing, cqRing, sqes] = maps.length === 3 ? [maps[0]!, maps[1]!, maps[2]!] : [maps[0]!, maps[0]!, maps[1]!];
    // struct io_sqring_offsets at byte 40, io_cqring_offsets at 80 (u32 fields).
    const sqOff = (field: number) => params[10 + field]! / 4;
    const cqOff = (field: number) => params[20 + field]! / 4;
    this.#sq = new Uint32Array(sqRing.buffer);
    this.#sqHead = sqOff(0);
    this.#sqTail = sqOff(1);
    this.#sqMask = this.#sq[sqOff(2)]!;
    this.#sqEntries = this.#sq[sqOff(3)]!;
    this.#sqFlags = sqOff(4);
    // The index array maps ring slot i to SQE i, once: entries are written in ring order.
    for (let i = 0; i < this.#sqEntries; i++) this.#sq[sqOff(6) + i] = i;
    this.#tail = Atomics.load(this.#sq, this.#sqTail);
    this.#sqe = new Uint32Array(sqes.buffer);
    this.#cq = new Uint32Array(cqRing.buffer);
    this.#cqI32 = new Int32Array(cqRing.buffer);
    this.#cqHead = cqOff(0);
    this.#cqTail = cqOff(1);
    this.#cqMask = this.#cq[cqOff(2)]!;
    this.#cqes = cqOff(5);
    this.#head = Atomics.load(this.#cq, this.#cqHead);
  }

  /**
   * A ring, or throws IoUringUnavailable: not Linux x86-64/arm64, no libc, ENOSYS (no io_uring),
   * EPERM (seccomp, or /proc/sys/kernel/io_uring_disabled), or a kernel older than 5.7.
   */
  static open(options: IoUringOptions): IoUring {
    if (process.platform !== "linux" || (process.arch !== "x64" && process.arch !== "arm64")) throw new IoUringUnavailable(`io_uring on ${process.platform} ${process.arch}`, 0);
    let c: Symbols;
    try {
      c = load();
    } catch {
      throw new IoUringUnavailable("dlopen libc.so.6", 0);
    }
    const errno = errnoReader(c.__errno_location);
    if (errno === null) throw new IoUringUnavailable("__errno_location", 0);
    const params = new Uint32Array(PARAMS_SIZE / 4);
    for (const mode of options.modes) {
      params.fill(0);
      params[1] = options.cqEntries;
      params[2] = mode.flags | SetupFlag.CQSIZE | SetupFlag.CLAMP;
      const fd = c.syscall(SYS_IO_URING_SETUP, options.entries, addressOf(params), 0, 0, 0, 0);
      if (fd < 0) {
        // EINVAL: a flag this kernel does not know, try the next mode. Anything else is final.
        const e = errno();
        if (e === Errno.EINVAL) continue;
        throw new IoUringUnavailable("io_uring_setup", e);
      }
      const maps: Mapping[] = [];
      try {
        const features = params[5]!;
        if ((features & FEAT_FAST_POLL) === 0 || (features & FEAT_NODROP) === 0) throw new IoUringUnavailable("io_uring without FAST_POLL (Linux < 5.7)", 0);
        const sqSize = params[10 + 6]! + params[0]! * 4; // sq_off.array + sq_entries u32
        const cqSize = params[20 + 5]! + params[1]! * CQE_SIZE; // cq_off.cqes + cq_entries CQEs
        const map = (bytes: number, offset: number) => {
          const at = c.mmap(null, bytes, PROT_READ_WRITE, MAP_SHARED_POPULATE, fd, offset);
          // MAP_FAILED, (void *) −1, arrives as a bigint: it is no safe integer.
          if (at === null || typeof at !== "number") throw new IoUringUnavailable("mmap of the io_uring rings", errno());
          maps.push({ at, bytes, buffer: toArrayBuffer(at, 0, bytes) });
        };
        if ((features & FEAT_SINGLE_MMAP) !== 0) map(Math.max(sqSize, cqSize), OFF_SQ_RING);
        else {
          map(sqSize, OFF_SQ_RING);
          map(cqSize, OFF_CQ_RING);
        }
        map(params[0]! * SQE_SIZE, OFF_SQES);
        return new IoUring(c, errno, fd, mode, params, maps);
      } catch (error) {
        for (const m of maps) c.munmap(m.at, m.bytes);
        c.close(fd);
        throw error;
      }
    }
    throw new IoUringUnavailable(`io_uring_setup (${options.modes.map((m) => m.name).join(", ")})`, Errno.EINVAL);
  }

  /** Free SQ slots: entries that can be written before the next `enter`. */
  space(): number {
    return this.#sqEntries - ((this.#tail - Atomics.load(this.#sq, this.#sqHead)) >>> 0);
  }

  /** Entries written since the last `enter`. */
  get pending(): number {
    return this.#toSubmit;
  }

  /** The next SQE's first word in #sqe, all 16 words zeroed. Caller checked `space()`. */
  #next(): number {
    const at = (this.#tail & this.#sqMask) * 16;
    this.#sqe.fill(0, at, at + 16);
    this.#tail = (this.#tail + 1) >>> 0;
    this.#toSubmit++;
    return at;
  }

  /** IORING_OP_CONNECT of `fd` to the sockaddr at `address` (`length` bytes, read at submit). */
  connect(fd: number, address: number, length: number, userData: number, flags: number): void {
    const at = this.#next();
    const s = this.#sqe;
    s[at] = OP_CONNECT | (flags << 8); // opcode, flags, ioprio 0
    s[at + 1] = fd;
    s[at + 2] = length; // addr2 (u64): the address length
    s[at + 4] = address >>> 0; // addr (u64): the sockaddr pointer
    s[at + 5] = Math.floor(address / 0x1_0000_0000);
    s[at + 8] = userData;
  }

  /** IORING_OP_ASYNC_CANCEL of the request whose user_data is `target`. */
  cancel(target: number, userData: number): void {
    const at = this.#next();
    const s = this.#sqe;
    s[at] = OP_ASYNC_CANCEL;
    s[at + 1] = 0xffffffff; // fd −1
    s[at + 4] = target; // addr: the user_data to match
    s[at + 8] = userData;
  }

  /**
   * Publishes the entries written and calls io_uring_enter once: submits them and, with
   * `getEvents`, runs completion work so its CQEs are in the ring when this returns (without
   * waiting for any). Returns the entries submitted, or −errno.
   */
  enter(getEvents: boolean): number {
    Atomics.store(this.#sq, this.#sqTail, this.#tail);
    const count = this.#toSubmit;
    const n = this.#c.syscall(SYS_IO_URING_ENTER, this.fd, count, 0, getEvents ? ENTER_GETEVENTS : 0, 0, 0);
    if (n < 0) return -this.#errno();
    this.#toSubmit -= n;
    return n;
  }

  /**
   * Completion work is waiting in the kernel that only `enter(…, true)` runs (with
   * TASKRUN_FLAG: more than one enter processes at a time, or CQEs beyond the ring's size).
   */
  get workPending(): boolean {
    return (Atomics.load(this.#sq, this.#sqFlags) & (SQ_TASKRUN | SQ_CQ_OVERFLOW)) !== 0;
  }

  /** CQEs ready to read. */
  ready(): number {
    return (Atomics.load(this.#cq, this.#cqTail) - this.#head) >>> 0;
  }

  /** user_data (low 32 bits) of the k-th ready CQE. */
  userData(k: number): number {
    return this.#cq[this.#cqes + ((this.#head + k) & this.#cqMask) * 4]!;
  }

  /** res of the k-th ready CQE (≥ 0, or −errno). */
  result(k: number): number {
    return this.#cqI32[this.#cqes + ((this.#head + k) & this.#cqMask) * 4 + 2]!;
  }

  /** Hands the first `n` ready CQEs back to the kernel. */
  consume(n: number): void {
    this.#head = (this.#head + n) >>> 0;
    Atomics.store(this.#cq, this.#cqHead, this.#head);
  }

  /** Unmaps the rings and closes the ring's descriptor (cancelling whatever is in flight). Unusable after. */
  close(): void {
    if (this.#maps.length === 0) return;
    for (const m of this.#maps.splice(0)) this.#c.munmap(m.at, m.bytes);
    this.#c.close(this.fd);
  }
}

