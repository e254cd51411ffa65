/**
 * @module The `tcp` check through Bun.connect: connect, then reset the connection at once. The
 * fallback where the libc prober (tcp-prober.ts) is unavailable, and for host names. One shared
 * handler object; a check's whole state is one Probe (also its abort listener), so a check
 * allocates little beyond its promise and the socket (bench/pulse/tcp-compare.ts: cheaper than
 * node:net, dearer than the prober).
 */
import type { Socket, SocketHandler } from "bun";
import type { PulseSpec } from "../spec.ts";
import type { CheckResult, CheckTarget } from "../types.ts";
import { abortText, checkHost, checkPort, errorText, failure, hostPort, success } from "./common.ts";

/** One check waiting for a connect outcome; answers once. */
class Waiter {
  done = false;
  constructor(
    readonly spec: PulseSpec,
    readonly signal: AbortSignal,
    readonly start: number,
    readonly resolve: (result: CheckResult) => void,
  ) {}

  /** The check's signal aborted (timeout or removal): answer now. */
  handleEvent(): void {
    this.answer(abortText(this.signal, this.spec));
  }

  /** null = connected, else the error. */
  answer(error: string | null): void {
    if (this.done) return;
    this.done = true;
    this.signal.removeEventListener("abort", this);
    this.resolve(error === null ? success(this.start) : failure(this.start, error));
  }
}

/** One connect attempt: the check that started it, plus checks that joined it while parked. */
class Probe extends Waiter {
  outcome: string | null | undefined;
  joiners: Waiter[] | null = null;
  constructor(
    readonly host: string,
    readonly port: number,
    spec: PulseSpec,
    signal: AbortSignal,
    start: number,
    resolve: (result: CheckResult) => void,
  ) {
    super(spec, signal, start, resolve);
  }

  /** Aborted while connecting: park the attempt so later checks of this address join it. */
  override handleEvent(): void {
    const key = `${this.host}|${this.port}`;
    if (this.outcome === undefined && !parked.has(key)) parked.set(key, this);
    super.handleEvent();
  }

  /** The kernel answered: tell every check still waiting. */
  settle(outcome: string | null): void {
    this.outcome = outcome;
    if (parked.size > 0 && parked.get(`${this.host}|${this.port}`) === this) parked.delete(`${this.host}|${this.port}`);
    this.answer(outcome);
    if (this.joiners !== null) for (const waiter of this.joiners) waiter.answer(outcome);
  }

  join(waiter: Waiter): void {
    // Drop answered waiters so a long-parked connect does not collect one per interval.
    const live = this.joiners === null ? [] : this.joiners.filter((w) => !w.done);
    live.push(waiter);
    this.joiners = live;
  }
}

/**
 * Bun.connect cannot be cancelled. When a check is aborted mid-connect (a backend dropping SYNs)
 * its attempt is parked here until the kernel gives up, and later checks of the same address
 * join it instead of opening one more pending socket per interval.
 */
const parked = new Map<string, Probe>();

// One handler object for every socket; socket.data is the Probe.
const HANDLERS: SocketHandler<Probe> = {
  open(socket: Socket<Probe>) {
    // terminate() resets (RST) instead of FIN: no TIME_WAIT pile-up at thousands of checks a second.
    socket.terminate();
    socket.data.settle(null);
  },
  // Present also so a refused connect is not reported as an unhandled rejection.
  connectError(socket: Socket<Probe>, error: Error) {
    const probe = socket.data;
    probe.settle(`connect ${hostPort(probe.host, probe.port)}: ${errorText(error)}`);
  },
  data() {},
  close() {},
  error() {},
};

/** Number of abandoned connects still pending (for tests and metrics). */
export function parkedConnects(): number {
  return parked.size;
}

/** Up when a TCP connection to the target (or its override) is established. Never throws. */
export function checkTcpBun(target: CheckTarget, spec: PulseSpec, signal: AbortSignal): Promise<CheckResult> {
  const start = performance.now();
  if (signal.aborted) return Promise.resolve(failure(start, abortText(signal, spec)));
  const host = checkHost(target, spec);
  const port = checkPort(target, spec);
  return new Promise<CheckResult>((resolve) => {
    // The common path does no map lookup and builds no key: parking is rare.
    const joined = parked.size > 0 ? parked.get(`${host}|${port}`) : undefined;
    if (joined !== undefined) {
      const waiter = new Waiter(spec, signal, start, resolve);
      signal.addEventListener("abort", waiter);
      return joined.join(waiter);
    }
    const probe = new Probe(host, port, spec, signal, start, resolve);
    signal.addEventListener("abort", probe);
    try {
      // The returned promise is left alone: with connectError set, Bun reports failures there only.
      void Bun.connect({ hostname: host, port, socket: HANDLERS, data: probe });
    } catch (error) {
      probe.settle(`connect ${hostPort(host, port)}: ${errorText(error)}`);
    }
  });
}
