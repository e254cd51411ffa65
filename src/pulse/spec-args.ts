/** @module Normalises the free-form `pulse.args` object per check type (GORB kept it untyped). */
import { parseExpect, type StatusRanges } from "./expect.ts";
import { PulseSpecError, readBool, readInt, readString } from "./spec-error.ts";

/** HTTP(S) check settings after defaults. */
export interface HttpCheckSpec {
  readonly method: string;
  /** Path with optional query, always starting with "/". */
  readonly path: string;
  readonly expect: StatusRanges;
  /** Host header to send instead of "<address>:<port>". */
  readonly hostHeader: string | null;
  readonly headers: Readonly<Record<string, string>>;
  /** Verify the server certificate (https). Default false: backends are usually addressed by IP. */
  readonly tlsVerify: boolean;
  /** TLS server name (SNI, and the name verified when tlsVerify); default the Host header's name. */
  readonly sni: string | null;
  /** GORB never followed redirects (a 3xx is a failure unless expected); opt in here. */
  readonly followRedirects: boolean;
}

export const DNS_RECORD_TYPES = { A: 1, AAAA: 28 } as const;
export type DnsRecordType = keyof typeof DNS_RECORD_TYPES;

/** DNS check settings: query `name` for `record` over UDP, expect at least one answer. */
export interface DnsCheckSpec {
  readonly name: string;
  readonly record: DnsRecordType;
}

export const DEFAULT_HTTP: HttpCheckSpec = {
  method: "GET",
  path: "/",
  expect: [[200, 200]],
  hostHeader: null,
  headers: {},
  tlsVerify: false,
  sni: null,
  followRedirects: false,
};

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Printable ASCII without space: a path with query, already percent-encoded by the user.
const PATH = /^\/[\x21-\x7e]*$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

type Args = Readonly<Record<string, unknown>>;
const f = (key: string) => `pulse.args.${key}`;

/** Reads `args.host` (IPv6 may be bracketed) or null. */
export function readHostOverride(args: Args): string | null {
  if (args.host === undefined || args.host === null || args.host === "") return null;
  const host = readString(args.host, f("host"));
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** Reads `args.port` (number or digit string) or null. */
export function readPortOverride(args: Args): number | null {
  if (args.port === undefined || args.port === null || args.port === "") return null;
  return readInt(args.port, f("port"), 1, 65535);
}

function readHeaders(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new PulseSpecError(f("headers"), `${f("headers")} must be an object of header name → value`);
  }
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(value)) {
    const text = typeof raw === "number" ? String(raw) : raw;
    if (!TOKEN.test(name) || typeof text !== "string" || /[\r\n\0]/.test(text)) {
      throw new PulseSpecError(`${f("headers")}.${name}`, `${f("headers")}.${name} must be a valid header name with a string value`);
    }
    out[name] = text;
  }
  return out;
}

/** Normalises the HTTP(S) arguments, filling GORB's defaults (GET, "/", 200). */
export function readHttpArgs(args: Args): HttpCheckSpec {
  const method = args.method === undefined || args.method === null ? "GET" : readString(args.method, f("method"));
  if (!TOKEN.test(method)) throw new PulseSpecError(f("method"), `${f("method")} must be an HTTP method token (got ${JSON.stringify(method)})`);
  const path = args.path === undefined || args.path === null || args.path === "" ? "/" : args.path;
  if (typeof path !== "string" || !PATH.test(path)) {
    throw new PulseSpecError(f("path"), `${f("path")} must start with "/" and contain no spaces (got ${JSON.stringify(path)})`);
  }
  let expect = DEFAULT_HTTP.expect;
  if (args.expect !== undefined && args.expect !== null) {
    const parsed = parseExpect(args.expect);
    if (!parsed) {
      throw new PulseSpecError(f("expect"), `${f("expect")} must be a status code (100-599), a list like [200, 204] or "200,204", or a range like "200-299" (got ${JSON.stringify(args.expect)})`);
    }
    expect = parsed;
  }
  const optional = (key: string) => (args[key] === undefined || args[key] === null || args[key] === "" ? null : readString(args[key], f(key)));
  const hostHeader = optional("host_header");
  const sni = optional("sni");
  if (sni !== null && !HOSTNAME.test(sni)) throw new PulseSpecError(f("sni"), `${f("sni")} must be a DNS name (got ${JSON.stringify(sni)})`);
  return {
    method: method.toUpperCase(),
    path,
    expect,
    hostHeader,
    headers: readHeaders(args.headers),
    tlsVerify: args.tls_verify === undefined || args.tls_verify === null ? false : readBool(args.tls_verify, f("tls_verify")),
    sni,
    followRedirects: args.follow_redirects === undefined || args.follow_redirects === null ? false : readBool(args.follow_redirects, f("follow_redirects")),
  };
}

/** Normalises the DNS arguments; `name` is required. */
export function readDnsArgs(args: Args): DnsCheckSpec {
  if (args.name === undefined || args.name === null || args.name === "") {
    throw new PulseSpecError(f("name"), `${f("name")} is required for a dns pulse (the name to query)`);
  }
  const name = readString(args.name, f("name"));
  if (name !== "." && !HOSTNAME.test(name)) throw new PulseSpecError(f("name"), `${f("name")} must be a DNS name (got ${JSON.stringify(name)})`);
  const record = args.record === undefined || args.record === null ? "A" : readString(args.record, f("record")).toUpperCase();
  if (!(record in DNS_RECORD_TYPES)) {
    throw new PulseSpecError(f("record"), `${f("record")} must be one of ${Object.keys(DNS_RECORD_TYPES).join(", ")} (got ${JSON.stringify(args.record)})`);
  }
  return { name, record: record as DnsRecordType };
}
