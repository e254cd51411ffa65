/**
 * @module Duration text → milliseconds: GORB's grammar ("10s", "5min", "1hours") and Go's
 * compound form ("500ms", "1m30s", "1h2m3.5s"), plus plain numbers of seconds. Pure.
 */

// GORB: optional sign, integer, unit; case-insensitive, surrounding space trimmed.
const GORB = /^([+-]?\d+)(s|sec|seconds|m|min|minutes|h|hours)$/;
const GORB_UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000, sec: 1000, seconds: 1000,
  m: 60_000, min: 60_000, minutes: 60_000,
  h: 3_600_000, hours: 3_600_000,
};

// Go's time.ParseDuration: [sign] then one or more <decimal><unit>.
const GO_WHOLE = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const GO_PART = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;
const GO_UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000,
};

/**
 * Parses a duration to milliseconds (may be fractional, zero or negative: the caller decides
 * what is allowed). A number is seconds. Returns undefined when the text matches neither grammar.
 *
 * @example parseDuration(" 10SEC ") // 10000
 * @example parseDuration("1m30s")   // 90000
 * @example parseDuration(0.5)       // 500
 */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value * 1000 : undefined;
  const text = value.trim().toLowerCase();
  const gorb = GORB.exec(text);
  if (gorb) return Number(gorb[1]) * GORB_UNIT_MS[gorb[2]!]!;
  if (text === "0" || text === "+0" || text === "-0") return 0;
  if (!GO_WHOLE.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(GO_PART)) ms += Number(amount) * GO_UNIT_MS[unit!]!;
  return text.startsWith("-") ? -ms : ms;
}

/** Formats milliseconds compactly for messages ("1.5s", "250ms", "2m"). */
export function formatDuration(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000) return `${+(ms / 1000).toFixed(3)}s`;
  return `${+ms.toFixed(3)}ms`;
}
