/**
 * @module GET /service/{vs} as GORB shapes it ({options, health, backends}) plus the kernel's stats.
 */
import type { ServiceView } from "../../core/core.ts";
import { isFwmarkKey } from "../../ipvs/types.ts";
import { statsView } from "../stats.ts";

/** Sorted backend IDs per snapshot (snapshots are immutable, so this never goes stale). */
const sortedIds = new WeakMap<object, string[]>();

export function serviceView(view: ServiceView) {
  const { service } = view;
  let backends = sortedIds.get(service);
  if (!backends) sortedIds.set(service, (backends = [...service.backends.keys()].sort()));
  return {
    options: { ...service.options, address: isFwmarkKey(service.service.key) ? "" : service.service.key.address },
    health: view.health,
    backends: backends.length === 0 ? null : backends,
    stats: view.stats ? statsView(view.stats) : null,
  };
}
