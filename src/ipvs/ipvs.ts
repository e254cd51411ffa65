/**
 * @module The one interface every IPVS implementation offers: KernelIpvs (netlink through libnl)
 * and MemoryIpvs (an in-memory model with the kernel's rules and errnos).
 */
import type { IpvsError } from "./errors.ts";
import type {
  Destination,
  DestinationEntry,
  DestinationKey,
  IpvsInfo,
  IpvsOperation,
  Service,
  ServiceEntry,
  ServiceKey,
  SyncDaemon,
  Timeouts,
} from "./types.ts";

export type OperationResult = { readonly ok: true } | { readonly ok: false; readonly error: IpvsError };

/** A service with its destinations, as one dump returns them. */
export interface ServiceTable {
  readonly service: ServiceEntry;
  readonly destinations: readonly DestinationEntry[];
}

export interface Ipvs {
  /** "kernel" or "memory": for logs and the API's status. */
  readonly kind: "kernel" | "memory";

  info(): Promise<IpvsInfo>;
  services(): Promise<ServiceEntry[]>;
  /** One service; rejects with IpvsError ESRCH when it does not exist. */
  service(key: ServiceKey): Promise<ServiceEntry>;
  destinations(service: ServiceKey): Promise<DestinationEntry[]>;
  /** Every service with its destinations (what `ipvsadm -Sn` shows). */
  table(): Promise<ServiceTable[]>;
  timeouts(): Promise<Timeouts>;
  daemons(): Promise<SyncDaemon[]>;

  /**
   * Applies operations in order, many in flight at once, and reports each one's own result
   * (index for index). A failed operation does not stop the ones after it; rolling back is the
   * caller's choice (see core/).
   */
  apply(operations: readonly IpvsOperation[]): Promise<OperationResult[]>;

  addService(service: Service): Promise<void>;
  updateService(service: Service): Promise<void>;
  deleteService(key: ServiceKey): Promise<void>;
  addDestination(service: ServiceKey, destination: Destination): Promise<void>;
  updateDestination(service: ServiceKey, destination: Destination): Promise<void>;
  deleteDestination(service: ServiceKey, destination: DestinationKey): Promise<void>;
  flush(): Promise<void>;
  /** Zero the counters of one service, or of all when none is given. */
  zero(service?: ServiceKey): Promise<void>;
  setTimeouts(timeouts: Timeouts): Promise<void>;
  startDaemon(daemon: SyncDaemon): Promise<void>;
  stopDaemon(role: SyncDaemon["role"]): Promise<void>;

  close(): void;
}
