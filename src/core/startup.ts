/**
 * @module Start-up and clean-up.
 *
 * Start-up rebuilds desired state from the store, dumps the kernel's table, ADOPTS what already
 * matches and fixes only what differs, in place (`plan` against the dump: update-service,
 * update-destination; never delete-and-recreate). A restart therefore removes nothing and never
 * leaves a window where a service is missing. Kernel services desired state does not name are
 * left alone, unless `flush` (GORB's -f) empties the whole table first.
 *
 * Effective weights after a restart: health is unknown until the checker's first verdict. For a
 * destination the kernel already has, gorb keeps the kernel's current weight (capped at the
 * configured weight) until that verdict or a PATCH of the backend — so a backend that pulse had
 * taken to 0 stays at 0, and a healthy one is not zeroed. A backend the kernel lacks starts at its
 * configured weight, as a new backend does.
 *
 * A stored service that cannot be rebuilt (its record no longer validates, or its identity
 * collides with one rebuilt before it) is skipped with its backends and reported: it stays in the
 * store, and its kernel entry, now foreign, is left as it is.
 */
import { serviceId } from "../ipvs/keys.ts";
import type { IpvsOperation } from "../ipvs/types.ts";
import { isFwmarkKey } from "../ipvs/types.ts";
import { IpvsError, Errno } from "../ipvs/errors.ts";
import type { CoreAccess } from "./access.ts";
import { healthId, noBackends, withBackend, type DesiredBackend, type DesiredService } from "./model.ts";
import { backendOptionsToInput, normalizeBackend } from "./normalize-backend.ts";
import { normalizeService, serviceOptionsToInput } from "./normalize-service.ts";
import { destinationKey } from "./plan.ts";
import type { TableEntry } from "./project.ts";
import { reconcile, type ReconcileResult } from "./reconcile.ts";
import type { StateStore, StoredService } from "./store.ts";
import type { VipRepair } from "./vips.ts";

export interface StartOptions {
  /** GORB's -f: flush the whole IPVS table first, then apply desired state. */
  readonly flush?: boolean;
  readonly log?: (line: string) => void;
}

export interface StartupReport {
  /** Services and backends rebuilt from the store. */
  readonly services: number;
  readonly backends: number;
  /** Store records that could not be rebuilt (left in the store and, as foreign, in the kernel). */
  readonly skipped: string[];
  readonly flushed: boolean;
  /** Desired services the kernel already had (adopted, repaired in place when they differed). */
  readonly adopted: number;
  /** Destinations whose kernel weight is kept until their first health verdict. */
  readonly keptWeights: number;
  /** What start-up changed in the kernel. */
  readonly reconcile: ReconcileResult;
  /** With -vipi: VIPs put back on the interface, or removed because no service uses them. */
  readonly vips?: VipRepair[];
  readonly durationMs: number;
}

export async function startUp(access: CoreAccess, store: StateStore, options: StartOptions = {}): Promise<StartupReport> {
  const started = performance.now();
  const log = options.log ?? ((line: string) => console.log(line));
  const { services, skipped } = await rebuild(access, await store.load());
  for (const problem of skipped) log(`gorb: WARNING: start-up: ${problem}`);
  if (options.flush) {
    await access.ipvs.flush();
    log("gorb: start-up: flushed the whole IPVS table (-f)");
  }
  const table: readonly TableEntry[] = options.flush ? [] : await access.ipvs.table();
  const kept = keptWeights(services, table);
  access.install(services, kept);
  const result = await reconcile(access, { trigger: "start-up", table, adoptAll: true, log });
  const keys = new Set(table.map((e) => serviceId(e.service.key)));
  return {
    services: services.length,
    backends: services.reduce((n, s) => n + s.backends.size, 0),
    skipped,
    flushed: options.flush === true,
    adopted: services.filter((s) => keys.has(serviceId(s.service.key))).length,
    keptWeights: kept.size,
    reconcile: result,
    durationMs: Math.round((performance.now() - started) * 1000) / 1000,
  };
}

/** Desired services from store records, through the same normalizers as API requests (no DNS: the recorded addresses). */
export async function rebuild(access: Pick<CoreAccess, "serviceCtx" | "backendCtx">, stored: readonly StoredService[]): Promise<{ services: DesiredService[]; skipped: string[] }> {
  const services: DesiredService[] = [];
  const skipped: string[] = [];
  const identities = new Map<string, string>();
  for (const record of stored) {
    try {
      const service = await rebuildService(access, record);
      const identity = serviceId(service.service.key);
      const other = identities.get(identity);
      if (other !== undefined) throw new Error(`it is ${identity}, like service [${other}] restored before it`);
      identities.set(identity, record.id);
      services.push(service);
    } catch (e) {
      skipped.push(`service [${record.id}] from the store not restored: ${(e as Error).message}; it stays in the store, and the kernel's entry is left as it is`);
    }
  }
  return { services, skipped };
}

async function rebuildService(access: Pick<CoreAccess, "serviceCtx" | "backendCtx">, record: StoredService): Promise<DesiredService> {
  const address = record.address;
  const serviceCtx = address === undefined ? access.serviceCtx : { ...access.serviceCtx, defaultHost: address, resolve: async () => address };
  const normalized = await normalizeService(serviceOptionsToInput(record.options), serviceCtx);
  let service: DesiredService = { id: record.id, ...normalized, backends: noBackends() };
  const addresses = new Map<string, string>();
  for (const b of record.backends) {
    const backendAddress = b.address;
    const ctx = backendAddress === undefined ? access.backendCtx : { ...access.backendCtx, resolve: async () => backendAddress };
    let backend: DesiredBackend;
    try {
      // "update": a stored weight of 0 is a drained backend, not GORB's "0 means 100" of a PUT.
      const n = await normalizeBackend(backendOptionsToInput(b.options, {}), service, ctx, "update");
      backend = { id: b.id, healthId: healthId(record.id, b.id), ...n };
    } catch (e) {
      throw new Error(`backend [${b.id}]: ${(e as Error).message}`);
    }
    const key = destinationKey(backend.destination);
    const owner = addresses.get(key);
    if (owner !== undefined) throw new Error(`backend [${b.id}] is ${key}, like backend [${owner}]`);
    addresses.set(key, b.id);
    service = withBackend(service, b.id, backend);
  }
  if (!isFwmarkKey(service.service.key) && address !== undefined && service.service.key.address !== address) {
    throw new Error(`its address ${service.service.key.address} differs from the recorded ${address}`);
  }
  return service;
}

/** Kernel weights to keep until the first verdict: destinations the kernel has below their configured weight. */
export function keptWeights(services: readonly DesiredService[], table: readonly TableEntry[]): Map<string, number> {
  const kernel = new Map(table.map((e) => [serviceId(e.service.key), e]));
  const kept = new Map<string, number>();
  for (const service of services) {
    const entry = kernel.get(serviceId(service.service.key));
    if (!entry || service.backends.size === 0) continue;
    const have = new Map(entry.destinations.map((d) => [destinationKey(d), d.weight]));
    for (const b of service.backends.values()) {
      const weight = have.get(destinationKey(b.destination));
      if (weight !== undefined && weight < b.destination.weight) kept.set(b.healthId, Math.max(0, weight));
    }
  }
  return kept;
}

export interface CleanupResult {
  /** Services removed from the kernel, by gorb ID. */
  readonly removed: string[];
  /** Services the kernel did not have. */
  readonly absent: string[];
  readonly failed: { readonly service: string; readonly error: string }[];
  /** With -vipi: the VIPs gorb added, removed. */
  readonly vips?: VipRepair[];
}

/**
 * Removes every service desired state names from the kernel (--cleanup-on-exit), in one batch;
 * nothing else. Desired state stays in the store, so the next start creates them again. Meant
 * for shutdown, once the API has stopped taking requests.
 */
export async function cleanUp(access: CoreAccess, log: (line: string) => void = (line) => console.log(line)): Promise<CleanupResult> {
  const services = access.services();
  const ops: IpvsOperation[] = services.map((s) => ({ op: "delete-service", key: s.service.key }));
  const result: CleanupResult = { removed: [], absent: [], failed: [] };
  if (ops.length === 0) return result;
  let results;
  try {
    results = await access.ipvs.apply(ops);
  } catch (e) {
    results = ops.map(() => ({ ok: false as const, error: e instanceof IpvsError ? e : new IpvsError(Errno.EIO, undefined, (e as Error).message) }));
  }
  services.forEach((s, i) => {
    const r = results[i];
    if (r?.ok) result.removed.push(s.id);
    else if (r && r.error.errno === Errno.ESRCH) result.absent.push(s.id);
    else result.failed.push({ service: s.id, error: r?.error.message ?? "no result" });
  });
  log(
    `gorb: cleanup: removed ${result.removed.length} service(s) gorb owns from IPVS` +
      (result.absent.length ? `, ${result.absent.length} already absent` : "") +
      (result.failed.length ? `; FAILED: ${result.failed.map((f) => `[${f.service}] ${f.error}`).join(", ")}` : ""),
  );
  return result;
}
