/**
 * @module Reconcile: compare the kernel's IPVS table with desired state and repair the drift
 * (`ipvsadm -C`, a deleted destination, a changed weight or scheduler) — or only report it (dry
 * run). Level-triggered: the same `project` + `plan` as the commands, against a kernel dump.
 *
 * - One dump of the whole table; services whose plan is empty cost nothing more.
 * - A drifted service is repaired under its lock, against a fresh read of that service from the
 *   kernel, so a command or health update in flight on it finishes first and is never undone.
 * - Only services that desired state names are touched (all their destinations are gorb's);
 *   kernel services with no desired counterpart are listed as `foreign` and left alone.
 * - Every operation is one log line and one entry of the result (op, service, backend,
 *   destination, reason, outcome); a failed one is retried by the next run.
 */
import type { OperationResult } from "../ipvs/ipvs.ts";
import { IpvsError, Errno } from "../ipvs/errors.ts";
import { destinationId, serviceId } from "../ipvs/keys.ts";
import type { Destination, IpvsOperation, Service, ServiceKey } from "../ipvs/types.ts";
import type { CoreAccess } from "./access.ts";
import type { DesiredService } from "./model.ts";
import { destinationKey, plan } from "./plan.ts";
import type { TableEntry } from "./project.ts";
import type { VipRepair } from "./vips.ts";

export type ReconcileTrigger = "start-up" | "periodic" | "api";

export interface ReconcileOptions {
  /** Report the difference only; change nothing. */
  readonly dryRun?: boolean;
  /** What started this run (for the log lines). Default "api". */
  readonly trigger?: ReconcileTrigger;
  /**
   * A dump already taken, trusted as current (start-up: nothing else writes yet). Without it the
   * kernel is dumped, and each drifted service is read again under its lock before it is repaired.
   */
  readonly table?: readonly TableEntry[];
  /** Also record services that match (start-up: core has recorded nothing yet). */
  readonly adoptAll?: boolean;
  /** Where the one-line-per-operation log goes (default console.log); dry runs log nothing. */
  readonly log?: (line: string) => void;
  /** Services repaired at once (default 8). */
  readonly concurrency?: number;
}

/** One operation of a repair, as logged and as the API answers it. */
export interface RepairOperation {
  readonly op: IpvsOperation["op"];
  /** gorb's service ID. */
  readonly service: string;
  /** The kernel's identity of the service ("tcp:192.0.2.1:80", "fwmark:inet:5"). */
  readonly key: string;
  /** gorb's backend ID, for destination operations on a backend gorb knows. */
  readonly backend?: string;
  /** "198.51.100.1:8080", for destination operations. */
  readonly destination?: string;
  /** What differed: "destination missing from the kernel", "weight 5, want 100". */
  readonly reason: string;
  /** Whether the kernel took it; absent in a dry run. */
  readonly ok?: boolean;
  readonly error?: string;
}

export interface ReconcileResult {
  readonly dryRun: boolean;
  readonly trigger: ReconcileTrigger;
  /** When the run started (ISO 8601). */
  readonly at: string;
  readonly durationMs: number;
  /** Desired services compared. */
  readonly services: number;
  /** The repairs (or, in a dry run, the repairs it would make), in the order applied. */
  readonly operations: RepairOperation[];
  /** Operations the kernel took (0 in a dry run). */
  readonly repaired: number;
  readonly failed: number;
  /** Kernel services gorb does not own, left alone. */
  readonly foreign: string[];
  /** VIP repairs (with -vipi; absent without), counted in `repaired` and `failed`. */
  readonly vips?: VipRepair[];
}

const DEFAULT_CONCURRENCY = 8;

export async function reconcile(access: CoreAccess, options: ReconcileOptions = {}): Promise<ReconcileResult> {
  const started = performance.now();
  const at = new Date().toISOString();
  const dryRun = options.dryRun === true;
  const trigger = options.trigger ?? "api";
  const log = options.log ?? ((line: string) => console.log(line));
  const table = options.table ?? (await access.ipvs.table());
  const kernel = new Map(table.map((e) => [serviceId(e.service.key), e]));
  const services = access.services();
  const owned = new Set<string>();
  const drifted: DesiredService[] = [];
  const planned: RepairOperation[] = [];
  for (const service of services) {
    const key = serviceId(service.service.key);
    owned.add(key);
    const actual = kernel.get(key);
    const wanted = access.wanted(service);
    const ops = plan([wanted], actual ? [actual] : []);
    if (ops.length > 0) {
      drifted.push(service);
      if (dryRun) planned.push(...describeAll(ops, service, actual, wanted));
    } else if (options.adoptAll && !dryRun) {
      await access.withLock(service.id, async () => {
        const current = access.service(service.id);
        if (current === service) access.markApplied(current, actual);
      });
    }
  }
  const foreign = [...kernel.keys()].filter((k) => !owned.has(k)).sort();
  if (dryRun) return finish({ dryRun, trigger, at, started, services: services.length, operations: planned, foreign });

  const operations: RepairOperation[] = [];
  const fresh = options.table === undefined;
  await pool(drifted, options.concurrency ?? DEFAULT_CONCURRENCY, (service) =>
    access.withLock(service.id, async () => {
      const current = access.service(service.id);
      if (!current) return; // deleted meanwhile: the delete took it out of the kernel
      const actual = fresh ? await readService(access, current.service.key) : kernel.get(serviceId(current.service.key));
      const wanted = access.wanted(current);
      const ops = plan([wanted], actual ? [actual] : []);
      if (ops.length === 0) return access.markApplied(current, actual); // a command repaired it meanwhile
      const described = describeAll(ops, current, actual, wanted);
      const results = await applyAll(access, ops);
      let allOk = true;
      described.forEach((d, i) => {
        const r = results[i]!;
        const done: RepairOperation = r.ok ? { ...d, ok: true } : { ...d, ok: false, error: r.error.message };
        if (!r.ok) allOk = false;
        operations.push(done);
        log(logLine(trigger, done));
        access.emit({ type: "repaired", service: current.id, operation: done });
      });
      if (allOk) access.markApplied(current, wanted);
      else access.markApplied(current, await readService(access, current.service.key).catch(() => undefined));
    }),
  );
  return finish({ dryRun, trigger, at, started, services: services.length, operations, foreign });
}

function finish(r: { dryRun: boolean; trigger: ReconcileTrigger; at: string; started: number; services: number; operations: RepairOperation[]; foreign: string[] }): ReconcileResult {
  const repaired = r.operations.filter((o) => o.ok === true).length;
  const failed = r.operations.filter((o) => o.ok === false).length;
  return {
    dryRun: r.dryRun,
    trigger: r.trigger,
    at: r.at,
    durationMs: Math.round((performance.now() - r.started) * 1000) / 1000,
    services: r.services,
    operations: r.operations,
    repaired,
    failed,
    foreign: r.foreign,
  };
}

/** One service as the kernel has it now, or undefined when it has none. */
export async function readService(access: Pick<CoreAccess, "ipvs">, key: ServiceKey): Promise<TableEntry | undefined> {
  try {
    const service = await access.ipvs.service(key);
    const destinations = await access.ipvs.destinations(key);
    return { service, destinations };
  } catch (e) {
    if (e instanceof IpvsError && e.errno === Errno.ESRCH) return undefined;
    throw e;
  }
}

async function applyAll(access: CoreAccess, ops: IpvsOperation[]): Promise<OperationResult[]> {
  try {
    return await access.ipvs.apply(ops);
  } catch (e) {
    const error = e instanceof IpvsError ? e : new IpvsError(Errno.EIO, undefined, (e as Error).message);
    return ops.map(() => ({ ok: false, error }));
  }
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export function logLine(trigger: ReconcileTrigger, o: RepairOperation): string {
  const where = [`service [${o.service}] (${o.key})`, o.backend !== undefined ? `backend [${o.backend}]` : "", o.destination ?? ""].filter(Boolean).join(" ");
  const outcome = o.ok === undefined ? "would repair" : o.ok ? "repaired" : `FAILED: ${o.error}`;
  return `gorb: reconcile (${trigger}): ${o.op} ${where}: ${o.reason}: ${outcome}`;
}

// ---- reasons ------------------------------------------------------------------------------

function describeAll(ops: readonly IpvsOperation[], service: DesiredService, actual: TableEntry | undefined, wanted: TableEntry): RepairOperation[] {
  const backendOf = new Map<string, string>();
  for (const b of service.backends.values()) backendOf.set(destinationKey(b.destination), b.id);
  const have = new Map((actual?.destinations ?? []).map((d) => [destinationKey(d), d]));
  const want = new Map(wanted.destinations.map((d) => [destinationKey(d), d]));
  const key = serviceId(service.service.key);
  return ops.map((op): RepairOperation => {
    const base = { op: op.op, service: service.id, key };
    if (op.op === "add-service") return { ...base, reason: "service missing from the kernel" };
    if (op.op === "update-service") return { ...base, reason: actual ? serviceReason(actual.service, op.service) : "service settings differ" };
    if (op.op === "add-destination" || op.op === "update-destination" || op.op === "delete-destination") {
      const id = destinationKey(op.destination);
      const backend = backendOf.get(id);
      const where = { ...base, ...(backend === undefined ? {} : { backend }), destination: destinationId(op.destination) };
      if (op.op === "add-destination") return { ...where, reason: actual ? "destination missing from the kernel" : "service missing from the kernel" };
      if (op.op === "delete-destination") return { ...where, reason: "destination not in the desired state" };
      const old = have.get(id);
      const next = want.get(id);
      return { ...where, reason: old && next ? destinationReason(old, next) : "destination settings differ" };
    }
    return { ...base, reason: "not a reconcile operation" };
  });
}

function serviceReason(have: Service, want: Service): string {
  const parts: string[] = [];
  if (have.scheduler !== want.scheduler) parts.push(`scheduler ${have.scheduler}, want ${want.scheduler}`);
  if (have.timeout !== want.timeout) parts.push(`persistence timeout ${have.timeout}, want ${want.timeout}`);
  if (have.netmask !== want.netmask) parts.push(`netmask /${have.netmask}, want /${want.netmask}`);
  if (have.persistenceEngine !== want.persistenceEngine) parts.push(`persistence engine "${have.persistenceEngine}", want "${want.persistenceEngine}"`);
  const flags = (s: Service) => [...s.flags].sort().join("|") || "none";
  if (flags(have) !== flags(want)) parts.push(`flags ${flags(have)}, want ${flags(want)}`);
  return parts.join("; ") || "service settings differ";
}

function destinationReason(have: Destination, want: Destination): string {
  const parts: string[] = [];
  if (have.weight !== want.weight) parts.push(`weight ${have.weight}, want ${want.weight}`);
  if (have.forward !== want.forward) parts.push(`forwarding ${have.forward}, want ${want.forward}`);
  if (have.upperThreshold !== want.upperThreshold) parts.push(`upper threshold ${have.upperThreshold}, want ${want.upperThreshold}`);
  if (have.lowerThreshold !== want.lowerThreshold) parts.push(`lower threshold ${have.lowerThreshold}, want ${want.lowerThreshold}`);
  if (parts.length === 0 && want.forward === "tunnel") parts.push("tunnel settings differ");
  return parts.join("; ") || "destination settings differ";
}
