/**
 * @module GORB's `-store`: services and backends shared through a KV store, so several gorb (or
 * GORB) instances serve one configuration. Layout as GORB's: `<prefix>/<service-path>/<vsID>`
 * holds a service's JSON, `<prefix>/<backend-path>/<rsID>` a backend's JSON with its `vsid`.
 *
 * - **Write-through**: every committed change of a service or backend (API, config file, sync)
 *   is written to the store; a failed write is kept and retried before the next sync reads.
 * - **Sync** (at start, then every `-store-sync-time` seconds): the store is the source of truth.
 *   Its content is read as a config file would be (the same models, normalizers and messages)
 *   and applied with the config file's diff, so only what differs changes — GORB compared raw
 *   strings and tore down and re-created entries that were not written in normalized form.
 *   Local services and backends the store no longer has are deleted (another instance removed
 *   them). A store that cannot be read, or holds an entry that does not validate, changes
 *   nothing this round (the problems are logged, naming the key and the field).
 * - **Seeding**: when the store has no entry at all at the first sync, gorb writes its own state
 *   there instead of deleting everything (a wrong or new prefix must not empty a load balancer).
 *
 * Backend keys are the backend ID alone (GORB's backend IDs were global); two services with a
 * backend of the same ID cannot both be stored, and the second is reported.
 */
import type { Core, CoreEvent } from "../core/core.ts";
import type { Resolver } from "../core/fields.ts";
import type { DesiredBackend, DesiredService } from "../core/model.ts";
import { KeyedLock } from "../core/lock.ts";
import { backendInput, serviceInput } from "../config/diff.ts";
import { applyConfig, formatResult } from "../config/apply.ts";
import { ConfigError, formatProblem, parseConfig, resolveConfig, type ConfigBackend, type ConfigFile, type ConfigService } from "../config/file.ts";
import { destinationId, serviceId } from "../ipvs/keys.ts";
import type { KvStore } from "./kv-store.ts";

export interface KvSyncOptions {
  readonly store: KvStore;
  readonly servicePath: string;
  readonly backendPath: string;
  /** Between syncs; 0: only at start. */
  readonly intervalMs: number;
  /** The VIP of services stored without host (the first address of -i). */
  readonly defaultHost?: string | undefined;
  readonly resolve?: Resolver;
  readonly log?: (line: string) => void;
}

export interface SyncReport {
  /** "applied": the store's content was applied; "seeded": the empty store got gorb's state; "failed": nothing changed. */
  readonly outcome: "applied" | "seeded" | "failed";
  /** Changes made to gorb's state (applied), or entries written (seeded). */
  readonly changes: number;
  readonly error?: string;
}

const STORE_LOCK = "store";

export class KvSync {
  private readonly store: KvStore;
  private readonly options: KvSyncOptions;
  private readonly log: (line: string) => void;
  private core: Core | undefined;
  /** The store's content as last applied; undefined before the first sync. */
  private last: ConfigFile | undefined;
  /** Writes not yet taken by the store, by key (null: delete), in order. */
  private readonly pending = new Map<string, string | null>();
  /**
   * What the store held at the last read, normalized (null: absent). A change that a sync made
   * from the store is not written back: echoing it late could overwrite a newer value that
   * another instance wrote meanwhile.
   */
  private storeView = new Map<string, string | null>();
  /** Backend IDs per service, for deleting a service's backend keys. */
  private readonly backendsOf = new Map<string, Set<string>>();
  /** Every store operation and sync runs under this one lock key, one at a time. */
  private readonly lock = new KeyedLock();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private unsubscribe: (() => void) | undefined;
  private stopped = false;

  constructor(options: KvSyncOptions) {
    this.store = options.store;
    this.options = options;
    this.log = options.log ?? ((line) => console.log(line));
  }

  /** The first sync (awaited), then write-through of core's changes and the periodic syncs. */
  async start(core: Core): Promise<SyncReport> {
    this.core = core;
    for (const s of core.snapshot.services.values()) this.backendsOf.set(s.id, new Set(s.backends.keys()));
    this.unsubscribe = core.events.on((event) => this.onEvent(core, event));
    const report = await this.sync();
    this.arm();
    return report;
  }

  /** Stops the timer and write-through; waits for the store operation in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.settled();
  }

  /** Writes what is pending, reads the store and applies it (or seeds an empty store). */
  sync(): Promise<SyncReport> {
    return this.enqueue(() => this.syncNow());
  }

  /** Resolves once every write queued so far has been tried (tests). */
  async settled(): Promise<void> {
    await this.enqueue(async () => undefined);
  }

  // ---- write-through ------------------------------------------------------------------

  private onEvent(core: Core, event: CoreEvent): void {
    if (this.stopped) return;
    const { servicePath, backendPath } = this.options;
    switch (event.type) {
      case "service-created":
      case "service-updated": {
        const service = core.snapshot.services.get(event.service);
        if (service) this.write(`${servicePath}/${service.id}`, serviceValue(service));
        if (!this.backendsOf.has(event.service)) this.backendsOf.set(event.service, new Set());
        return;
      }
      case "service-deleted":
        this.write(`${servicePath}/${event.service}`, null);
        for (const b of this.backendsOf.get(event.service) ?? []) this.write(`${backendPath}/${b}`, null);
        this.backendsOf.delete(event.service);
        return;
      case "backend-created":
      case "backend-updated": {
        const backend = core.snapshot.services.get(event.service)?.backends.get(event.backend);
        if (!backend) return;
        const owner = this.ownerOf(event.backend);
        if (owner !== undefined && owner !== event.service) {
          this.log(`gorb: WARNING: store: backend [${event.service}/${event.backend}] not stored: the store keys backends by ID alone, and [${owner}/${event.backend}] has it`);
          return;
        }
        this.backendsOf.get(event.service)?.add(event.backend);
        this.write(`${backendPath}/${event.backend}`, backendValue(event.service, backend));
        return;
      }
      case "backend-deleted":
        if (this.backendsOf.get(event.service)?.delete(event.backend)) this.write(`${backendPath}/${event.backend}`, null);
        return;
      default:
        return;
    }
  }

  private ownerOf(backend: string): string | undefined {
    for (const [service, backends] of this.backendsOf) if (backends.has(backend)) return service;
    return undefined;
  }

  private write(key: string, value: string | null): void {
    if (this.storeView.get(key) === value && !this.pending.has(key)) return;
    this.storeView.delete(key);
    this.pending.delete(key); // the newest value goes last
    this.pending.set(key, value);
    void this.enqueue(() => this.flush()).catch(() => undefined);
  }

  /** Sends pending writes in order; stops at the first failure (kept for the next try). */
  private async flush(): Promise<void> {
    for (const [key, value] of [...this.pending]) {
      try {
        if (value === null) await this.store.delete(key);
        else await this.store.put(key, value);
      } catch (e) {
        this.log(`gorb: WARNING: store: could not ${value === null ? "delete" : "write"} ${key} in ${this.store.location}: ${(e as Error).message}; retried at the next sync`);
        throw e;
      }
      if (this.pending.get(key) === value) this.pending.delete(key);
    }
  }

  // ---- sync ---------------------------------------------------------------------------

  private async syncNow(): Promise<SyncReport> {
    const core = this.core!;
    const where = this.store.location;
    try {
      await this.flush();
      const services = await this.store.list(this.options.servicePath);
      const backends = await this.store.list(this.options.backendPath);
      if (this.last === undefined && services.size === 0 && backends.size === 0 && core.snapshot.services.size > 0) {
        return await this.seed(core);
      }
      const next = await this.read(services, backends);
      const previous = this.last ?? configOf(core.snapshot.services.values());
      this.storeView = this.viewOf(previous, next);
      const applied = await applyConfig(core, previous, next);
      this.last = applied.config;
      const changed = applied.results.filter((r) => r.outcome !== "unchanged");
      for (const r of changed) this.log(`gorb: store sync: ${formatResult(r)}`);
      return { outcome: "applied", changes: changed.length };
    } catch (e) {
      const message = e instanceof ConfigError ? e.problems.map(formatProblem).join("; ") : (e as Error).message;
      this.log(`gorb: WARNING: store sync with ${where} failed, nothing changed: ${message}`);
      return { outcome: "failed", changes: 0, error: message };
    }
  }

  /** The store's content as gorb would write it: `next`'s entries, and nulls for what `previous` had beyond. */
  private viewOf(previous: ConfigFile, next: ConfigFile): Map<string, string | null> {
    const { servicePath, backendPath } = this.options;
    const view = new Map<string, string | null>();
    for (const [id, s] of previous.services) {
      view.set(`${servicePath}/${id}`, null);
      for (const bid of s.backends.keys()) view.set(`${backendPath}/${bid}`, null);
    }
    for (const [id, s] of next.services) {
      view.set(`${servicePath}/${id}`, serviceValue(s));
      for (const [bid, b] of s.backends) view.set(`${backendPath}/${bid}`, backendValue(id, b));
    }
    return view;
  }

  /** The store's entries as a config file: services with their backends (by `vsid`). */
  private async read(services: Map<string, string>, backends: Map<string, string>): Promise<ConfigFile> {
    const where = this.store.location;
    const tree: Record<string, Record<string, unknown>> = {};
    for (const [id, text] of services) {
      const value = parseJson(text, `${where}/${this.options.servicePath}/${id}`);
      tree[id] = { ...value, backends: {} };
    }
    for (const [id, text] of backends) {
      const { vsid, ...value } = parseJson(text, `${where}/${this.options.backendPath}/${id}`);
      const service = typeof vsid === "string" ? tree[vsid] : undefined;
      if (!service) {
        this.log(`gorb: WARNING: store: backend ${this.options.backendPath}/${id} names no stored service (vsid ${JSON.stringify(vsid)}); ignored`);
        continue;
      }
      (service.backends as Record<string, unknown>)[id] = value;
    }
    const raw = parseConfig(JSON.stringify({ services: tree }), where, "json");
    const ctx = this.options.resolve ? { defaultHost: this.options.defaultHost, resolve: this.options.resolve } : { defaultHost: this.options.defaultHost };
    return resolveConfig(raw, ctx);
  }

  /** First sync, empty store: write gorb's services and backends there. */
  private async seed(core: Core): Promise<SyncReport> {
    let written = 0;
    for (const s of core.snapshot.services.values()) {
      await this.store.put(`${this.options.servicePath}/${s.id}`, serviceValue(s));
      written++;
      for (const b of s.backends.values()) {
        await this.store.put(`${this.options.backendPath}/${b.id}`, backendValue(s.id, b));
        written++;
      }
    }
    this.last = configOf(core.snapshot.services.values());
    this.log(`gorb: store: ${this.store.location} was empty: wrote gorb's ${written} entries there`);
    return { outcome: "seeded", changes: written };
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock.run(STORE_LOCK, fn);
  }

  private arm(): void {
    if (this.options.intervalMs <= 0 || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.sync().finally(() => this.arm());
    }, this.options.intervalMs);
  }
}

/** A service's stored JSON: the request that makes it again (GORB's fields and gorb's). */
function serviceValue(s: Pick<DesiredService, "options">): string {
  return JSON.stringify(serviceInput(s));
}

/** A backend's stored JSON, with GORB's `vsid`. */
function backendValue(serviceId_: string, b: Pick<DesiredBackend, "options">): string {
  return JSON.stringify({ ...backendInput(b), vsid: serviceId_ });
}

/** gorb's own services as a config file (what the first sync diffs the store against). */
export function configOf(services: Iterable<DesiredService>): ConfigFile {
  const map = new Map<string, ConfigService>();
  for (const s of services) {
    const backends = new Map<string, ConfigBackend>();
    for (const b of s.backends.values()) backends.set(b.id, { id: b.id, input: backendInput(b), options: b.options, address: destinationId(b.destination) });
    map.set(s.id, { id: s.id, input: serviceInput(s), options: s.options, identity: serviceId(s.service.key), backends });
  }
  return { path: "", options: {}, services: map };
}

function parseJson(text: string, key: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${key} is not JSON: ${(e as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${key} is not a JSON object`);
  return value as Record<string, unknown>;
}
