/**
 * @module The single-operation verbs of the Ipvs interface, written once on top of `apply`.
 */
import type { Ipvs, OperationResult, ServiceTable } from "./ipvs.ts";
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

export abstract class BaseIpvs implements Ipvs {
  abstract readonly kind: "kernel" | "memory";
  abstract info(): Promise<IpvsInfo>;
  abstract services(): Promise<ServiceEntry[]>;
  abstract service(key: ServiceKey): Promise<ServiceEntry>;
  abstract destinations(service: ServiceKey): Promise<DestinationEntry[]>;
  abstract timeouts(): Promise<Timeouts>;
  abstract daemons(): Promise<SyncDaemon[]>;
  abstract apply(operations: readonly IpvsOperation[]): Promise<OperationResult[]>;
  abstract close(): void;

  async table(): Promise<ServiceTable[]> {
    const services = await this.services();
    const tables: ServiceTable[] = [];
    for (const service of services) {
      tables.push({ service, destinations: await this.destinations(service.key) });
    }
    return tables;
  }

  /** Applies one operation and throws its IpvsError. */
  protected async one(operation: IpvsOperation): Promise<void> {
    const [result] = await this.apply([operation]);
    if (result && !result.ok) throw result.error;
  }

  addService(service: Service): Promise<void> {
    return this.one({ op: "add-service", service });
  }
  updateService(service: Service): Promise<void> {
    return this.one({ op: "update-service", service });
  }
  deleteService(key: ServiceKey): Promise<void> {
    return this.one({ op: "delete-service", key });
  }
  addDestination(service: ServiceKey, destination: Destination): Promise<void> {
    return this.one({ op: "add-destination", service, destination });
  }
  updateDestination(service: ServiceKey, destination: Destination): Promise<void> {
    return this.one({ op: "update-destination", service, destination });
  }
  deleteDestination(service: ServiceKey, destination: DestinationKey): Promise<void> {
    return this.one({ op: "delete-destination", service, destination });
  }
  flush(): Promise<void> {
    return this.one({ op: "flush" });
  }
  zero(service?: ServiceKey): Promise<void> {
    return this.one(service ? { op: "zero", service } : { op: "zero" });
  }
  setTimeouts(timeouts: Timeouts): Promise<void> {
    return this.one({ op: "set-timeouts", timeouts });
  }
  startDaemon(daemon: SyncDaemon): Promise<void> {
    return this.one({ op: "start-daemon", daemon });
  }
  stopDaemon(role: SyncDaemon["role"]): Promise<void> {
    return this.one({ op: "stop-daemon", role });
  }
}
