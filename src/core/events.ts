/**
 * @module What core announces after a change is committed: logs, SSE, Consul and metrics listen.
 * Listeners run synchronously after the commit; one that throws is reported and does not stop the others.
 */
import type { HealthStatus } from "./health.ts";
import type { RepairOperation } from "./reconcile.ts";

export type CoreEvent =
  | { readonly type: "service-created" | "service-updated" | "service-deleted"; readonly service: string }
  | { readonly type: "backend-created" | "backend-updated" | "backend-deleted"; readonly service: string; readonly backend: string }
  | { readonly type: "backend-status"; readonly service: string; readonly backend: string; readonly status: HealthStatus; readonly health: number | null }
  | { readonly type: "backend-weight"; readonly service: string; readonly backend: string; readonly weight: number }
  | { readonly type: "rollback-failed"; readonly service: string; readonly error: string }
  /** Start-up or reconcile changed the kernel to match desired state (one event per operation). */
  | { readonly type: "repaired"; readonly service: string; readonly operation: RepairOperation };

export type CoreEventListener = (event: CoreEvent) => void;

export class EventBus {
  private readonly listeners = new Set<CoreEventListener>();

  /** Adds a listener; returns the function that removes it. */
  on(listener: CoreEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: CoreEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (e) {
        console.error(`gorb: event listener failed on ${event.type}:`, e);
      }
    }
  }
}
