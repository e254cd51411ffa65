/**
 * @module Desired state: what the operator asked for, as immutable snapshots. A command builds a
 * new snapshot and swaps it in at commit, so reads never wait for writes and never see half a
 * change. Field names of the options follow GORB's JSON (they are echoed by GET).
 */
import type { Destination, Family, Protocol, Service } from "../ipvs/types.ts";
import { PersistentMap, type ReadonlyStringMap } from "./pmap.ts";

/** Service fields as a request gives them (keys already lower-cased); all optional. */
export interface ServiceInput {
  host?: string;
  port?: number;
  protocol?: string;
  method?: string;
  flags?: string;
  persistent?: boolean;
  fwmark?: number;
  family?: string;
  timeout?: number;
  netmask?: number;
  all_down?: string;
}

/** Backend fields as a request gives them; `pulse` goes to the health checker's normalizer. */
export interface BackendInput {
  host?: string;
  port?: number;
  weight?: number;
  method?: string;
  pulse?: unknown;
  tunnel_type?: string;
  tunnel_port?: number;
  tunnel_checksum?: string;
  upper_threshold?: number;
  lower_threshold?: number;
}

/** A service's options as stored and echoed by GET (GORB's fields first, in GORB's order). */
export interface ServiceOptions {
  readonly host: string;
  readonly port: number;
  readonly protocol: Protocol;
  readonly method: string;
  readonly flags: string;
  readonly persistent: boolean;
  /** Firewall mark; 0 for an address service. */
  readonly fwmark: number;
  readonly family: Family;
  /** Persistence timeout in seconds; 0 when not persistent. */
  readonly timeout: number;
  /** Persistence netmask as a prefix length. */
  readonly netmask: number;
  /** What the service does when every backend is down: "zero" (GORB), "keep" or "one". */
  readonly all_down: string;
}

export type BackendMethod = "nat" | "tunnel" | "ipip" | "dr";

/** A backend's options as stored and echoed (weight here is the configured weight). */
export interface BackendOptions {
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  readonly method: BackendMethod;
  /** The pulse object as GORB echoes it: {type, interval, args} with defaults filled in. */
  readonly pulse: PulseEcho;
  readonly tunnel_type: string;
  readonly tunnel_port: number;
  readonly tunnel_checksum: string;
  readonly upper_threshold: number;
  readonly lower_threshold: number;
}

export interface PulseEcho {
  readonly type: string;
  readonly interval: string;
  readonly args: unknown;
  readonly [extra: string]: unknown;
}

export interface DesiredService {
  readonly id: string;
  readonly options: ServiceOptions;
  /** The IPVS service this asks for, with the host resolved. */
  readonly service: Service;
  readonly backends: ReadonlyStringMap<DesiredBackend>;
}

export interface DesiredBackend {
  readonly id: string;
  /** The health checker's ID of this backend ("<service>/<backend>"). */
  readonly healthId: string;
  readonly options: BackendOptions;
  /** The IPVS destination at the configured weight; project() puts the effective weight in. */
  readonly destination: Destination;
  /** The health checker's normalized spec (opaque to core). */
  readonly pulse: unknown;
}

export interface DesiredState {
  readonly services: ReadonlyStringMap<DesiredService>;
}

export const EMPTY_STATE: DesiredState = Object.freeze({ services: PersistentMap.empty<DesiredService>() });

/** A new snapshot with one service replaced (or removed when `next` is undefined); shares the rest. */
export function withService(state: DesiredState, id: string, next: DesiredService | undefined): DesiredState {
  const services = PersistentMap.from(state.services);
  return { services: next ? services.with(id, next) : services.without(id) };
}

/** A new service snapshot with one backend replaced (or removed); shares the rest. */
export function withBackend(service: DesiredService, id: string, next: DesiredBackend | undefined): DesiredService {
  const backends = PersistentMap.from(service.backends);
  return { ...service, backends: next ? backends.with(id, next) : backends.without(id) };
}

/** No backends. */
export function noBackends(): ReadonlyStringMap<DesiredBackend> {
  return PersistentMap.empty<DesiredBackend>();
}

/** The health checker's ID of a backend: service-scoped, unambiguous since IDs hold no "/". */
export function healthId(service: string, backend: string): string {
  return `${service}/${backend}`;
}
