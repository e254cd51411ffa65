/** Test helpers for the HTTP tier: an app on MemoryIpvs and a one-line request function. */
import { createApp } from "../../../src/api/app.ts";
import { Core, type CoreOptions } from "../../../src/core/core.ts";
import { MemoryIpvs } from "../../../src/ipvs/memory-ipvs.ts";
import { healthCheckerWith } from "../../../src/core/pulse-checker.ts";
import type { Checker } from "../../../src/pulse/types.ts";

export const VIP = "192.0.2.1";

/** Checks never touch the network in the HTTP tier: they all pass. */
const passing: Checker = async () => ({ ok: true, latencyMs: 0 });

/** Resolves two fixed names, refuses the rest (no DNS in tests). */
export const fakeResolve = async (host: string): Promise<string> => {
  const names: Record<string, string> = { "lb.example": "192.0.2.50", "web6.example": "2001:db8::50", localhost: "127.0.0.1" };
  const address = names[host];
  if (!address) throw new Error(`lookup ${host}: no such host`);
  return address;
};

export function setup(options: Partial<CoreOptions> & { maxBodyBytes?: number } = {}) {
  const ipvs = (options.ipvs as MemoryIpvs | undefined) ?? new MemoryIpvs();
  const core = new Core({ defaultHost: VIP, resolve: fakeResolve, health: healthCheckerWith({ checkers: { tcp: passing, http: passing, https: passing, dns: passing } }), ...options, ipvs });
  const app = createApp({ core, ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}) });
  /** One request; `body` objects are sent as JSON, strings as they are. */
  const req = async (method: string, path: string, body?: unknown, headers?: Record<string, string>) => {
    const init: RequestInit = { method, headers: headers ?? {} };
    if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
    const res = await app.handle(new Request(`http://localhost${path}`, init));
    const text = await res.text();
    let json: any;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json, headers: res.headers };
  };
  return { ipvs, core, app, req };
}
