/**
 * @module project(desired, runtime) → the kernel table gorb wants. Pure: the effective weights
 * come in through `runtime`, so the same function serves API writes, health updates, start-up
 * adoption and the periodic reconcile.
 */
import type { Destination, Service } from "../ipvs/types.ts";
import type { DesiredService, DesiredState } from "./model.ts";

/** One service of a kernel table: what plan() compares. A kernel dump (ServiceTable) fits too. */
export interface TableEntry {
  readonly service: Service;
  readonly destinations: readonly Destination[];
}

/** Effective weights of a service's backends, by backend ID; a missing ID keeps its configured weight. */
export interface Runtime {
  weights(service: DesiredService): ReadonlyMap<string, number>;
}

/** Every backend at its configured weight (no health checks). */
export const CONFIGURED_WEIGHTS: Runtime = { weights: () => new Map() };

export function projectService(service: DesiredService, runtime: Runtime): TableEntry {
  const weights = runtime.weights(service);
  const destinations: Destination[] = [];
  for (const [id, backend] of service.backends) {
    const weight = weights.get(id);
    destinations.push(weight === undefined || weight === backend.destination.weight ? backend.destination : { ...backend.destination, weight });
  }
  return { service: service.service, destinations };
}

/** The whole wanted table, one entry per desired service, in the desired state's order. */
export function project(desired: DesiredState, runtime: Runtime): TableEntry[] {
  const table: TableEntry[] = [];
  for (const service of desired.services.values()) table.push(projectService(service, runtime));
  return table;
}
