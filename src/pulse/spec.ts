/**
 * @module The `pulse` object of a backend: its TypeBox schema (what the API accepts) and
 * `normalizePulseSpec`, which fills GORB's defaults and refuses bad values with a PulseSpecError
 * naming the field. The caller keeps the user's input to echo it back (GORB echoes verbatim).
 */
// The /type entry: the full index would load the compiler and value modules too (~10 MB RSS).
import { Type, type Static } from "@sinclair/typebox/type";
import { formatDuration } from "./duration.ts";
import {
  readDnsArgs, readHostOverride, readHttpArgs, readPortOverride,
  type DnsCheckSpec, type HttpCheckSpec,
} from "./spec-args.ts";
import { PulseSpecError, readDuration, readInt } from "./spec-error.ts";

export { PulseSpecError } from "./spec-error.ts";
export type { DnsCheckSpec, HttpCheckSpec } from "./spec-args.ts";

export const CHECK_TYPES = ["none", "tcp", "http", "https", "dns"] as const;
export type CheckType = (typeof CHECK_TYPES)[number];

/** Defaults, GORB's where GORB had the setting. */
export const PULSE_DEFAULTS = {
  type: "tcp",
  interval: "1m",
  intervalMs: 60_000,
  maxTimeoutMs: 5_000,
  rise: 1,
  fall: 1,
  window: 100,
} as const;

const Duration = Type.Union([Type.String(), Type.Number()], {
  description: 'GORB form "10s" / "5min" / "1h", Go form "500ms" / "1m30s", or a number of seconds',
});
const IntLike = Type.Union([Type.Integer(), Type.String()]);

/** `pulse.args`: free-form like GORB's; the keys below are the ones the checks read. */
export const PulseArgsSchema = Type.Object(
  {
    method: Type.Optional(Type.String({ description: "http(s): request method, default GET" })),
    path: Type.Optional(Type.String({ description: 'http(s): path with optional query, default "/"' })),
    expect: Type.Optional(Type.Union([IntLike, Type.Array(IntLike)], { description: 'http(s): 200, [200, 204], "200,204" or "200-299"; default 200' })),
    host: Type.Optional(Type.String({ description: "check this host instead of the backend address" })),
    port: Type.Optional(Type.Union([Type.Integer(), Type.String()], { description: "check this port instead of the backend port" })),
    host_header: Type.Optional(Type.String({ description: "http(s): Host header" })),
    headers: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]), { description: "http(s): extra request headers" })),
    tls_verify: Type.Optional(Type.Union([Type.Boolean(), Type.String()], { description: "https: verify the certificate; default false" })),
    sni: Type.Optional(Type.String({ description: "https: TLS server name" })),
    follow_redirects: Type.Optional(Type.Union([Type.Boolean(), Type.String()], { description: "http(s): follow redirects; default false" })),
    name: Type.Optional(Type.String({ description: "dns: name to query (required)" })),
    record: Type.Optional(Type.String({ description: "dns: A or AAAA, default A" })),
  },
  { additionalProperties: true },
);

/** The API's `pulse` object (JSON keys snake_case like GORB). */
export const PulseSpecSchema = Type.Object(
  {
    type: Type.Optional(Type.String({ description: `one of ${CHECK_TYPES.join(", ")} (case-insensitive); default tcp` })),
    interval: Type.Optional(Duration),
    timeout: Type.Optional(Type.Union([Duration, Type.Null()])),
    args: Type.Optional(Type.Union([PulseArgsSchema, Type.Null()])),
    rise: Type.Optional(IntLike),
    fall: Type.Optional(IntLike),
    window: Type.Optional(IntLike),
    backoff_max: Type.Optional(Type.Union([Duration, Type.Null()])),
    slow_start: Type.Optional(Type.Union([Duration, Type.Null()])),
  },
  { additionalProperties: true },
);
export type PulseSpecInput = Static<typeof PulseSpecSchema>;

/** A validated pulse spec with every default filled and every duration in milliseconds. */
export interface PulseSpec {
  readonly type: CheckType;
  readonly intervalMs: number;
  /** Per-check timeout; default min(5 s, interval). */
  readonly timeoutMs: number;
  /** Consecutive successes before unknown/down → up. */
  readonly rise: number;
  /** Consecutive failures before unknown/up → down. */
  readonly fall: number;
  /** Results kept for `health`. */
  readonly window: number;
  /** Cap of the doubling interval while down; null = no back-off. */
  readonly backoffMaxMs: number | null;
  /** Linear weight ramp after recovery; 0 = GORB's health-based recovery. */
  readonly slowStartMs: number;
  /** Check this host / port instead of the backend's. */
  readonly host: string | null;
  readonly port: number | null;
  /** Set for http and https. */
  readonly http: HttpCheckSpec | null;
  /** Set for dns. */
  readonly dns: DnsCheckSpec | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const absent = (v: unknown) => v === undefined || v === null || v === "";

function readType(value: unknown): CheckType {
  if (absent(value)) return PULSE_DEFAULTS.type;
  const type = typeof value === "string" ? value.trim().toLowerCase() : value;
  if (!CHECK_TYPES.includes(type as CheckType)) {
    throw new PulseSpecError("pulse.type", `specified pulse type is unknown: ${JSON.stringify(value)} (allowed: ${CHECK_TYPES.join(", ")})`);
  }
  return type as CheckType;
}

function readPositive(value: unknown, field: string, gorbFormat: string, gorbPositive: string): number {
  const ms = readDuration(value, field, gorbFormat);
  if (ms <= 0) throw new PulseSpecError(field, `${gorbPositive} (got ${JSON.stringify(value)})`);
  if (ms < 1) throw new PulseSpecError(field, `${field} must be at least 1ms (got ${JSON.stringify(value)})`);
  return ms;
}

/**
 * Validates a `pulse` object and fills defaults. null/undefined means all defaults (GORB: tcp
 * every minute). Throws PulseSpecError (field + message naming the allowed values).
 *
 * @example normalizePulseSpec({ type: "HTTP", interval: "10s", args: { expect: "200-299" } })
 */
export function normalizePulseSpec(input: PulseSpecInput | null | undefined): PulseSpec {
  const raw: unknown = input ?? {};
  if (!isObject(raw)) throw new PulseSpecError("pulse", "pulse must be an object");
  const type = readType(raw.type);
  const intervalMs = absent(raw.interval)
    ? PULSE_DEFAULTS.intervalMs
    : readPositive(raw.interval, "pulse.interval", "invalid interval format", "pulse interval must be positive");
  const timeoutMs = absent(raw.timeout)
    ? Math.min(PULSE_DEFAULTS.maxTimeoutMs, intervalMs)
    : readPositive(raw.timeout, "pulse.timeout", "invalid timeout format", "pulse timeout must be positive");
  const rise = absent(raw.rise) ? PULSE_DEFAULTS.rise : readInt(raw.rise, "pulse.rise", 1, 1000);
  const fall = absent(raw.fall) ? PULSE_DEFAULTS.fall : readInt(raw.fall, "pulse.fall", 1, 1000);
  const window = absent(raw.window) ? PULSE_DEFAULTS.window : readInt(raw.window, "pulse.window", 1, 1000);

  let backoffMaxMs: number | null = null;
  if (!absent(raw.backoff_max) && raw.backoff_max !== 0) {
    backoffMaxMs = readDuration(raw.backoff_max, "pulse.backoff_max");
    if (backoffMaxMs < intervalMs) {
      throw new PulseSpecError("pulse.backoff_max", `pulse.backoff_max must be at least the interval (${formatDuration(intervalMs)}), or 0 / absent for no back-off`);
    }
  }
  const slowStartMs = absent(raw.slow_start) ? 0 : readDuration(raw.slow_start, "pulse.slow_start");
  if (slowStartMs < 0) throw new PulseSpecError("pulse.slow_start", "pulse.slow_start must be 0 or more seconds");

  if (!absent(raw.args) && !isObject(raw.args)) throw new PulseSpecError("pulse.args", "pulse.args must be an object");
  const args = isObject(raw.args) ? raw.args : {};
  return {
    type,
    intervalMs,
    timeoutMs,
    rise,
    fall,
    window,
    backoffMaxMs,
    slowStartMs,
    host: readHostOverride(args),
    port: readPortOverride(args),
    http: type === "http" || type === "https" ? readHttpArgs(args) : null,
    dns: type === "dns" ? readDnsArgs(args) : null,
  };
}

/**
 * GORB's echo of a pulse object (key order type, interval, args): `type` lower-cased and
 * defaulted, `interval` exactly as the user wrote it (default "1m"), `args` verbatim, then any
 * of our extra fields the user gave. Call on input that normalizePulseSpec accepted.
 */
export function echoPulseSpec(input: PulseSpecInput | null | undefined): Record<string, unknown> {
  const raw: Record<string, unknown> = isObject(input) ? input : {};
  const { type, interval, args, ...rest } = raw;
  return {
    type: absent(type) ? PULSE_DEFAULTS.type : String(type).trim().toLowerCase(),
    interval: absent(interval) ? PULSE_DEFAULTS.interval : interval,
    args: args ?? null,
    ...rest,
  };
}
