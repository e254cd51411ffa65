/**
 * @module Backend input → stored options + the IPVS destination it asks for (at the configured
 * weight). GORB's defaults (weight ≤ 0 → 100, method nat) and texts; tunnels, thresholds, IPv6
 * and fwmark services on top.
 */
import { familyOf } from "../ipvs/address.ts";
import type { Destination, ForwardMethod, TunnelKind, TunnelOptions } from "../ipvs/types.ts";
import { isFwmarkKey } from "../ipvs/types.ts";
import { GorbText, ValidationError } from "./errors.ts";
import { checkInteger, checkString, resolveHost, type Resolver } from "./fields.ts";
import type { HealthChecker } from "./health.ts";
import type { BackendInput, BackendMethod, BackendOptions, DesiredService, PulseEcho } from "./model.ts";
import { lowerEnum } from "./normalize-service.ts";

export const BACKEND_METHODS = ["nat", "tunnel", "ipip", "dr"] as const;
export const TUNNEL_TYPES = ["ipip", "gue", "gre"] as const;
export const TUNNEL_CHECKSUMS = ["none", "csum", "remcsum"] as const;
export const DEFAULT_WEIGHT = 100;
export const MAX_WEIGHT = 2147483647;

const FORWARD: Readonly<Record<BackendMethod, ForwardMethod>> = { nat: "masq", tunnel: "tunnel", ipip: "tunnel", dr: "route" };

export interface BackendContext {
  readonly resolve: Resolver;
  readonly health: Pick<HealthChecker, "normalize">;
}

export interface NormalizedBackend {
  readonly options: BackendOptions;
  readonly destination: Destination;
  readonly pulse: unknown;
}

/**
 * @param weightMode "create": ≤ 0 or missing means 100 (GORB's PUT); "update": taken as given, so
 *   PATCH with weight 0 drains the backend (what GORB clients rely on).
 */
export async function normalizeBackend(
  input: BackendInput,
  service: DesiredService,
  ctx: BackendContext,
  weightMode: "create" | "update" = "create",
): Promise<NormalizedBackend> {
  const fwmarkService = isFwmarkKey(service.service.key);
  const hostText = input.host === undefined ? "" : checkString("host", input.host).trim();
  if (hostText === "") throw new ValidationError("host", `${GorbText.endpointMissing}: field "host" is required`);
  const port = input.port === undefined ? 0 : checkInteger("port", input.port, 0, 65535);
  if (port === 0 && !fwmarkService) throw new ValidationError("port", `${GorbText.endpointMissing}: field "port" is required (1-65535)`);

  const weight = normalizeWeight(input.weight, weightMode);
  const method = lowerEnum<BackendMethod>("method", input.method, "nat", BACKEND_METHODS, GorbText.methodUnknown);
  const tunnel = normalizeTunnel(input, method);
  const upper = input.upper_threshold === undefined ? 0 : checkInteger("upper_threshold", input.upper_threshold, 0, 0xffffffff);
  const lower = input.lower_threshold === undefined ? 0 : checkInteger("lower_threshold", input.lower_threshold, 0, 0xffffffff);
  if (lower > upper) {
    throw new ValidationError("lower_threshold", `field "lower_threshold" (${lower}) must not exceed "upper_threshold" (${upper}); the kernel refuses it`);
  }

  const { spec, echo } = normalizePulse(input.pulse, ctx);
  const address = await resolveHost("host", hostText, ctx.resolve);
  const family = familyOf(address)!;
  if (family !== service.service.key.family) {
    throw new ValidationError(
      "host",
      `${GorbText.families}: backend ${address} is ${family === "inet" ? "IPv4" : "IPv6"} but service [${service.id}] is ${service.service.key.family === "inet" ? "IPv4" : "IPv6"}`,
    );
  }

  const options: BackendOptions = {
    host: hostText,
    port,
    weight,
    method,
    pulse: echo,
    tunnel_type: tunnel?.type ?? "",
    tunnel_port: tunnel?.port ?? 0,
    tunnel_checksum: tunnel?.checksum ?? "",
    upper_threshold: upper,
    lower_threshold: lower,
  };
  const destination: Destination = {
    family,
    address,
    port,
    forward: FORWARD[method],
    weight,
    upperThreshold: upper,
    lowerThreshold: lower,
    ...(tunnel ? { tunnel } : {}),
  };
  return { options, destination, pulse: spec };
}

function normalizeWeight(value: unknown, mode: "create" | "update"): number {
  if (value === undefined) return DEFAULT_WEIGHT;
  if (mode === "create") {
    const w = checkInteger("weight", value, -MAX_WEIGHT - 1, MAX_WEIGHT);
    return w <= 0 ? DEFAULT_WEIGHT : w;
  }
  return checkInteger("weight", value, 0, MAX_WEIGHT);
}

function normalizeTunnel(input: BackendInput, method: BackendMethod): TunnelOptions | undefined {
  const given = input.tunnel_type !== undefined || input.tunnel_port !== undefined || input.tunnel_checksum !== undefined;
  if (method !== "tunnel" && method !== "ipip") {
    if (given && (input.tunnel_type || input.tunnel_port || input.tunnel_checksum)) {
      throw new ValidationError("tunnel_type", `fields "tunnel_type", "tunnel_port" and "tunnel_checksum" need "method": "tunnel" (got ${JSON.stringify(method)})`);
    }
    return undefined;
  }
  const type = lowerEnum<TunnelKind>("tunnel_type", input.tunnel_type, "ipip", TUNNEL_TYPES, "specified tunnel type is unknown");
  if (method === "ipip" && type !== "ipip") {
    throw new ValidationError("tunnel_type", `field "tunnel_type" must be ipip with "method": "ipip"; use "method": "tunnel" for ${type}`);
  }
  const port = input.tunnel_port === undefined ? 0 : checkInteger("tunnel_port", input.tunnel_port, 0, 65535);
  if (type === "gue" && port === 0) throw new ValidationError("tunnel_port", `field "tunnel_port" is required for a gue tunnel (1-65535)`);
  if (type !== "gue" && port !== 0) throw new ValidationError("tunnel_port", `field "tunnel_port" applies to gue tunnels only`);
  const checksum = lowerEnum<TunnelOptions["checksum"]>("tunnel_checksum", input.tunnel_checksum, "none", TUNNEL_CHECKSUMS, "specified tunnel checksum is unknown");
  return { type, port, checksum };
}

function normalizePulse(input: unknown, ctx: BackendContext): { spec: unknown; echo: PulseEcho } {
  try {
    return ctx.health.normalize(input === null ? undefined : input);
  } catch (e) {
    if (e instanceof ValidationError) throw e;
    const field = (e as { field?: unknown }).field;
    const path = typeof field !== "string" || field === "" ? "pulse" : field.startsWith("pulse") ? field : `pulse.${field}`;
    throw new ValidationError(path, (e as Error).message);
  }
}

/** The stored options as an input again, for PATCH to merge the given fields over. */
export function backendOptionsToInput(options: BackendOptions, patch: BackendInput): BackendInput {
  const base: BackendInput = {
    host: options.host,
    port: options.port,
    weight: options.weight,
    method: options.method,
    pulse: options.pulse,
    upper_threshold: options.upper_threshold,
    lower_threshold: options.lower_threshold,
  };
  // Tunnel settings follow the method: a PATCH that changes the method without giving them drops them.
  if (options.tunnel_type && (patch.method === undefined || patch.tunnel_type !== undefined)) {
    base.tunnel_type = options.tunnel_type;
    base.tunnel_port = options.tunnel_port;
    base.tunnel_checksum = options.tunnel_checksum;
  }
  return base;
}
