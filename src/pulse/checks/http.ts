/**
 * @module The `http` and `https` checks: one request with fetch, redirects not followed unless
 * asked, the status compared with `expect`, the body always read (bounded) and released —
 * GORB never closed its response bodies and leaked a socket per check.
 */
import { isIP } from "node:net";
import { describeExpect, statusMatches } from "../expect.ts";
import { DEFAULT_HTTP, type HttpCheckSpec } from "../spec-args.ts";
import type { PulseSpec } from "../spec.ts";
import type { CheckResult, CheckTarget } from "../types.ts";
import { abortText, checkHost, checkPort, errorText, failure, hostPort, success } from "./common.ts";

/** Body bytes read before the rest is discarded by cancelling the stream. */
export const BODY_LIMIT = 64 * 1024;

async function drain(response: Response): Promise<void> {
  const body = response.body;
  if (body === null) return;
  const reader = body.getReader();
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    total += value.byteLength;
    if (total > BODY_LIMIT) return reader.cancel();
  }
}

/** The name to present in SNI and verify: args.sni, else the Host header's name, else the URL's. */
function serverName(http: HttpCheckSpec): string | undefined {
  if (http.sni !== null) return http.sni;
  if (http.hostHeader === null) return undefined;
  const name = http.hostHeader.startsWith("[") ? "" : http.hostHeader.replace(/:\d+$/, "");
  return name !== "" && isIP(name) === 0 ? name : undefined;
}

function requestInit(spec: PulseSpec, http: HttpCheckSpec, signal: AbortSignal): BunFetchRequestInit {
  const headers: Record<string, string> = { ...http.headers, connection: "close" };
  if (http.hostHeader !== null) headers.host = http.hostHeader;
  const init: BunFetchRequestInit = {
    method: http.method,
    headers,
    redirect: http.followRedirects ? "follow" : "manual",
    signal,
    // A fresh connection per check: a pooled one would not prove the backend still accepts.
    keepalive: false,
    // Checks go straight to the backend, whatever HTTP_PROXY says.
    proxy: false,
    decompress: false,
  };
  if (spec.type === "https") {
    const name = serverName(http);
    init.tls = name === undefined ? { rejectUnauthorized: http.tlsVerify } : { rejectUnauthorized: http.tlsVerify, serverName: name };
  }
  return init;
}

/** Up when the response status matches `expect` (default 200). Never throws. */
export async function checkHttp(target: CheckTarget, spec: PulseSpec, signal: AbortSignal): Promise<CheckResult> {
  const start = performance.now();
  const http = spec.http ?? DEFAULT_HTTP;
  const scheme = spec.type === "https" ? "https" : "http";
  const url = `${scheme}://${hostPort(checkHost(target, spec), checkPort(target, spec))}${http.path}`;
  try {
    if (signal.aborted) return failure(start, abortText(signal, spec));
    const response = await fetch(url, requestInit(spec, http, signal));
    const status = response.status;
    await drain(response);
    return statusMatches(http.expect, status)
      ? success(start)
      : failure(start, `${http.method} ${url}: status ${status}, expected ${describeExpect(http.expect)}`);
  } catch (err) {
    return failure(start, signal.aborted ? abortText(signal, spec) : `${http.method} ${url}: ${errorText(err)}`);
  }
}
