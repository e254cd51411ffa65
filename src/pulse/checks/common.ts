/** @module Helpers every checker shares: result constructors, abort wording, target address. */
import { isIPv6 } from "node:net";
import { formatDuration } from "../duration.ts";
import type { PulseSpec } from "../spec.ts";
import type { CheckResult, CheckTarget } from "../types.ts";

/** Abort reason the scheduler uses when a check outlives `spec.timeoutMs` (same name as AbortSignal.timeout's). */
export const CHECK_TIMEOUT: unknown = new DOMException("health check timed out", "TimeoutError");
/** Abort reason when the backend is removed or the pulse stops. */
export const CHECK_CANCELLED: unknown = new DOMException("health check cancelled", "AbortError");

export function success(start: number): CheckResult {
  return { ok: true, latencyMs: performance.now() - start };
}

export function failure(start: number, error: string): CheckResult {
  return { ok: false, latencyMs: performance.now() - start, error };
}

/** "timed out after 5s" for a timeout, else "cancelled". */
export function abortText(signal: AbortSignal, spec: PulseSpec): string {
  const reason = signal.reason as { name?: unknown } | undefined;
  return reason?.name === "TimeoutError" ? `timed out after ${formatDuration(spec.timeoutMs)}` : "cancelled";
}

/** A readable message from whatever a socket or fetch rejected with. */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  if (typeof code !== "string") return err.message;
  // Runtimes wrap connect errors in generic sentences ("Unable to connect. Is the computer able
  // to access the url?", "recvmsg ECONNREFUSED"); the code alone says it.
  if (err.message.includes(code) || /^(unable|failed) to connect/i.test(err.message)) return code;
  return `${err.message} (${code})`;
}

/** The host actually checked: the spec's override, else the backend's. */
export function checkHost(target: CheckTarget, spec: PulseSpec): string {
  return spec.host ?? target.host;
}

/** The port actually checked: the spec's override, else the backend's. */
export function checkPort(target: CheckTarget, spec: PulseSpec): number {
  return spec.port ?? target.port;
}

/** "connect 10.0.0.5:80: ECONNREFUSED", as the tcp check words a failure (built only on failure). */
export function connectText(target: CheckTarget, detail: string): string {
  return `connect ${hostPort(target.host, target.port)}: ${detail}`;
}

/** "host:port", bracketing IPv6 literals (GORB's missing brackets broke every IPv6 check). */
export function hostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
