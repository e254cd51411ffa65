/**
 * @module Service input → stored options + the IPVS service it asks for. GORB's defaults
 * (protocol tcp, scheduler wrr, host = the first address of `-i`) and its error texts; the fixes
 * (scheduler checked, persistence really set, fwmark, sctp, IPv6) on top.
 */
import { familyOf } from "../ipvs/address.ts";
import type { Family, Protocol, Service, ServiceFlag, ServiceKey } from "../ipvs/types.ts";
import { GorbText, ValidationError, enumError } from "./errors.ts";
import { checkBoolean, checkInteger, checkString, resolveHost, type Resolver } from "./fields.ts";
import type { ServiceInput, ServiceOptions } from "./model.ts";

/** Every scheduler Linux IPVS has (the kernel still answers ENOENT when a module is missing). */
export const SCHEDULERS = ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "mh", "sed", "nq", "fo", "ovf", "twos"] as const;
export const PROTOCOLS = ["tcp", "udp", "sctp"] as const;
export const FAMILIES = ["inet", "inet6"] as const;
/** The health checker's all-down policies (src/pulse/all-down.ts); "zero" is GORB's behaviour. */
export const ALL_DOWN_POLICIES = ["zero", "keep", "one"] as const;

/** GORB's flag names and the IPVS flags they set; `one-packet` is gorb's addition (ipvsadm -o). */
export const SERVICE_FLAGS: Readonly<Record<string, Exclude<ServiceFlag, "persistent">>> = {
  "sh-fallback": "sched1",
  "sh-port": "sched2",
  "flag-1": "sched1",
  "flag-2": "sched2",
  "flag-3": "sched3",
  "one-packet": "one-packet",
};

export const DEFAULT_PERSISTENCE_TIMEOUT = 300;
/** The kernel multiplies the timeout by HZ into an int. */
const MAX_TIMEOUT = 2147483;

export interface ServiceContext {
  /** The first address of the `-i` interface; used when `host` is empty. */
  readonly defaultHost?: string | undefined;
  readonly resolve: Resolver;
  readonly schedulers?: readonly string[];
}

export interface NormalizedService {
  readonly options: ServiceOptions;
  readonly service: Service;
}

export async function normalizeService(input: ServiceInput, ctx: ServiceContext): Promise<NormalizedService> {
  const fwmark = input.fwmark === undefined ? 0 : checkInteger("fwmark", input.fwmark, 0, 0xffffffff);
  const protocol = lowerEnum("protocol", input.protocol, "tcp", PROTOCOLS, GorbText.protocolUnknown);
  const requestedFamily =
    input.family === undefined || input.family === "" ? undefined : lowerEnum("family", input.family, "inet", FAMILIES, "specified address family is unknown");

  let key: ServiceKey;
  let host = "";
  let port = 0;
  let family: Family;
  if (fwmark > 0) {
    if ((input.host ?? "") !== "" || (input.port ?? 0) !== 0) {
      throw new ValidationError("fwmark", `a firewall-mark service has no host or port: give either "fwmark" or "host"/"port"`);
    }
    family = requestedFamily ?? "inet";
    key = { family, fwmark };
  } else {
    port = input.port === undefined ? 0 : checkInteger("port", input.port, 0, 65535);
    if (port === 0) throw new ValidationError("port", `${GorbText.endpointMissing}: field "port" is required (1-65535), or give "fwmark"`);
    host = input.host === undefined ? "" : checkString("host", input.host).trim();
    const target = host === "" ? ctx.defaultHost : host;
    if (!target) throw new ValidationError("host", `${GorbText.endpointMissing}: field "host" is empty and the default interface has no address`);
    const address = await resolveHost("host", target, ctx.resolve);
    family = familyOf(address)!;
    if (requestedFamily && requestedFamily !== family) {
      throw new ValidationError("family", `${GorbText.families}: field "family" is ${requestedFamily} but host ${address} is ${family}`);
    }
    key = { family, protocol, address, port };
  }

  const schedulers = ctx.schedulers ?? SCHEDULERS;
  const method = lowerEnum("method", input.method, "wrr", schedulers, GorbText.schedulerUnknown);
  const flagsText = input.flags === undefined ? "" : checkString("flags", input.flags);
  const flags = parseFlags(flagsText);

  const persistent = persistence(input);
  const maxPrefix = family === "inet" ? 32 : 128;
  const netmask = input.netmask === undefined ? maxPrefix : checkInteger("netmask", input.netmask, family === "inet" ? 0 : 1, maxPrefix);
  const timeout = persistent ? (input.timeout ?? DEFAULT_PERSISTENCE_TIMEOUT) : 0;

  const allDown = lowerEnum("all_down", input.all_down, "zero", ALL_DOWN_POLICIES, "specified all-down policy is unknown");
  const options: ServiceOptions = { host, port, protocol, method, flags: flagsText, persistent, fwmark, family, timeout, netmask, all_down: allDown };
  const service: Service = { key, scheduler: method, flags, timeout, netmask, persistenceEngine: "" };
  return { options, service };
}

/** `persistent` as asked; a `timeout` alone implies it, a `timeout` with `persistent: false` is refused. */
function persistence(input: ServiceInput): boolean {
  const persistent = input.persistent === undefined ? undefined : checkBoolean("persistent", input.persistent);
  if (input.timeout === undefined) return persistent ?? false;
  checkInteger("timeout", input.timeout, 1, MAX_TIMEOUT);
  if (persistent === false) throw new ValidationError("timeout", `field "timeout" sets the persistence timeout: it needs "persistent": true`);
  return true;
}

/** "sh-fallback|sh-port" → IPVS flags; empty items and unknown names are refused, like GORB. */
export function parseFlags(text: string): Exclude<ServiceFlag, "persistent">[] {
  if (text === "") return [];
  const flags = new Set<Exclude<ServiceFlag, "persistent">>();
  for (const item of text.split("|")) {
    const flag = SERVICE_FLAGS[item];
    if (!flag) throw enumError(GorbText.flagUnknown, "flags", Object.keys(SERVICE_FLAGS), item);
    flags.add(flag);
  }
  return [...flags];
}

/** A case-insensitive choice with a default for a missing or empty value. */
export function lowerEnum<T extends string>(field: string, value: unknown, fallback: T, allowed: readonly string[], prefix: string): T {
  if (value === undefined || value === "") return fallback;
  const text = checkString(field, value).toLowerCase();
  if (!allowed.includes(text)) throw enumError(prefix, field, allowed, value);
  return text as T;
}

/** The stored options as an input again (for PATCH: merge the given fields over these). */
export function serviceOptionsToInput(options: ServiceOptions): ServiceInput {
  const input: ServiceInput = { host: options.host, port: options.port, protocol: options.protocol, method: options.method, flags: options.flags, persistent: options.persistent, netmask: options.netmask, all_down: options.all_down };
  if (options.fwmark > 0) {
    input.fwmark = options.fwmark;
    input.family = options.family;
  }
  if (options.persistent) input.timeout = options.timeout;
  return input;
}

export type { Protocol };
