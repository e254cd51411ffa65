/** @module The checker for each pulse type, and `runCheck` for a one-off check with its timeout. */
import type { CheckType, PulseSpec } from "../spec.ts";
import type { CheckResult, CheckTarget, Checker } from "../types.ts";
import { CHECK_TIMEOUT } from "./common.ts";
import { checkDns } from "./dns.ts";
import { checkHttp } from "./http.ts";
import { checkNone } from "./none.ts";
import { checkTcp } from "./tcp.ts";

export { CHECK_CANCELLED, CHECK_TIMEOUT } from "./common.ts";
export { checkDns, checkHttp, checkNone, checkTcp };

/** The built-in checkers; `http` serves both http and https. */
export const DEFAULT_CHECKERS: Readonly<Record<CheckType, Checker>> = {
  none: checkNone,
  tcp: checkTcp,
  http: checkHttp,
  https: checkHttp,
  dns: checkDns,
};

/**
 * Runs one check outside the scheduler (tests, a "check now" endpoint), aborting it after
 * `spec.timeoutMs` or when `signal` aborts. Never throws.
 */
export async function runCheck(target: CheckTarget, spec: PulseSpec, signal?: AbortSignal): Promise<CheckResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(CHECK_TIMEOUT), spec.timeoutMs);
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort);
  if (signal?.aborted) onAbort();
  try {
    return await DEFAULT_CHECKERS[spec.type](target, spec, controller.signal);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}
