/**
 * @module Where desired state is persisted. Commands write their intent here before touching the
 * kernel and undo it when the kernel refuses. An in-memory store lives here; bun:sqlite and the
 * shared stores (etcd, Consul KV) implement the same interface.
 */
import type { BackendOptions, ServiceOptions } from "./model.ts";

export type StoreChange =
  | { readonly kind: "put-service"; readonly id: string; readonly options: ServiceOptions }
  | { readonly kind: "delete-service"; readonly id: string }
  | { readonly kind: "put-backend"; readonly serviceId: string; readonly id: string; readonly options: BackendOptions }
  | { readonly kind: "delete-backend"; readonly serviceId: string; readonly id: string };

export interface StoredService {
  readonly id: string;
  readonly options: ServiceOptions;
  readonly backends: readonly { readonly id: string; readonly options: BackendOptions }[];
}

export interface StateStore {
  /** Everything persisted, for start-up. */
  load(): Promise<StoredService[]>;
  /** Applies the changes atomically (all or none). Deleting a service deletes its backends. */
  write(changes: readonly StoreChange[]): Promise<void>;
  close(): Promise<void>;
}

interface Row {
  options: ServiceOptions;
  backends: Map<string, BackendOptions>;
}

export class MemoryStateStore implements StateStore {
  private readonly rows = new Map<string, Row>();
  /** Test knob: the next write throws this. */
  failNextWrite: Error | undefined;

  async load(): Promise<StoredService[]> {
    return [...this.rows].map(([id, row]) => ({ id, options: row.options, backends: [...row.backends].map(([bid, options]) => ({ id: bid, options })) }));
  }

  async write(changes: readonly StoreChange[]): Promise<void> {
    if (this.failNextWrite) {
      const error = this.failNextWrite;
      this.failNextWrite = undefined;
      throw error;
    }
    // Check first, then apply: a bad change leaves nothing applied.
    const exists = new Set<string>();
    for (const c of changes) {
      if (c.kind === "put-service") exists.add(c.id);
      else if (c.kind === "delete-service") exists.delete(c.id);
      else if (!exists.has(c.serviceId) && !this.rows.has(c.serviceId)) throw new Error(`store: no service ${JSON.stringify(c.serviceId)}`);
    }
    for (const c of changes) {
      switch (c.kind) {
        case "put-service": {
          const row = this.rows.get(c.id);
          if (row) row.options = c.options;
          else this.rows.set(c.id, { options: c.options, backends: new Map() });
          break;
        }
        case "delete-service":
          this.rows.delete(c.id);
          break;
        case "put-backend":
          this.rows.get(c.serviceId)!.backends.set(c.id, c.options);
          break;
        case "delete-backend":
          this.rows.get(c.serviceId)!.backends.delete(c.id);
          break;
      }
    }
  }

  async close(): Promise<void> {}
}
