/**
 * @module What gorb last wrote to the kernel, per service and backend ID: the `actual` side of
 * the plans of API writes and health updates. Only core changes it, after a successful apply.
 */
import type { Destination, Service } from "../ipvs/types.ts";
import type { DesiredService } from "./model.ts";
import { destinationKey } from "./plan.ts";
import type { TableEntry } from "./project.ts";

interface AppliedService {
  service: Service;
  readonly destinations: Map<string, Destination>;
}

export class AppliedTable {
  private readonly services = new Map<string, AppliedService>();

  has(id: string): boolean {
    return this.services.has(id);
  }

  /** The service as a table entry (destinations in backend order), or undefined. */
  entry(id: string): TableEntry | undefined {
    const s = this.services.get(id);
    return s && { service: s.service, destinations: [...s.destinations.values()] };
  }

  service(id: string): Service | undefined {
    return this.services.get(id)?.service;
  }

  destination(id: string, backend: string): Destination | undefined {
    return this.services.get(id)?.destinations.get(backend);
  }

  /** Records a projected service; `entry.destinations` are in the order of `desired.backends`. */
  setService(desired: DesiredService, entry: TableEntry): void {
    const destinations = new Map<string, Destination>();
    let i = 0;
    for (const id of desired.backends.keys()) destinations.set(id, entry.destinations[i++]!);
    this.services.set(desired.id, { service: entry.service, destinations });
  }

  /**
   * Records a service as a kernel dump shows it: each backend gets the destination with its
   * address (by destination key) when there is one, and none when the kernel lacks it.
   */
  setMatched(desired: DesiredService, service: Service, byKey: ReadonlyMap<string, Destination>): void {
    const destinations = new Map<string, Destination>();
    for (const [id, backend] of desired.backends) {
      const d = byKey.get(destinationKey(backend.destination));
      if (d) destinations.set(id, d);
    }
    this.services.set(desired.id, { service, destinations });
  }

  deleteService(id: string): void {
    this.services.delete(id);
  }

  setDestination(id: string, backend: string, destination: Destination | undefined): void {
    const s = this.services.get(id);
    if (!s) return;
    if (destination) s.destinations.set(backend, destination);
    else s.destinations.delete(backend);
  }
}
