/**
 * @module The expected HTTP status of a check: one code, a list, a range or a mix
 * (`200`, `"200,204"`, `[200, 204]`, `"200-299"`). Pure.
 */

/** Inclusive [low, high] status ranges; a single code is [code, code]. */
export type StatusRanges = ReadonlyArray<readonly [number, number]>;

const ITEM = /^(\d{3})(?:\s*-\s*(\d{3}))?$/;

function isStatus(code: number): boolean {
  return Number.isInteger(code) && code >= 100 && code <= 599;
}

function parseItem(item: unknown, out: Array<readonly [number, number]>): boolean {
  if (typeof item === "number") {
    if (!isStatus(item)) return false;
    out.push([item, item]);
    return true;
  }
  if (typeof item !== "string") return false;
  for (const part of item.split(",")) {
    const match = ITEM.exec(part.trim());
    if (!match) return false;
    const low = Number(match[1]);
    const high = match[2] === undefined ? low : Number(match[2]);
    if (!isStatus(low) || !isStatus(high) || high < low) return false;
    out.push([low, high]);
  }
  return true;
}

/**
 * Parses an `expect` value; undefined when any part is not a status code (100..599) or a
 * well-formed range. An empty list is rejected: GORB's `"expect": ""` failed every check.
 */
export function parseExpect(value: unknown): StatusRanges | undefined {
  const out: Array<readonly [number, number]> = [];
  const items = Array.isArray(value) ? value : [value];
  for (const item of items) if (!parseItem(item, out)) return undefined;
  return out.length > 0 ? out : undefined;
}

/** True when `status` falls in one of the ranges. */
export function statusMatches(ranges: StatusRanges, status: number): boolean {
  for (const [low, high] of ranges) if (status >= low && status <= high) return true;
  return false;
}

/** "200", "200-299" or "200, 204" — for error messages. */
export function describeExpect(ranges: StatusRanges): string {
  return ranges.map(([low, high]) => (low === high ? `${low}` : `${low}-${high}`)).join(", ");
}
