/**
 * @module What changed between two config files, as core commands to run: the services and
 * backends to delete, update and create. Pure. Objects the files do not mention (made through
 * the API) are never touched.
 */
import type { BackendInput, ServiceInput } from "../core/model.ts";
import { backendOptionsToInput } from "../core/normalize-backend.ts";
import { serviceOptionsToInput } from "../core/normalize-service.ts";
import type { ConfigBackend, ConfigFile, ConfigService } from "./file.ts";
import { OPTION_DEFS, type FileOptions } from "./flags.ts";

/**
 * One core command. `input` is complete (every field, defaults filled), so an update replaces
 * what is there rather than merging over it.
 */
export type ConfigChange =
  | { readonly kind: "delete-backend"; readonly service: string; readonly backend: string }
  | { readonly kind: "delete-service"; readonly service: string; readonly reason?: string }
  | { readonly kind: "update-service"; readonly service: string; readonly input: ServiceInput }
  | { readonly kind: "create-service"; readonly service: string; readonly input: ServiceInput }
  | { readonly kind: "update-backend"; readonly service: string; readonly backend: string; readonly input: BackendInput }
  | { readonly kind: "create-backend"; readonly service: string; readonly backend: string; readonly input: BackendInput };

export type ConfigChangeKind = ConfigChange["kind"];

/** The order changes run in: deletes first (backends, then services), then services, then backends. */
export const CHANGE_ORDER: readonly ConfigChangeKind[] = ["delete-backend", "delete-service", "update-service", "create-service", "update-backend", "create-backend"];

/**
 * The changes that turn `previous` into `next`, in `CHANGE_ORDER`, each group sorted by service
 * then backend ID. A service whose address, port, protocol or firewall mark changed is deleted
 * and created again with all its backends (core refuses to change a service's identity in place).
 */
export function diffConfig(previous: Pick<ConfigFile, "services">, next: Pick<ConfigFile, "services">): ConfigChange[] {
  const changes: ConfigChange[] = [];
  for (const [id, before] of previous.services) {
    const after = next.services.get(id);
    if (!after) {
      changes.push({ kind: "delete-service", service: id });
      continue;
    }
    if (after.identity !== before.identity) {
      changes.push({ kind: "delete-service", service: id, reason: `its identity changed from ${before.identity} to ${after.identity}` });
      pushCreate(changes, after);
      continue;
    }
    if (!sameJson(before.options, after.options)) changes.push({ kind: "update-service", service: id, input: serviceInput(after) });
    for (const [bid, b] of before.backends) {
      const a = after.backends.get(bid);
      if (!a) changes.push({ kind: "delete-backend", service: id, backend: bid });
      else if (a.address !== b.address || !sameJson(a.options, b.options)) changes.push({ kind: "update-backend", service: id, backend: bid, input: backendInput(a) });
    }
    for (const [bid, a] of after.backends) {
      if (!before.backends.has(bid)) changes.push({ kind: "create-backend", service: id, backend: bid, input: backendInput(a) });
    }
  }
  for (const [id, after] of next.services) if (!previous.services.has(id)) pushCreate(changes, after);
  return sortChanges(changes);
}

function pushCreate(changes: ConfigChange[], service: ConfigService): void {
  changes.push({ kind: "create-service", service: service.id, input: serviceInput(service) });
  for (const [bid, b] of service.backends) changes.push({ kind: "create-backend", service: service.id, backend: bid, input: backendInput(b) });
}

/** The complete input of a declared service (what core stores, as a request). */
export function serviceInput(service: Pick<ConfigService, "options">): ServiceInput {
  return serviceOptionsToInput(service.options);
}

/** The complete input of a declared backend. */
export function backendInput(backend: Pick<ConfigBackend, "options">): BackendInput {
  return backendOptionsToInput(backend.options, {});
}

export function sortChanges(changes: ConfigChange[]): ConfigChange[] {
  const rank = (c: ConfigChange) => CHANGE_ORDER.indexOf(c.kind);
  const backendOf = (c: ConfigChange) => ("backend" in c ? c.backend : "");
  return changes.sort((a, b) => rank(a) - rank(b) || cmp(a.service, b.service) || cmp(backendOf(a), backendOf(b)));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The file options whose value differs (they take effect at the next start, not on reload). */
export function changedOptions(previous: FileOptions, next: FileOptions): (keyof FileOptions)[] {
  return OPTION_DEFS.filter((d) => d.file && previous[d.key] !== next[d.key]).map((d) => d.key);
}

/** JSON equality with object keys in any order. */
export function sameJson(a: unknown, b: unknown): boolean {
  return stableJson(a) === stableJson(b);
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}
