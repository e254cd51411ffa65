/** @module PulseSpecError and the small field readers that raise it, so every message names its field. */
import { parseDuration } from "./duration.ts";

/** A pulse spec value was refused; `field` is its JSON path (e.g. "pulse.interval"). */
export class PulseSpecError extends Error {
  /** Stable code for the API's error mapper (→ 400). */
  readonly code = "PULSE_SPEC_INVALID";
  override readonly name = "PulseSpecError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Reads an integer given as a number or a digit string (GORB wanted strings; we take both). */
export function readInt(value: unknown, field: string, min: number, max: number): number {
  const n = typeof value === "string" && /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
    throw new PulseSpecError(field, `${field} must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return n;
}

/** Reads a non-empty string. */
export function readString(value: unknown, field: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new PulseSpecError(field, `${field} must be a non-empty string (got ${JSON.stringify(value)})`);
  }
  return value.trim();
}

/** Reads a boolean, also "true"/"false" (store and config sources send strings). */
export function readBool(value: unknown, field: string): boolean {
  if (typeof value === "boolean") return value;
  if (value === "true" || value === "false") return value === "true";
  throw new PulseSpecError(field, `${field} must be true or false (got ${JSON.stringify(value)})`);
}

const DURATION_HELP = 'e.g. "10s", "1m", "500ms", "1m30s" or a number of seconds';

/** Reads a duration (string grammar of duration.ts, or seconds as a number) in milliseconds. */
export function readDuration(value: unknown, field: string, gorbPhrase = `invalid ${field} format`): number {
  const ms = typeof value === "string" || typeof value === "number" ? parseDuration(value) : undefined;
  if (ms === undefined) throw new PulseSpecError(field, `${gorbPhrase}: ${JSON.stringify(value)} (${DURATION_HELP})`);
  return ms;
}
