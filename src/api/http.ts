/**
 * @module GORB's wire conventions: JSON indented with one TAB per level and no trailing newline,
 * writes answered 200 with an empty body, errors as {"error": "..."}; and request bodies decoded
 * the way Go's encoding/json does (keys matched case-insensitively, unknown keys ignored, `null`
 * meaning "all defaults").
 */
import { ValidationError } from "../core/errors.ts";

const JSON_HEADERS = { "content-type": "application/json" } as const;

/** A JSON response indented like GORB's (Go json.Indent with "\t"). */
export function tabJson(value: unknown, status = 200, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(value, null, "\t"), { status, headers: headers ? { ...JSON_HEADERS, ...headers } : JSON_HEADERS });
}

/** GORB's answer to a successful write: 200, empty body, no content type. */
export function ok(): Response {
  return new Response(null, { status: 200 });
}

export function errorResponse(status: number, message: string, headers?: Record<string, string>): Response {
  return tabJson({ error: message }, status, headers);
}

/** The body exceeds the configured limit (413). */
export class BodyTooLargeError extends Error {
  override readonly name = "BodyTooLargeError";
  readonly code = "BODY_TOO_LARGE";
  readonly status = 413;
  constructor(limit: number) {
    super(`request body too large: the limit is ${limit} bytes`);
  }
}

export interface BodyShape {
  /** Nested objects whose keys are matched case-insensitively too (e.g. "pulse"). */
  readonly nested?: readonly string[];
  /** Fields whose string values are case-insensitive choices, lower-cased here ("pulse.type" for nested). */
  readonly lowerValues?: readonly string[];
  /** Top-level fields for which "" means "not given" (Go clients send zero values of whole structs). */
  readonly absentWhenEmpty?: readonly string[];
  /** Top-level fields for which 0 means "not given". */
  readonly absentWhenZero?: readonly string[];
}

/**
 * Reads and decodes a JSON body: size limit, then Go-like decoding. Returns a plain object with
 * lower-case keys (at the top level and in `shape.nested` objects, not deeper: `pulse.args` is a
 * free-form map in GORB and keeps its keys).
 */
export async function readJsonBody(request: Request, limit: number, shape: BodyShape = {}): Promise<Record<string, unknown>> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) throw new BodyTooLargeError(limit);
  const text = await request.text();
  if (text.length > limit && new TextEncoder().encode(text).length > limit) throw new BodyTooLargeError(limit);
  if (text.trim() === "") throw new ValidationError("", "request body is empty (EOF): send a JSON object");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ValidationError("", `request body is not valid JSON: ${(e as Error).message}`);
  }
  if (value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ValidationError("", `request body must be a JSON object (got ${Array.isArray(value) ? "an array" : typeof value})`);
  }
  const body = lowerKeys(value as Record<string, unknown>);
  for (const name of shape.nested ?? []) {
    const inner = body[name];
    if (inner !== null && typeof inner === "object" && !Array.isArray(inner)) body[name] = lowerKeys(inner as Record<string, unknown>);
  }
  for (const path of shape.lowerValues ?? []) lowerValue(body, path);
  for (const key of shape.absentWhenEmpty ?? []) if (body[key] === "") delete body[key];
  for (const key of shape.absentWhenZero ?? []) if (body[key] === 0) delete body[key];
  return body;
}

/** Lower-cased keys; a null value counts as absent (Go leaves the field at its zero value). */
function lowerKeys(object: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(object)) {
    const value = object[key];
    if (value !== null) out[key.toLowerCase()] = value;
    else delete out[key.toLowerCase()];
  }
  return out;
}

function lowerValue(body: Record<string, unknown>, path: string): void {
  const dot = path.indexOf(".");
  if (dot >= 0) {
    const inner = body[path.slice(0, dot)];
    if (inner !== null && typeof inner === "object" && !Array.isArray(inner)) lowerValue(inner as Record<string, unknown>, path.slice(dot + 1));
    return;
  }
  const value = body[path];
  if (typeof value === "string") body[path] = value.toLowerCase();
}
