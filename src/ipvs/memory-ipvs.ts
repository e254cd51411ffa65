/**
 * @module MemoryIpvs: an in-memory IPVS with the kernel's rules and errnos (net/netfilter/ipvs/
 * ip_vs_ctl.c), for tests and `gorb --ipvs memory`. Where it and the kernel disagree, the shared
 * contract suite (test/ipvs-contract.ts) fails in the kernel tier and this file is wrong.
 */
import { BaseIpvs } from "./base-ipvs.ts";
import { IpvsError, Errno } from "./errors.ts";
import type { OperationResult } from "./ipvs.ts";
import { destinationId, destinationKeyOf, serviceId, serviceKeyOf } from "./keys.ts";
import { addressToBytes } from "./address.ts";
import {
  ZERO_STATS,
  isFwmarkKey,
  type Destination,
  type DestinationEntry,
  type DestinationKey,
  type IpvsInfo,
  type IpvsOperation,
  type Service,
  type ServiceEntry,
  type ServiceKey,
  type SyncDaemon,
  type Timeouts,
} from "./types.ts";

/** Schedulers of Debian's 6.1 kernel (CONFIG_IP_VS_TWOS is not set there). */
export const DEFAULT_SCHEDULERS = ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "mh", "sed", "nq", "fo", "ovf"];

const DEFAULT_TUNNEL = Object.freeze({ type: "ipip", port: 0, checksum: "none" } as const);

export interface MemoryIpvsOptions {
  schedulers?: readonly string[];
  persistenceEngines?: readonly string[];
  interfaces?: readonly string[];
  /** Test knob: fail the nth operation applied from now (1-based) with this errno. */
  failAt?: { readonly nth: number; readonly errno: number };
}

interface ServiceRecord {
  service: Service;
  destinations: Map<string, Destination>;
}

export class MemoryIpvs extends BaseIpvs {
  readonly kind = "memory" as const;
  private readonly table_ = new Map<string, ServiceRecord>();
  private timeouts_: Timeouts = { tcp: 900, tcpFin: 120, udp: 60 * 5 };
  private readonly daemons_ = new Map<SyncDaemon["role"], SyncDaemon>();
  private readonly schedulers: ReadonlySet<string>;
  private readonly engines: ReadonlySet<string>;
  private readonly interfaces: ReadonlySet<string>;
  private failAt: { nth: number; errno: number } | undefined;

  constructor(options: MemoryIpvsOptions = {}) {
    super();
    this.schedulers = new Set([...(options.schedulers ?? DEFAULT_SCHEDULERS), "none"]);
    this.engines = new Set(options.persistenceEngines ?? ["sip"]);
    this.interfaces = new Set(options.interfaces ?? ["lo", "eth0"]);
    this.failAt = options.failAt ? { ...options.failAt } : undefined;
  }

  /** Test knob: make the nth operation applied from now fail with `errno`. */
  failNext(nth: number, errno: number): void {
    this.failAt = { nth, errno };
  }

  async info(): Promise<IpvsInfo> {
    return { version: "1.2.1", connectionTableSize: 4096 };
  }

  async services(): Promise<ServiceEntry[]> {
    return [...this.table_.values()].map((r) => ({ ...r.service, stats: ZERO_STATS }));
  }

  async service(key: ServiceKey): Promise<ServiceEntry> {
    const record = this.table_.get(serviceId(key));
    if (!record) throw new IpvsError(Errno.ESRCH, "get");
    return { ...record.service, stats: ZERO_STATS };
  }

  async destinations(key: ServiceKey): Promise<DestinationEntry[]> {
    const record = this.table_.get(serviceId(key));
    if (!record) throw new IpvsError(Errno.ESRCH, "get");
    return [...record.destinations.values()].map((d) => ({
      ...d,
      activeConnections: 0,
      inactiveConnections: 0,
      persistentConnections: 0,
      stats: ZERO_STATS,
    }));
  }

  async timeouts(): Promise<Timeouts> {
    return { ...this.timeouts_ };
  }

  async daemons(): Promise<SyncDaemon[]> {
    return [...this.daemons_.values()];
  }

  async apply(operations: readonly IpvsOperation[]): Promise<OperationResult[]> {
    return operations.map((operation) => {
      if (this.failAt && --this.failAt.nth === 0) {
        const errno = this.failAt.errno;
        this.failAt = undefined;
        return { ok: false, error: new IpvsError(errno, operation.op) };
      }
      const errno = this.applyOne(operation);
      return errno === 0 ? { ok: true } : { ok: false, error: new IpvsError(errno, operation.op) };
    });
  }

  close(): void {}

  /** Returns 0 or the errno the kernel would answer. */
  private applyOne(operation: IpvsOperation): number {
    switch (operation.op) {
      case "flush":
        this.table_.clear();
        return 0;
      case "zero":
        return operation.service && !this.table_.has(serviceId(operation.service)) ? Errno.ESRCH : 0;
      case "set-timeouts": {
        const t = operation.timeouts;
        if (t.tcp < 0 || t.tcpFin < 0 || t.udp < 0) return Errno.EINVAL;
        this.timeouts_ = {
          tcp: t.tcp || this.timeouts_.tcp,
          tcpFin: t.tcpFin || this.timeouts_.tcpFin,
          udp: t.udp || this.timeouts_.udp,
        };
        return 0;
      }
      case "start-daemon": {
        const d = operation.daemon;
        if (!this.interfaces.has(d.interface)) return Errno.ENODEV;
        if (this.daemons_.has(d.role)) return Errno.EEXIST;
        this.daemons_.set(d.role, { ...d });
        return 0;
      }
      case "stop-daemon":
        return this.daemons_.delete(operation.role) ? 0 : Errno.ESRCH;
      case "add-service":
      case "update-service":
        return this.putService(operation.service, operation.op === "add-service");
      case "delete-service":
        return this.table_.delete(serviceId(operation.key)) ? 0 : Errno.ESRCH;
      case "add-destination":
      case "update-destination":
        return this.putDestination(operation.service, operation.destination, operation.op === "add-destination");
      case "delete-destination": {
        const record = this.table_.get(serviceId(operation.service));
        if (!record) return Errno.ESRCH;
        return record.destinations.delete(destinationId(operation.destination)) ? 0 : Errno.ENOENT;
      }
    }
  }

  private putService(service: Service, create: boolean): number {
    const id = serviceId(service.key);
    const existing = this.table_.get(id);
    if (create && existing) return Errno.EEXIST;
    if (!create && !existing) return Errno.ESRCH;
    if (!isFwmarkKey(service.key) && !["tcp", "udp", "sctp"].includes(service.key.protocol)) return Errno.EPROTONOSUPPORT;
    if (service.scheduler.length >= 16 || service.persistenceEngine.length >= 16) return Errno.EINVAL;
    if (!this.schedulers.has(service.scheduler)) return Errno.ENOENT;
    if (service.persistenceEngine && !this.engines.has(service.persistenceEngine)) return Errno.ENOENT;
    if (service.key.family === "inet6" && (service.netmask < 1 || service.netmask > 128)) return Errno.EINVAL;
    const stored: Service = { ...service, key: serviceKeyOf(service.key), flags: [...service.flags] };
    if (existing) existing.service = stored;
    else this.table_.set(id, { service: stored, destinations: new Map() });
    return 0;
  }

  private putDestination(key: ServiceKey, destination: Destination, create: boolean): number {
    const record = this.table_.get(serviceId(key));
    if (!record) return Errno.ESRCH;
    // Mixed address families are only forwardable by tunnelling.
    if (destination.family !== key.family && destination.forward !== "tunnel") return Errno.EINVAL;
    if (destination.weight < 0) return Errno.ERANGE;
    if (destination.lowerThreshold > destination.upperThreshold) return Errno.ERANGE;
    if (destination.tunnel?.type === "gue" && destination.tunnel.port === 0) return Errno.EINVAL;
    const id = destinationId(destination);
    const existing = record.destinations.get(id);
    if (create && existing) return Errno.EEXIST;
    if (!create && !existing) return Errno.ENOENT;
    if (create && !isUnicast(destination)) return Errno.EINVAL;
    record.destinations.set(id, { ...destinationKeyOf(destination), ...stripKey(destination) });
    return 0;
  }
}

function stripKey(d: Destination): Omit<Destination, keyof DestinationKey> {
  const { forward, weight, upperThreshold, lowerThreshold, tunnel } = d;
  // Tunnel settings mean something only for tunnelled destinations; a dump shows them only there.
  if (forward !== "tunnel") return { forward, weight, upperThreshold, lowerThreshold };
  return { forward, weight, upperThreshold, lowerThreshold, tunnel: tunnel ?? DEFAULT_TUNNEL };
}

/** The kernel accepts only unicast (or local) real-server addresses (ip_vs_new_dest). */
function isUnicast(d: DestinationKey): boolean {
  const b = addressToBytes(d.address);
  if (d.family === "inet") {
    if (b[0] === 0 || b[0]! >= 224) return false; // zeronet, multicast, class E and broadcast
    return true;
  }
  if (b[0] === 0xff) return false; // multicast
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return false; // link-local
  return b.some((x) => x !== 0); // not ::
}
