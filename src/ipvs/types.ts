/**
 * @module What the rest of gorb sees of IPVS: services, destinations, statistics, timeouts,
 * sync daemons, and the operations a batch is made of. No wire details here.
 */

export type Family = "inet" | "inet6";
export type Protocol = "tcp" | "udp" | "sctp";
/** Forwarding methods; ipvsadm calls them -m (masq), -i (tunnel), -g (route). */
export type ForwardMethod = "masq" | "local" | "tunnel" | "route" | "bypass";
export type TunnelKind = "ipip" | "gue" | "gre";

/** A virtual service named by address, protocol and port. */
export interface AddressServiceKey {
  readonly family: Family;
  readonly protocol: Protocol;
  /** Canonical textual address (IPv6 in RFC 5952 form). */
  readonly address: string;
  readonly port: number;
}

/** A virtual service named by a firewall mark. */
export interface FwmarkServiceKey {
  readonly family: Family;
  readonly fwmark: number;
}

export type ServiceKey = AddressServiceKey | FwmarkServiceKey;

export function isFwmarkKey(key: ServiceKey): key is FwmarkServiceKey {
  return "fwmark" in key;
}

/** Scheduler flags gorb names; the kernel's IP_VS_SVC_F_* bits they stand for are in codec/service.ts. */
export type ServiceFlag = "persistent" | "one-packet" | "sched1" | "sched2" | "sched3";

export interface Service {
  readonly key: ServiceKey;
  /** Scheduler name: rr, wrr, lc, wlc, sh, dh, mh, sed, nq, lblc, lblcr, fo, ovf, twos... */
  readonly scheduler: string;
  /** Flags other than persistence (which follows `timeout`) and the kernel's own HASHED bit. */
  readonly flags: readonly Exclude<ServiceFlag, "persistent">[];
  /** Persistence timeout in seconds; 0 means not persistent. */
  readonly timeout: number;
  /** Persistence netmask as a prefix length: 0-32 for IPv4, 1-128 for IPv6. */
  readonly netmask: number;
  /** Persistence engine (e.g. "sip"); empty for none. */
  readonly persistenceEngine: string;
}

export interface DestinationKey {
  readonly family: Family;
  readonly address: string;
  readonly port: number;
}

export interface Destination extends DestinationKey {
  readonly forward: ForwardMethod;
  readonly weight: number;
  /** Upper connection threshold; 0 means none. */
  readonly upperThreshold: number;
  /** Lower connection threshold; 0 means none. */
  readonly lowerThreshold: number;
  /** Tunnel encapsulation, for forward = "tunnel" (kernel ≥ 5.3). */
  readonly tunnel?: TunnelOptions;
}

export interface TunnelOptions {
  readonly type: TunnelKind;
  /** Destination UDP port of the GUE encapsulation; 0 for ipip and gre. */
  readonly port: number;
  readonly checksum: "none" | "csum" | "remcsum";
}

/** Traffic counters and rates, from the 64-bit attributes when the kernel has them. */
export interface Stats {
  readonly connections: number;
  readonly packetsIn: number;
  readonly packetsOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly connectionsPerSecond: number;
  readonly packetsInPerSecond: number;
  readonly packetsOutPerSecond: number;
  readonly bytesInPerSecond: number;
  readonly bytesOutPerSecond: number;
}

export const ZERO_STATS: Stats = Object.freeze({
  connections: 0,
  packetsIn: 0,
  packetsOut: 0,
  bytesIn: 0,
  bytesOut: 0,
  connectionsPerSecond: 0,
  packetsInPerSecond: 0,
  packetsOutPerSecond: 0,
  bytesInPerSecond: 0,
  bytesOutPerSecond: 0,
});

/** A service as read back from IPVS. */
export interface ServiceEntry extends Service {
  readonly stats: Stats;
}

/** A destination as read back from IPVS. */
export interface DestinationEntry extends Destination {
  readonly activeConnections: number;
  readonly inactiveConnections: number;
  readonly persistentConnections: number;
  readonly stats: Stats;
}

/** Connection timeouts in seconds (ipvsadm --set); 0 in a SET leaves that one unchanged. */
export interface Timeouts {
  readonly tcp: number;
  readonly tcpFin: number;
  readonly udp: number;
}

export interface IpvsInfo {
  /** "1.2.1" */
  readonly version: string;
  readonly connectionTableSize: number;
}

export type DaemonRole = "master" | "backup";

export interface SyncDaemon {
  readonly role: DaemonRole;
  readonly interface: string;
  readonly syncId: number;
  /** Optional settings (kernel ≥ 4.3); omitted means the kernel's default. */
  readonly maxLength?: number;
  readonly group?: string;
  readonly port?: number;
  readonly ttl?: number;
}

/** One IPVS change, as data, so it can be batched, planned, inverted and logged. */
export type IpvsOperation =
  | { readonly op: "add-service"; readonly service: Service }
  | { readonly op: "update-service"; readonly service: Service }
  | { readonly op: "delete-service"; readonly key: ServiceKey }
  | { readonly op: "add-destination"; readonly service: ServiceKey; readonly destination: Destination }
  | { readonly op: "update-destination"; readonly service: ServiceKey; readonly destination: Destination }
  | { readonly op: "delete-destination"; readonly service: ServiceKey; readonly destination: DestinationKey }
  | { readonly op: "flush" }
  | { readonly op: "zero"; readonly service?: ServiceKey }
  | { readonly op: "set-timeouts"; readonly timeouts: Timeouts }
  | { readonly op: "start-daemon"; readonly daemon: SyncDaemon }
  | { readonly op: "stop-daemon"; readonly role: DaemonRole };
