/**
 * @module plan(wanted, actual) → the ordered IPVS operations that turn `actual` into `wanted`, and
 * invert(op, actual) → the operations that undo one of them. Both pure; rollback is "apply the
 * inverses of the operations that succeeded, last first".
 */
import type { OperationResult } from "../ipvs/ipvs.ts";
import { destinationId, destinationKeyOf, serviceId, serviceKeyOf } from "../ipvs/keys.ts";
import type { Destination, IpvsOperation, Service, ServiceKey } from "../ipvs/types.ts";
import type { TableEntry } from "./project.ts";

/** destinationId, memoized per object: destinations are immutable and shared between snapshots. */
const destinationIds = new WeakMap<object, string>();
export function destinationKey(d: { readonly address: string; readonly port: number; readonly family: Destination["family"] }): string {
  let id = destinationIds.get(d);
  if (id === undefined) {
    id = destinationId(d);
    destinationIds.set(d, id);
  }
  return id;
}

export interface PlanOptions {
  /** Delete services in `actual` that `wanted` does not name (default true). Reconcile passes false to leave foreign services alone. */
  readonly deleteUnwanted?: boolean;
}

/**
 * Order: unwanted services go first; then for each wanted service its add or update, then its
 * destination deletions, updates and additions (deletions first, so an address that moves between
 * backends is free before it is added again).
 */
export function plan(wanted: readonly TableEntry[], actual: readonly TableEntry[], options: PlanOptions = {}): IpvsOperation[] {
  const ops: IpvsOperation[] = [];
  const actualById = new Map(actual.map((e) => [serviceId(e.service.key), e]));
  const wantedIds = new Set(wanted.map((e) => serviceId(e.service.key)));
  if (options.deleteUnwanted ?? true) {
    for (const [id, entry] of actualById) if (!wantedIds.has(id)) ops.push({ op: "delete-service", key: serviceKeyOf(entry.service.key) });
  }
  for (const entry of wanted) {
    const key = serviceKeyOf(entry.service.key);
    const current = actualById.get(serviceId(key));
    if (!current) {
      ops.push({ op: "add-service", service: cleanService(entry.service) });
      for (const d of entry.destinations) ops.push({ op: "add-destination", service: key, destination: cleanDestination(d) });
      continue;
    }
    if (serviceDiffers(entry.service, current.service)) ops.push({ op: "update-service", service: cleanService(entry.service) });
    const have = new Map(current.destinations.map((d) => [destinationKey(d), d]));
    const want = new Map(entry.destinations.map((d) => [destinationKey(d), d]));
    for (const [id, d] of have) if (!want.has(id)) ops.push({ op: "delete-destination", service: key, destination: destinationKeyOf(d) });
    const adds: IpvsOperation[] = [];
    for (const [id, d] of want) {
      const old = have.get(id);
      if (!old) adds.push({ op: "add-destination", service: key, destination: cleanDestination(d) });
      else if (destinationDiffers(d, old)) ops.push({ op: "update-destination", service: key, destination: cleanDestination(d) });
    }
    ops.push(...adds);
  }
  return ops;
}

/** The operations that undo `op`, given the table as it was before it ran. */
export function invert(op: IpvsOperation, actual: readonly TableEntry[]): IpvsOperation[] {
  const find = (key: ServiceKey) => actual.find((e) => serviceId(e.service.key) === serviceId(key));
  const findDest = (key: ServiceKey, d: Destination | { address: string; port: number; family: Destination["family"] }) =>
    find(key)?.destinations.find((x) => destinationKey(x) === destinationKey(d));
  switch (op.op) {
    case "add-service":
      return [{ op: "delete-service", key: serviceKeyOf(op.service.key) }];
    case "update-service": {
      const old = find(op.service.key);
      return old ? [{ op: "update-service", service: cleanService(old.service) }] : [];
    }
    case "delete-service": {
      const old = find(op.key);
      if (!old) return [];
      const key = serviceKeyOf(old.service.key);
      return [
        { op: "add-service", service: cleanService(old.service) },
        ...old.destinations.map((d): IpvsOperation => ({ op: "add-destination", service: key, destination: cleanDestination(d) })),
      ];
    }
    case "add-destination":
      return [{ op: "delete-destination", service: op.service, destination: destinationKeyOf(op.destination) }];
    case "update-destination": {
      const old = findDest(op.service, op.destination);
      return old ? [{ op: "update-destination", service: op.service, destination: cleanDestination(old) }] : [];
    }
    case "delete-destination": {
      const old = findDest(op.service, op.destination);
      return old ? [{ op: "add-destination", service: op.service, destination: cleanDestination(old) }] : [];
    }
    default:
      return [];
  }
}

/** The undo batch for a partly failed apply: inverses of the operations that succeeded, last first. */
export function rollbackPlan(ops: readonly IpvsOperation[], results: readonly OperationResult[], actual: readonly TableEntry[]): IpvsOperation[] {
  const undo: IpvsOperation[] = [];
  for (let i = ops.length - 1; i >= 0; i--) if (results[i]?.ok) undo.push(...invert(ops[i]!, actual));
  return undo;
}

export function serviceDiffers(a: Service, b: Service): boolean {
  return (
    a.scheduler !== b.scheduler ||
    a.timeout !== b.timeout ||
    a.netmask !== b.netmask ||
    a.persistenceEngine !== b.persistenceEngine ||
    a.flags.length !== b.flags.length ||
    a.flags.some((f) => !b.flags.includes(f))
  );
}

export function destinationDiffers(a: Destination, b: Destination): boolean {
  if (a.forward !== b.forward || a.weight !== b.weight || a.upperThreshold !== b.upperThreshold || a.lowerThreshold !== b.lowerThreshold) return true;
  if (a.forward !== "tunnel") return false;
  const ta = a.tunnel ?? DEFAULT_TUNNEL;
  const tb = b.tunnel ?? DEFAULT_TUNNEL;
  return ta.type !== tb.type || ta.port !== tb.port || ta.checksum !== tb.checksum;
}

const DEFAULT_TUNNEL = { type: "ipip", port: 0, checksum: "none" } as const;

/** Only the fields of a Service (a kernel dump carries stats too). */
function cleanService(s: Service): Service {
  return { key: serviceKeyOf(s.key), scheduler: s.scheduler, flags: [...s.flags], timeout: s.timeout, netmask: s.netmask, persistenceEngine: s.persistenceEngine };
}

function cleanDestination(d: Destination): Destination {
  const { family, address, port, forward, weight, upperThreshold, lowerThreshold, tunnel } = d;
  return tunnel && forward === "tunnel"
    ? { family, address, port, forward, weight, upperThreshold, lowerThreshold, tunnel }
    : { family, address, port, forward, weight, upperThreshold, lowerThreshold };
}
