/** Shared rigs for the start-up and reconcile tests: a core on MemoryIpvs with a health checker driven by hand. */
import { Core, type CoreOptions } from "../../../src/core/core.ts";
import type { BackendHealth, HealthChecker, HealthStatus, HealthUpdate } from "../../../src/core/health.ts";
import type { StateStore } from "../../../src/core/store.ts";
import { MemoryStateStore } from "../../../src/core/store.ts";
import { MemoryIpvs } from "../../../src/ipvs/memory-ipvs.ts";
import type { IpvsOperation } from "../../../src/ipvs/types.ts";

/** A checker whose verdicts the test sets: unknown until `push`. */
export class HandHealth implements HealthChecker {
  onUpdate!: (u: HealthUpdate) => void;
  readonly generations = new Map<string, number>();
  readonly statuses = new Map<string, HealthStatus>();
  readonly weights = new Map<string, number>();
  private generation = 0;
  normalize(input: unknown) {
    const p = (input ?? {}) as Record<string, unknown>;
    return { spec: p, echo: { type: String(p.type ?? "tcp"), interval: String(p.interval ?? "1m"), args: p.args ?? null } };
  }
  add(id: string) {
    this.generations.set(id, ++this.generation);
    return this.generation;
  }
  remove(id: string) {
    this.generations.delete(id);
  }
  metrics(id: string): BackendHealth {
    const status = this.statuses.get(id) ?? "unknown";
    return { status, health: status === "up" ? 1 : status === "down" ? 0 : null, uptime: 0 };
  }
  effectiveWeight(id: string, configured: number) {
    const status = this.statuses.get(id) ?? "unknown";
    return status === "down" ? 0 : (this.weights.get(id) ?? configured);
  }
  async stop() {}
  /** A verdict for backend `id` ("<service>/<backend>"). */
  push(id: string, status: HealthStatus) {
    const changed = this.statuses.get(id) !== status;
    this.statuses.set(id, status);
    this.onUpdate({ id, generation: this.generations.get(id) ?? 0, status, health: status === "up" ? 1 : status === "down" ? 0 : null, changed });
  }
}

export const noDns = async (host: string): Promise<string> => {
  throw new Error(`no DNS in tests (${host})`);
};

export interface Rig {
  core: Core;
  ipvs: MemoryIpvs;
  store: StateStore;
  health: HandHealth;
  /** Every operation applied to the kernel since the rig was made (by anyone). */
  ops: IpvsOperation[];
}

/**
 * A core over `ipvs` and `store` (fresh ones by default). `checks: false` gives core no checker
 * (configured weights only); otherwise a HandHealth.
 */
export function rig(options: { ipvs?: MemoryIpvs; store?: StateStore; checks?: boolean; core?: Partial<CoreOptions> } = {}): Rig {
  const ipvs = options.ipvs ?? new MemoryIpvs();
  const store = options.store ?? new MemoryStateStore();
  const health = new HandHealth();
  const ops: IpvsOperation[] = [];
  spyApply(ipvs, ops);
  const core = new Core({
    ipvs,
    store,
    defaultHost: "192.0.2.1",
    resolve: noDns,
    ...(options.checks === false ? {} : { health: (onUpdate: (u: HealthUpdate) => void) => ((health.onUpdate = onUpdate), health) }),
    ...options.core,
  });
  return { core, ipvs, store, health, ops };
}

const spied = new WeakMap<MemoryIpvs, IpvsOperation[][]>();

/** Records what `ipvs.apply` is given into `into` (several rigs on one ipvs each get everything). */
function spyApply(ipvs: MemoryIpvs, into: IpvsOperation[]): void {
  let sinks = spied.get(ipvs);
  if (!sinks) {
    sinks = [];
    spied.set(ipvs, sinks);
    const list = sinks;
    const original = ipvs.apply.bind(ipvs);
    ipvs.apply = async (operations) => {
      for (const sink of list) sink.push(...operations);
      return original(operations);
    };
  }
  sinks.push(into);
}

/** `ipvsadm -Sn`, roughly: one sorted line per service and destination. */
export async function save(ipvs: MemoryIpvs): Promise<string[]> {
  const lines: string[] = [];
  for (const { service, destinations } of await ipvs.table()) {
    const key = "fwmark" in service.key ? `f ${service.key.fwmark}` : `${service.key.protocol} ${service.key.address}:${service.key.port}`;
    lines.push(`-A ${key} ${service.scheduler} t${service.timeout} m${service.netmask} [${[...service.flags].sort().join(",")}]`);
    for (const d of destinations) lines.push(`-a ${key} -r ${d.address}:${d.port} ${d.forward} w${d.weight} u${d.upperThreshold} l${d.lowerThreshold}`);
  }
  return lines.sort();
}

/** Lets queued health updates and their locked reweighs run. */
export const settle = () => Bun.sleep(2);
