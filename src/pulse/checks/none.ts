/** @module The `none` check: always up (GORB used it for UDP services). */
import type { CheckResult } from "../types.ts";

const UP: Promise<CheckResult> = Promise.resolve(Object.freeze({ ok: true, latencyMs: 0 }));

/** Resolves up at once; one shared promise, nothing allocated per check. */
export function checkNone(): Promise<CheckResult> {
  return UP;
}
