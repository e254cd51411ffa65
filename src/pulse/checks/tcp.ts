/**
 * @module The `tcp` check: up when a TCP connection to the target (or its override) is
 * established; the connection is reset at once. IP literals go through the shared prober
 * (tcp-prober.ts: io_uring, a share of one io_uring_enter per check; or, where io_uring is
 * unavailable, two connect calls on a kept socket and a share of one poll); host names, and
 * systems where bun:ffi cannot load libc, through Bun.connect (tcp-bun.ts). Same results and
 * error texts either way.
 */
import type { PulseSpec } from "../spec.ts";
import type { CheckResult, CheckTarget } from "../types.ts";
import { checkHost, checkPort } from "./common.ts";
import { checkTcpBun, parkedConnects } from "./tcp-bun.ts";
import { tcpProber, type ProbeTarget } from "./tcp-prober.ts";

export { checkTcpBun, parkedConnects };

// The sockaddr is built once per backend: Pulse passes the same target object to every check.
const resolved = new WeakMap<CheckTarget, ProbeTarget>();

/** Up when a TCP connection to the target (or its override) is established. Never throws. */
export function checkTcp(target: CheckTarget, spec: PulseSpec, signal: AbortSignal): Promise<CheckResult> {
  const prober = tcpProber();
  if (prober === null) return checkTcpBun(target, spec, signal);
  const host = checkHost(target, spec);
  const port = checkPort(target, spec);
  let probe = resolved.get(target);
  if (probe === undefined || probe.host !== host || probe.port !== port) {
    probe = prober.target(host, port);
    resolved.set(target, probe);
  }
  return probe.address === null ? checkTcpBun(target, spec, signal) : prober.probe(probe, spec, signal);
}

/** Which implementation checkTcp uses for IP literals here. */
export function tcpCheckImplementation(): "libc" | "Bun.connect" {
  return tcpProber() === null ? "Bun.connect" : "libc";
}

/** What tcp checks of IP literals go through, for the start-up log: "io_uring (coop_taskrun)", "poll (…)", "Bun.connect". */
export function tcpProberName(): string {
  return tcpProber()?.name ?? "Bun.connect";
}
