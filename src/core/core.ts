/**
 * @module Core: the commands that change desired state and the reads the API serves.
 *
 * A command runs under its service's lock: validate → persist intent (StateStore) → apply its
 * plan to IPVS in one batch → on any failed operation apply the inverses of the ones that
 * succeeded (last first) and drop the persisted intent → commit the new snapshot → tell the
 * health checker → emit events. Reads use the last committed snapshot and never wait.
 *
 * Start-up (rebuild from the store, adopt the kernel's table), reconcile and clean-up live in
 * startup.ts and reconcile.ts; they reach core's state through `CoreAccess` (access.ts).
 */
import type { Ipvs, OperationResult } from "../ipvs/ipvs.ts";
import { Errno, type IpvsError } from "../ipvs/errors.ts";
import { destinationId, serviceId } from "../ipvs/keys.ts";
import { isFwmarkKey, type DestinationEntry, type IpvsOperation, type Stats } from "../ipvs/types.ts";
import type { CoreAccess } from "./access.ts";
import { ConflictError, NotFoundError, StoreError, ValidationError } from "./errors.ts";
import { EventBus, type CoreEvent } from "./events.ts";
import { systemResolver, type Resolver } from "./fields.ts";
import { createNullHealthChecker, type BackendHealth, type HealthChecker, type HealthCheckerFactory, type HealthUpdate } from "./health.ts";
import { KeyedLock } from "./lock.ts";
import { EMPTY_STATE, healthId, noBackends, withBackend, withService, type BackendInput, type DesiredBackend, type DesiredService, type DesiredState, type ServiceInput } from "./model.ts";
import { backendOptionsToInput, normalizeBackend, type BackendContext } from "./normalize-backend.ts";
import { normalizeService, serviceOptionsToInput, type ServiceContext } from "./normalize-service.ts";
import { destinationKey, rollbackPlan, plan } from "./plan.ts";
import { projectService, type Runtime, type TableEntry } from "./project.ts";
import { MemoryStateStore, type StateStore, type StoreChange } from "./store.ts";
import { AppliedTable } from "./applied.ts";
import type { Destination } from "../ipvs/types.ts";
import { reconcile, type ReconcileOptions, type ReconcileResult } from "./reconcile.ts";
import { cleanUp, startUp, type CleanupResult, type StartOptions, type StartupReport } from "./startup.ts";
import type { VipManager, VipRepair } from "./vips.ts";

/** One command's plan inputs and what to record once the kernel took it. */
interface Step {
  readonly wanted: TableEntry[];
  readonly actual: TableEntry[];
  readonly commit: () => void;
}

export interface CoreOptions {
  readonly ipvs: Ipvs;
  readonly store?: StateStore;
  /** Builds the health checker, given the function its results go to. Default: no checks. */
  readonly health?: HealthCheckerFactory;
  /** The first address of the `-i` interface: the VIP of services created without `host`. */
  readonly defaultHost?: string | undefined;
  readonly resolve?: Resolver;
  /** Scheduler names accepted (default: all of Linux's). */
  readonly schedulers?: readonly string[];
  /** GORB's -vipi: puts each service's VIP on an interface. Default: VIPs are not touched. */
  readonly vips?: VipManager;
}

export interface ServiceView {
  readonly service: DesiredService;
  /** Mean health of the backends that have been checked; 1 when none has. */
  readonly health: number;
  /** The kernel's counters, or null when the kernel could not be read. */
  readonly stats: Stats | null;
}

export interface BackendView {
  readonly service: DesiredService;
  readonly backend: DesiredBackend;
  /** The weight IPVS has now (configured weight after health and policy). */
  readonly weight: number;
  readonly health: BackendHealth;
  readonly kernel: DestinationEntry | null;
}

interface HealthRef {
  readonly service: string;
  readonly backend: string;
  generation: number;
}

/** Commands and reads over desired state; see the module comment for the order of a command. */
export class Core {
  readonly events = new EventBus();
  readonly ipvs: Ipvs;
  private state: DesiredState = EMPTY_STATE;
  /** What gorb last wrote to the kernel: the `actual` a command plans against. */
  private readonly applied = new AppliedTable();
  /** Backend ID by destination address, per service (committed state), for the duplicate check. */
  private readonly addresses = new Map<string, Map<string, string>>();
  /** Effective weight last written, per health ID. */
  private readonly appliedWeights = new Map<string, number>();
  private readonly healthRefs = new Map<string, HealthRef>();
  /**
   * Adopted at start-up: the kernel's weight of a destination that was already there, by health
   * ID, kept (capped at the configured weight) until the health checker's first verdict (up or
   * down) or a PATCH of the backend, so a restart neither revives a down backend nor zeroes a
   * healthy one.
   */
  private readonly adopted = new Map<string, number>();
  /** Last reported health of each checked backend, and their sum and count per service (GET is O(1)). */
  private readonly lastHealth = new Map<string, number>();
  private readonly serviceHealth = new Map<string, { sum: number; count: number }>();
  private readonly lock = new KeyedLock();
  private readonly store: StateStore;
  private readonly health: HealthChecker;
  private readonly serviceCtx: ServiceContext;
  private readonly backendCtx: BackendContext;
  private readonly runtime: Runtime;
  private readonly access: CoreAccess;
  readonly vips: VipManager | undefined;

  constructor(options: CoreOptions) {
    this.ipvs = options.ipvs;
    this.vips = options.vips;
    this.store = options.store ?? new MemoryStateStore();
    this.health = (options.health ?? createNullHealthChecker)((u) => this.onHealthUpdate(u));
    const resolve = options.resolve ?? systemResolver;
    this.serviceCtx = { defaultHost: options.defaultHost, resolve, ...(options.schedulers ? { schedulers: options.schedulers } : {}) };
    this.backendCtx = { resolve, health: this.health };
    this.runtime = { weights: (service) => this.effectiveWeights(service) };
    this.access = this.makeAccess();
  }

  /** The last committed desired state. */
  get snapshot(): DesiredState {
    return this.state;
  }

  // ---- commands -------------------------------------------------------------------------

  /** PUT /service/{id}: creates; 409 when the ID (or the kernel identity) is taken. */
  async createService(id: string, input: ServiceInput): Promise<void> {
    checkId("service", id);
    const normalized = await normalizeService(input, this.serviceCtx);
    await this.lock.runAll([lockKey(id), kernelKey(normalized.service.key)], async () => {
      if (this.state.services.has(id)) throw new ConflictError(`service [${id}] exists`);
      this.checkKernelIdentity(id, normalized.service.key);
      const next: DesiredService = { id, ...normalized, backends: noBackends() };
      await this.acquireVip(next);
      try {
        await this.transact(id, next, [putService(next)], [{ kind: "delete-service", id }]);
      } catch (e) {
        await this.releaseVip(next);
        throw e;
      }
      this.events.emit({ type: "service-created", service: id });
    });
  }

  /**
   * PATCH /service/{id} (the sky-uk fork's): changes scheduler, flags and persistence, merging the
   * given fields over the current ones; creates the service when absent; refuses a change of
   * host, port, protocol or fwmark (400).
   */
  async updateService(id: string, patch: ServiceInput): Promise<"created" | "updated"> {
    checkId("service", id);
    const existing = this.state.services.get(id);
    if (!existing) {
      try {
        await this.createService(id, patch);
        return "created";
      } catch (e) {
        // Lost a race with a concurrent create: update what it made.
        if (!(e instanceof ConflictError) || !this.state.services.has(id)) throw e;
      }
    }
    await this.lock.run(lockKey(id), async () => {
      const current = this.state.services.get(id);
      if (!current) throw new NotFoundError(`service [${id}] was deleted meanwhile`);
      const merged: ServiceInput = { ...serviceOptionsToInput(current.options), ...patch };
      if (patch.persistent === false && patch.timeout === undefined) delete merged.timeout;
      const normalized = await normalizeService(merged, this.serviceCtx);
      if (kernelKey(normalized.service.key) !== kernelKey(current.service.key)) {
        throw new ValidationError("host", `unable to update virtual service [${id}] due to host/port/protocol changing`);
      }
      const next: DesiredService = { ...current, ...normalized };
      await this.transact(id, next, [putService(next)], [putService(current)]);
      this.events.emit({ type: "service-updated", service: id });
    });
    return "updated";
  }

  /** DELETE /service/{id}: the service and all its backends. */
  async deleteService(id: string): Promise<void> {
    await this.lock.run(lockKey(id), async () => {
      const current = this.state.services.get(id);
      if (!current) throw new NotFoundError(`service [${id}]`);
      const undo: StoreChange[] = [putService(current)];
      for (const b of current.backends.values()) undo.push(putBackend(id, b));
      await this.transact(id, undefined, [{ kind: "delete-service", id }], undo);
      await this.releaseVip(current);
      this.addresses.delete(id);
      for (const b of current.backends.values()) this.forgetHealth(id, b.id);
      this.events.emit({ type: "service-deleted", service: id });
    });
  }

  /** PUT /service/{vs}/{rs}: 404 without the service, 409 when the ID or the address is taken in it. */
  async createBackend(serviceId_: string, id: string, input: BackendInput): Promise<void> {
    checkId("backend", id);
    await this.lock.run(lockKey(serviceId_), async () => {
      const service = this.requireService(serviceId_);
      if (service.backends.has(id)) throw new ConflictError(`backend [${id}] exists in service [${serviceId_}]`);
      const normalized = await normalizeBackend(input, service, this.backendCtx, "create");
      const backend: DesiredBackend = { id, healthId: healthId(serviceId_, id), ...normalized };
      this.checkAddress(service, backend);
      const next = withBackend(service, id, backend);
      await this.transact(serviceId_, next, [putBackend(serviceId_, backend)], [{ kind: "delete-backend", serviceId: serviceId_, id }], id);
      this.indexAddress(serviceId_, undefined, backend);
      this.watchHealth(serviceId_, backend);
      this.events.emit({ type: "backend-created", service: serviceId_, backend: id });
    });
  }

  /** PATCH /service/{vs}/{rs}: changes only the given fields (weight 0 drains, as GORB clients expect). */
  async updateBackend(serviceId_: string, id: string, patch: BackendInput): Promise<void> {
    await this.lock.run(lockKey(serviceId_), async () => {
      const service = this.requireService(serviceId_);
      const current = service.backends.get(id);
      if (!current) throw new NotFoundError(`backend [${id}] in service [${serviceId_}]`);
      const merged: BackendInput = { ...backendOptionsToInput(current.options, patch), ...patch };
      const normalized = await normalizeBackend(merged, service, this.backendCtx, "update");
      const backend: DesiredBackend = { id, healthId: current.healthId, ...normalized };
      this.checkAddress(service, backend);
      const next = withBackend(service, id, backend);
      // A PATCH ends the start-up adoption of the kernel's weight: the operator's word applies.
      const adopted = this.adopted.get(backend.healthId);
      this.adopted.delete(backend.healthId);
      try {
        await this.transact(serviceId_, next, [putBackend(serviceId_, backend)], [putBackend(serviceId_, current)], id);
      } catch (e) {
        if (adopted !== undefined) this.adopted.set(backend.healthId, adopted);
        throw e;
      }
      this.indexAddress(serviceId_, current, backend);
      const target = current.destination.address !== backend.destination.address || current.destination.port !== backend.destination.port;
      if (target || patch.pulse !== undefined) {
        this.forgetHealth(serviceId_, id);
        this.watchHealth(serviceId_, backend);
      }
      this.events.emit({ type: "backend-updated", service: serviceId_, backend: id });
    });
  }

  /** Sets the configured weight (GORB's PATCH of a backend, typed). */
  setWeight(serviceId_: string, id: string, weight: number): Promise<void> {
    return this.updateBackend(serviceId_, id, { weight });
  }

  /** DELETE /service/{vs}/{rs}. */
  async deleteBackend(serviceId_: string, id: string): Promise<void> {
    await this.lock.run(lockKey(serviceId_), async () => {
      const service = this.requireService(serviceId_);
      const current = service.backends.get(id);
      if (!current) throw new NotFoundError(`backend [${id}] in service [${serviceId_}]`);
      await this.transact(serviceId_, withBackend(service, id, undefined), [{ kind: "delete-backend", serviceId: serviceId_, id }], [putBackend(serviceId_, current)], id);
      this.indexAddress(serviceId_, current, undefined);
      this.forgetHealth(serviceId_, id);
      this.events.emit({ type: "backend-deleted", service: serviceId_, backend: id });
    });
  }

  // ---- reads ----------------------------------------------------------------------------

  /** Service IDs, sorted (computed once per snapshot). */
  listServices(): string[] {
    const services = this.state.services;
    let ids = sortedIds.get(services);
    if (!ids) sortedIds.set(services, (ids = [...services.keys()].sort()));
    return [...ids];
  }

  async getService(id: string): Promise<ServiceView> {
    const service = this.requireService(id);
    const aggregate = this.serviceHealth.get(id);
    let stats: Stats | null = null;
    try {
      stats = (await this.ipvs.service(service.service.key)).stats;
    } catch {
      stats = null;
    }
    return { service, health: !aggregate || aggregate.count === 0 ? 1 : Math.min(1, Math.max(0, aggregate.sum / aggregate.count)), stats };
  }

  async getBackend(serviceId_: string, id: string): Promise<BackendView> {
    const service = this.requireService(serviceId_);
    const backend = service.backends.get(id);
    if (!backend) throw new NotFoundError(`backend [${id}] in service [${serviceId_}]`);
    const hid = backend.healthId;
    let kernel: DestinationEntry | null = null;
    try {
      const want = destinationKey(backend.destination);
      kernel = (await this.ipvs.destinations(service.service.key)).find((d) => destinationId(d) === want) ?? null;
    } catch {
      kernel = null;
    }
    return {
      service,
      backend,
      weight: this.appliedWeights.get(hid) ?? backend.destination.weight,
      health: this.health.metrics(hid) ?? { status: "unknown", health: null, uptime: 0 },
      kernel,
    };
  }

  /** Stops the health checks (the kernel table is left as it is). */
  async stop(): Promise<void> {
    await this.health.stop();
  }

  // ---- start-up, reconcile, clean-up (startup.ts, reconcile.ts) -------------------------

  /**
   * Rebuilds desired state from the store and adopts the kernel's table: entries that match are
   * kept as they are, what differs is fixed in place, nothing gorb does not own is touched (all
   * of it is flushed first with `flush`, GORB's -f). Call once, before serving.
   */
  async start(options: StartOptions = {}): Promise<StartupReport> {
    const report = await startUp(this.access, this.store, options);
    if (!this.vips) return report;
    const users = new Map<string, string>();
    for (const s of this.state.services.values()) {
      const vip = vipOf(s);
      if (vip) users.set(s.id, vip);
    }
    return { ...report, vips: await this.vips.restore(users) };
  }

  /** Compares the kernel's table (and the VIPs) with desired state and repairs the difference (or only reports it). */
  async reconcile(options: ReconcileOptions = {}): Promise<ReconcileResult> {
    const result = await reconcile(this.access, options);
    if (!this.vips) return result;
    return withVipRepairs(result, await this.vips.reconcile({ dryRun: options.dryRun === true, trigger: options.trigger ?? "api" }));
  }

  /** Removes gorb's services from the kernel, and the VIPs it added (--cleanup-on-exit); desired state stays stored. */
  async cleanup(): Promise<CleanupResult> {
    const result = await cleanUp(this.access);
    return this.vips ? { ...result, vips: await this.vips.cleanup() } : result;
  }

  private makeAccess(): CoreAccess {
    return {
      ipvs: this.ipvs,
      serviceCtx: this.serviceCtx,
      backendCtx: this.backendCtx,
      services: () => [...this.state.services.values()],
      service: (id) => this.state.services.get(id),
      withLock: (id, fn) => this.lock.run(lockKey(id), fn),
      wanted: (service) => projectService(service, this.runtime),
      markApplied: (service, entry) => this.markApplied(service, entry),
      install: (services, adopted) => this.install(services, adopted),
      emit: (event) => this.events.emit(event),
    };
  }

  /** Start-up only: takes restored services as the committed state and starts their checks. */
  private install(services: readonly DesiredService[], adopted: ReadonlyMap<string, number>): void {
    if (this.state.services.size > 0) throw new Error("core: install() on a core that already has services");
    let state = this.state;
    for (const service of services) {
      this.checkKernelIdentity(service.id, service.service.key);
      state = withService(state, service.id, service);
      this.state = state;
    }
    // A checker that never reports (no checks) gives no verdict to wait for: configured weights apply.
    if (!this.health.passive) for (const [hid, weight] of adopted) this.adopted.set(hid, weight);
    for (const service of services) {
      for (const backend of service.backends.values()) {
        this.indexAddress(service.id, undefined, backend);
        this.watchHealth(service.id, backend);
      }
    }
  }

  /** Records what the kernel holds for `service` now (after a reconcile): `entry` matched by destination. */
  private markApplied(service: DesiredService, entry: TableEntry | undefined): void {
    if (!entry) return this.applied.deleteService(service.id);
    const byKey = new Map(entry.destinations.map((d) => [destinationKey(d), d]));
    this.applied.setMatched(service, entry.service, byKey);
    for (const b of service.backends.values()) {
      const d = byKey.get(destinationKey(b.destination));
      if (d) this.recordWeight(service.id, b, d.weight);
    }
  }

  // ---- the transaction ------------------------------------------------------------------

  /**
   * Persists `changes`, applies the plan from what gorb last wrote for this service to `next`,
   * and commits; on a refused operation undoes the kernel and the store and rethrows the
   * kernel's error. Callers hold the service's lock. With `backend`, only that backend changed:
   * the plan covers it alone when the service's weights are independent of each other.
   */
  private async transact(id: string, next: DesiredService | undefined, changes: StoreChange[], undo: StoreChange[], backend?: string): Promise<void> {
    const step = backend !== undefined && next && this.applied.has(id) && this.independent(next) ? this.backendStep(next, backend) : this.serviceStep(id, next);
    const ops = plan(step.wanted, step.actual);
    try {
      await this.store.write(changes);
    } catch (e) {
      throw new StoreError(e);
    }
    const failure = await this.applyWithRollback(id, ops, step.actual);
    if (failure) {
      await this.store.write(undo).catch((e) => console.error(`gorb: could not drop the intent for [${id}] from the store:`, e));
      throw failure;
    }
    this.state = withService(this.state, id, next);
    step.commit();
  }

  /** The whole service: project it and plan against all of what was applied. */
  private serviceStep(id: string, next: DesiredService | undefined): Step {
    const current = this.applied.entry(id);
    const entry = next ? projectService(next, this.runtime) : undefined;
    return {
      wanted: entry ? [entry] : [],
      actual: current ? [current] : [],
      commit: () => {
        if (!next || !entry) return this.applied.deleteService(id);
        this.applied.setService(next, entry);
        this.recordWeights(next, entry);
      },
    };
  }

  /** One backend of an applied service (O(1) in the number of backends). */
  private backendStep(next: DesiredService, backendId: string): Step {
    const service = this.applied.service(next.id)!;
    const old = this.applied.destination(next.id, backendId);
    const backend = next.backends.get(backendId);
    const wanted = backend ? this.wantedDestination(backend) : undefined;
    return {
      wanted: [{ service: next.service, destinations: wanted ? [wanted] : [] }],
      actual: [{ service, destinations: old ? [old] : [] }],
      commit: () => {
        this.applied.setDestination(next.id, backendId, wanted);
        if (backend && wanted) this.recordWeight(next.id, backend, wanted.weight);
      },
    };
  }

  /**
   * True when one backend's weight never depends on the others': the all-down policy "zero"
   * (GORB's) leaves effective weights as they are.
   */
  private independent(service: DesiredService): boolean {
    return !this.health.applyAllDown || service.options.all_down === "zero";
  }

  private wantedDestination(backend: DesiredBackend): Destination {
    const configured = backend.destination.weight;
    const weight =
      this.adopted.get(backend.healthId) ?? (this.healthRefs.has(backend.healthId) ? this.health.effectiveWeight(backend.healthId, configured) : configured);
    return weight === configured ? backend.destination : { ...backend.destination, weight };
  }

  /** Applies `ops`; when one fails, undoes the successful ones and returns the first error. */
  private async applyWithRollback(id: string, ops: IpvsOperation[], actual: TableEntry[]): Promise<IpvsError | Error | undefined> {
    if (ops.length === 0) return undefined;
    let results: OperationResult[];
    try {
      results = await this.ipvs.apply(ops);
    } catch (e) {
      // The batch as a whole failed (socket error): what ran is unknown; reconcile will repair.
      this.events.emit({ type: "rollback-failed", service: id, error: (e as Error).message });
      return e as Error;
    }
    // Deleting what the kernel no longer has (drift: `ipvsadm -C`) reaches the intent: not a failure.
    results = results.map((r, i) => (r.ok || !alreadyGone(ops[i]!, r.error) ? r : { ok: true }));
    const failed = results.find((r) => !r.ok);
    if (!failed || failed.ok) return undefined;
    const undo = rollbackPlan(ops, results, actual);
    if (undo.length > 0) {
      try {
        const undone = await this.ipvs.apply(undo);
        const bad = undone.find((r) => !r.ok);
        if (bad && !bad.ok) this.reportRollbackFailure(id, bad.error.message);
      } catch (e) {
        this.reportRollbackFailure(id, (e as Error).message);
      }
    }
    return failed.error;
  }

  private reportRollbackFailure(id: string, message: string): void {
    console.error(`gorb: rollback of service [${id}] failed (${message}); the kernel may differ from the desired state until the next reconcile`);
    this.events.emit({ type: "rollback-failed", service: id, error: message });
  }

  // ---- VIPs (-vipi) ----------------------------------------------------------------------

  /** Puts the service's VIP on the -vipi interface (throws VipError); nothing without -vipi or for fwmark. */
  private async acquireVip(service: DesiredService): Promise<void> {
    const vip = vipOf(service);
    if (this.vips && vip) await this.vips.acquire(service.id, vip);
  }

  /** The service no longer uses its VIP (never throws). */
  private async releaseVip(service: DesiredService): Promise<void> {
    const vip = vipOf(service);
    if (this.vips && vip) await this.vips.release(service.id, vip);
  }

  // ---- health ---------------------------------------------------------------------------

  private effectiveWeights(service: DesiredService): Map<string, number> {
    const weigh = this.health.weigher?.() ?? ((hid: string, configured: number) => this.health.effectiveWeight(hid, configured));
    const weights = new Map<string, number>();
    let weighted = false;
    let serving = false;
    for (const b of service.backends.values()) {
      const configured = b.destination.weight;
      const effective = this.healthRefs.has(b.healthId) ? weigh(b.healthId, configured) : configured;
      weights.set(b.id, effective);
      if (configured > 0) {
        weighted = true;
        if (effective > 0) serving = true;
      }
    }
    // The all-down policy only matters when no backend would get traffic.
    if (weighted && !serving && this.health.applyAllDown) {
      const list = [...service.backends.values()].map((b) => ({ healthId: b.healthId, configured: b.destination.weight, effective: weights.get(b.id)! }));
      const final = this.health.applyAllDown(service.options.all_down, list);
      let i = 0;
      for (const id of weights.keys()) weights.set(id, final[i++] ?? weights.get(id)!);
    }
    if (this.adopted.size > 0) {
      for (const b of service.backends.values()) {
        const kept = this.adopted.get(b.healthId);
        if (kept !== undefined) weights.set(b.id, kept);
      }
    }
    return weights;
  }

  private recordWeights(service: DesiredService, entry: TableEntry): void {
    let i = 0;
    for (const b of service.backends.values()) this.recordWeight(service.id, b, entry.destinations[i++]?.weight ?? b.destination.weight);
  }

  private recordWeight(service: string, backend: DesiredBackend, weight: number): void {
    const before = this.appliedWeights.get(backend.healthId);
    if (before === weight) return;
    this.appliedWeights.set(backend.healthId, weight);
    if (before !== undefined) this.events.emit({ type: "backend-weight", service, backend: backend.id, weight });
  }

  /** Keeps the address index in step with a committed backend change. */
  private indexAddress(service: string, before: DesiredBackend | undefined, after: DesiredBackend | undefined): void {
    let index = this.addresses.get(service);
    if (!index) this.addresses.set(service, (index = new Map()));
    if (before) index.delete(destinationKey(before.destination));
    if (after) index.set(destinationKey(after.destination), after.id);
  }

  private watchHealth(service: string, backend: DesiredBackend): void {
    const generation = this.health.add(backend.healthId, { host: backend.destination.address, port: backend.destination.port }, backend.pulse);
    this.healthRefs.set(backend.healthId, { service, backend: backend.id, generation });
  }

  private forgetHealth(service: string, backend: string): void {
    const hid = healthId(service, backend);
    this.health.remove(hid);
    this.healthRefs.delete(hid);
    this.appliedWeights.delete(hid);
    this.adopted.delete(hid);
    this.setHealth(service, hid, undefined);
  }

  /** Keeps the per-service health sum in step with one backend's last reported health. */
  private setHealth(service: string, hid: string, health: number | undefined): void {
    const before = this.lastHealth.get(hid);
    if (before === health) return;
    let aggregate = this.serviceHealth.get(service);
    if (!aggregate) this.serviceHealth.set(service, (aggregate = { sum: 0, count: 0 }));
    if (before !== undefined) {
      aggregate.sum -= before;
      aggregate.count--;
    }
    if (health === undefined) this.lastHealth.delete(hid);
    else {
      this.lastHealth.set(hid, health);
      aggregate.sum += health;
      aggregate.count++;
    }
    if (aggregate.count === 0) this.serviceHealth.delete(service);
  }

  /** A result from the checker: one update of the service's destinations when a weight changes. */
  private onHealthUpdate(update: HealthUpdate): void {
    const ref = this.healthRefs.get(update.id);
    if (!ref || ref.generation !== update.generation) return; // a late result for a removed or re-created backend
    this.setHealth(ref.service, update.id, update.status === "unknown" || update.health === null ? undefined : update.health);
    // The first verdict ends the adoption of the kernel's weight: the checker decides from now on.
    const adoptionEnded = update.status !== "unknown" && this.adopted.delete(update.id);
    if (update.changed) {
      this.events.emit({ type: "backend-status", service: ref.service, backend: ref.backend, status: update.status, health: update.health });
    }
    if (update.weightMayChange === false && !adoptionEnded) return;
    const service = this.state.services.get(ref.service);
    const backend = service?.backends.get(ref.backend);
    if (!service || !backend) return;
    const weight = this.health.effectiveWeight(update.id, backend.destination.weight);
    if (!update.changed && !adoptionEnded && weight === this.appliedWeights.get(update.id)) return;
    void this.lock
      .run(lockKey(ref.service), () => this.reweigh(ref.service, update.id, update.generation))
      .catch((e) => console.error(`gorb: could not apply the health of [${ref.service}/${ref.backend}]:`, e));
  }

  private async reweigh(id: string, hid: string, generation: number): Promise<void> {
    const ref = this.healthRefs.get(hid);
    if (ref?.generation !== generation) return;
    const service = this.state.services.get(id);
    if (!service || !this.applied.has(id) || !service.backends.has(ref.backend)) return;
    const step = this.independent(service) ? this.backendStep(service, ref.backend) : this.serviceStep(id, service);
    const ops = plan(step.wanted, step.actual);
    if (ops.length === 0) return;
    const failure = await this.applyWithRollback(id, ops, step.actual);
    if (failure) throw failure;
    step.commit();
  }

  // ---- checks ---------------------------------------------------------------------------

  private requireService(id: string): DesiredService {
    const service = this.state.services.get(id);
    if (!service) throw new NotFoundError(`service [${id}]`);
    return service;
  }

  private checkKernelIdentity(id: string, key: DesiredService["service"]["key"]): void {
    const want = kernelKey(key);
    for (const other of this.state.services.values()) {
      if (other.id !== id && kernelKey(other.service.key) === want) {
        throw new ConflictError(`service [${other.id}] already is ${serviceId(key)}`);
      }
    }
  }

  private checkAddress(service: DesiredService, backend: DesiredBackend): void {
    const key = destinationKey(backend.destination);
    const owner = this.addresses.get(service.id)?.get(key);
    if (owner !== undefined && owner !== backend.id) {
      throw new ConflictError(`backend [${owner}] of service [${service.id}] already is ${key}`);
    }
  }
}

const sortedIds = new WeakMap<object, string[]>();

/** IDs are one path segment in GORB's routes, so they cannot hold "/". */
function checkId(what: "service" | "backend", id: string): void {
  if (id === "" || id.includes("/")) throw new ValidationError(what === "service" ? "vsID" : "rsID", `a ${what} ID must be non-empty and cannot contain "/" (got ${JSON.stringify(id)})`);
}

function lockKey(id: string): string {
  return `service:${id}`;
}

function kernelKey(key: DesiredService["service"]["key"]): string {
  return `kernel:${serviceId(key)}`;
}

function alreadyGone(op: IpvsOperation, error: IpvsError): boolean {
  if (op.op === "delete-service") return error.errno === Errno.ESRCH;
  if (op.op === "delete-destination") return error.errno === Errno.ENOENT || error.errno === Errno.ESRCH;
  return false;
}

/** The address a service puts on the -vipi interface; none for a fwmark service. */
function vipOf(s: DesiredService): string | undefined {
  return isFwmarkKey(s.service.key) ? undefined : s.service.key.address;
}

/** A reconcile's result with the VIP repairs added (and counted). */
function withVipRepairs(result: ReconcileResult, vips: VipRepair[]): ReconcileResult {
  if (vips.length === 0) return { ...result, vips };
  const repaired = vips.filter((v) => v.ok === true).length;
  const failed = vips.filter((v) => v.ok === false).length;
  return { ...result, vips, repaired: result.repaired + repaired, failed: result.failed + failed };
}

/** A service's store record: its options and the VIP its host resolved to. */
function putService(s: DesiredService): StoreChange {
  return isFwmarkKey(s.service.key) ? { kind: "put-service", id: s.id, options: s.options } : { kind: "put-service", id: s.id, options: s.options, address: s.service.key.address };
}

function putBackend(serviceId_: string, b: DesiredBackend): StoreChange {
  return { kind: "put-backend", serviceId: serviceId_, id: b.id, options: b.options, address: b.destination.address };
}

export { healthId };

export type { CoreEvent };
