/**
 * @module Where desired state is persisted. Commands write their intent here before touching the
 * kernel and undo it when the kernel refuses. An in-memory store lives here; bun:sqlite
 * (sqlite-store.ts) and the shared stores (etcd, Consul KV) implement the same interface.
 *
 * A record is the options as echoed (what the operator asked, defaults filled in) plus the
 * address the host resolved to, so a restart rebuilds the same kernel table without DNS.
 */
import type { BackendOptions, ServiceOptions } from "./model.ts";

export type StoreChange =
  | { readonly kind: "put-service"; readonly id: string; readonly options: ServiceOptions; readonly address?: string }
  | { readonly kind: "delete-service"; readonly id: string }
  | { readonly kind: "put-backend"; readonly serviceId: string; readonly id: string; readonly options: BackendOptions; readonly address?: string }
  | { readonly kind: "delete-backend"; readonly serviceId: string; readonly id: string }
  /** gorb is adding (or added) this VIP to the interface, so it may remove it again later. */
  | { readonly kind: "put-vip"; readonly vip: OwnedVip }
  | { readonly kind: "delete-vip"; readonly ifname: string; readonly address: string };

/** A VIP gorb added to an interface (`-vipi`): only these does it ever remove. */
export interface OwnedVip {
  readonly ifname: string;
  /** Canonical spelling. */
  readonly address: string;
  readonly prefix: number;
}

export interface StoredBackend {
  readonly id: string;
  readonly options: BackendOptions;
  /** The address `options.host` resolved to when the backend was written. */
  readonly address?: string;
}

export interface StoredService {
  readonly id: string;
  readonly options: ServiceOptions;
  /** The VIP `options.host` (or the default interface) resolved to; absent for fwmark services. */
  readonly address?: string;
  /** In the order they were created. */
  readonly backends: readonly StoredBackend[];
}

export interface StateStore {
  /** Everything persisted, for start-up. */
  load(): Promise<StoredService[]>;
  /** The VIPs gorb added to interfaces and has not removed yet. */
  loadVips(): Promise<OwnedVip[]>;
  /** Applies the changes atomically (all or none). Deleting a service deletes its backends. */
  write(changes: readonly StoreChange[]): Promise<void>;
  close(): Promise<void>;
}

interface Row {
  options: ServiceOptions;
  address: string | undefined;
  backends: Map<string, { options: BackendOptions; address: string | undefined }>;
}

export class MemoryStateStore implements StateStore {
  private readonly rows = new Map<string, Row>();
  private readonly vips = new Map<string, OwnedVip>();
  /** Test knob: the next write throws this. */
  failNextWrite: Error | undefined;

  async load(): Promise<StoredService[]> {
    return [...this.rows].map(([id, row]) => ({
      id,
      options: row.options,
      ...(row.address === undefined ? {} : { address: row.address }),
      backends: [...row.backends].map(([bid, b]) => ({ id: bid, options: b.options, ...(b.address === undefined ? {} : { address: b.address }) })),
    }));
  }

  async loadVips(): Promise<OwnedVip[]> {
    return [...this.vips.values()];
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
      else if (c.kind === "put-vip" || c.kind === "delete-vip") continue;
      else if (!exists.has(c.serviceId) && !this.rows.has(c.serviceId)) throw new Error(`store: no service ${JSON.stringify(c.serviceId)}`);
    }
    for (const c of changes) {
      switch (c.kind) {
        case "put-service": {
          const row = this.rows.get(c.id);
          if (row) {
            row.options = c.options;
            row.address = c.address;
          } else this.rows.set(c.id, { options: c.options, address: c.address, backends: new Map() });
          break;
        }
        case "delete-service":
          this.rows.delete(c.id);
          break;
        case "put-backend":
          this.rows.get(c.serviceId)!.backends.set(c.id, { options: c.options, address: c.address });
          break;
        case "delete-backend":
          this.rows.get(c.serviceId)!.backends.delete(c.id);
          break;
        case "put-vip":
          this.vips.set(vipKey(c.vip.ifname, c.vip.address), c.vip);
          break;
        case "delete-vip":
          this.vips.delete(vipKey(c.ifname, c.address));
          break;
      }
    }
  }

  async close(): Promise<void> {}
}

function vipKey(ifname: string, address: string): string {
  return `${ifname}\0${address}`;
}
