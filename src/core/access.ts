/**
 * @module What start-up, reconcile and clean-up (startup.ts, reconcile.ts) may reach of core's
 * state: the committed snapshot, the per-service lock, the projection and the record of what the
 * kernel holds. Core builds one of these for them; nothing else sees it.
 */
import type { Ipvs } from "../ipvs/ipvs.ts";
import type { CoreEvent } from "./events.ts";
import type { DesiredService } from "./model.ts";
import type { BackendContext } from "./normalize-backend.ts";
import type { ServiceContext } from "./normalize-service.ts";
import type { TableEntry } from "./project.ts";

export interface CoreAccess {
  readonly ipvs: Ipvs;
  /** The normalizers' contexts (defaults, resolver, scheduler list, pulse normalizer). */
  readonly serviceCtx: ServiceContext;
  readonly backendCtx: BackendContext;
  /** The committed services, in the snapshot's order. */
  services(): DesiredService[];
  service(id: string): DesiredService | undefined;
  /** Runs `fn` holding service `id`'s lock: commands and health updates on it wait meanwhile. */
  withLock<T>(id: string, fn: () => Promise<T>): Promise<T>;
  /** The table entry gorb wants for `service` now (effective weights in). */
  wanted(service: DesiredService): TableEntry;
  /** Records what the kernel holds for `service` (undefined: nothing); call under its lock. */
  markApplied(service: DesiredService, entry: TableEntry | undefined): void;
  /** Start-up only: commits restored services and starts their checks; `adopted` weights by health ID. */
  install(services: readonly DesiredService[], adopted: ReadonlyMap<string, number>): void;
  emit(event: CoreEvent): void;
}
