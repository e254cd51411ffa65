/**
 * @module Applying config changes through core's commands (so they are validated, persisted,
 * rolled back and health-checked like API requests), and reloading the file on SIGHUP.
 *
 * Applying compares with what core holds, so it tolerates a state that moved since the last file
 * (API requests, state restored at start): a create that finds the object updates it (or leaves
 * it when it already matches), an update that misses it creates it, a delete that misses it is
 * done. Updates send only the fields that differ, so a weight change keeps the backend's health
 * state. One failed change does not stop the others; each has its result.
 */
import type { Core } from "../core/core.ts";
import { ConflictError, NotFoundError } from "../core/errors.ts";
import type { BackendInput, ServiceInput } from "../core/model.ts";
import { backendOptionsToInput } from "../core/normalize-backend.ts";
import { serviceOptionsToInput } from "../core/normalize-service.ts";
import { CHANGE_ORDER, changedOptions, diffConfig, sameJson, type ConfigChange } from "./diff.ts";
import { ConfigError, formatProblem, loadConfig, type ConfigFile, type ConfigProblem, type ConfigService, type ResolveContext } from "./file.ts";
import { optionDef, type FileOptions } from "./flags.ts";

/** The core commands a config needs, and the snapshot to compare with. */
export type ConfigTarget = Pick<Core, "snapshot" | "createService" | "updateService" | "deleteService" | "createBackend" | "updateBackend" | "deleteBackend">;

/**
 * created/updated/deleted: done; unchanged: core already had it so; absent: a delete found
 * nothing (fine); skipped: its service failed; failed: see `error`.
 */
export type ChangeOutcome = "created" | "updated" | "unchanged" | "deleted" | "absent" | "skipped" | "failed";

export interface ChangeResult {
  readonly change: ConfigChange;
  readonly ok: boolean;
  readonly outcome: ChangeOutcome;
  readonly error?: string;
}

/**
 * Runs `changes` in order (sorted into `CHANGE_ORDER` if they are not) and reports each. Backend
 * changes of a service whose create or update failed are skipped.
 */
export async function applyConfigChanges(core: ConfigTarget, changes: readonly ConfigChange[]): Promise<ChangeResult[]> {
  const ordered = [...changes].sort((a, b) => CHANGE_ORDER.indexOf(a.kind) - CHANGE_ORDER.indexOf(b.kind));
  /** Services whose create or update failed → "create" / "update". */
  const failedServices = new Map<string, string>();
  const results: ChangeResult[] = [];
  for (const change of ordered) {
    if ((change.kind === "create-backend" || change.kind === "update-backend") && failedServices.has(change.service)) {
      results.push({ change, ok: false, outcome: "skipped", error: `the ${failedServices.get(change.service)} of service [${change.service}] failed` });
      continue;
    }
    try {
      results.push({ change, ok: true, outcome: await applyOne(core, change) });
    } catch (e) {
      if (change.kind === "create-service" || change.kind === "update-service") failedServices.set(change.service, change.kind === "create-service" ? "creation" : "update");
      results.push({ change, ok: false, outcome: "failed", error: e instanceof Error ? e.message : String(e) });
    }
  }
  return results;
}

async function applyOne(core: ConfigTarget, change: ConfigChange): Promise<ChangeOutcome> {
  switch (change.kind) {
    case "delete-backend":
      return absentIfMissing(() => core.deleteBackend(change.service, change.backend));
    case "delete-service":
      return absentIfMissing(() => core.deleteService(change.service));
    case "create-service":
    case "update-service": {
      const current = core.snapshot.services.get(change.service);
      if (current) return updateService(core, change.service, serviceOptionsToInput(current.options), change.input);
      try {
        await core.createService(change.service, change.input);
        return "created";
      } catch (e) {
        // Created meanwhile (a concurrent API request): make it what the file says.
        const now = core.snapshot.services.get(change.service);
        if (!(e instanceof ConflictError) || !now) throw e;
        return updateService(core, change.service, serviceOptionsToInput(now.options), change.input);
      }
    }
    case "create-backend":
    case "update-backend": {
      const current = core.snapshot.services.get(change.service)?.backends.get(change.backend);
      if (current) return updateBackend(core, change.service, change.backend, backendOptionsToInput(current.options, {}), change.input);
      try {
        await core.createBackend(change.service, change.backend, change.input);
        return "created";
      } catch (e) {
        const now = core.snapshot.services.get(change.service)?.backends.get(change.backend);
        if (!(e instanceof ConflictError) || !now) throw e;
        return updateBackend(core, change.service, change.backend, backendOptionsToInput(now.options, {}), change.input);
      }
    }
  }
}

/**
 * Changes only the fields that differ from what core holds: an update that changes nothing is
 * not sent, and one that leaves `pulse` alone keeps the backend's health-check state.
 */
async function updateService(core: ConfigTarget, id: string, current: ServiceInput, desired: ServiceInput): Promise<ChangeOutcome> {
  const patch = patchOf(current, desired);
  if (Object.keys(patch).length === 0) return "unchanged";
  await core.updateService(id, patch);
  return "updated";
}

async function updateBackend(core: ConfigTarget, service: string, id: string, current: BackendInput, desired: BackendInput): Promise<ChangeOutcome> {
  const patch = patchOf(current, desired);
  if (Object.keys(patch).length === 0) return "unchanged";
  await core.updateBackend(service, id, patch);
  return "updated";
}

/** The fields of `desired` whose value differs from `current`'s. */
export function patchOf<T extends object>(current: T, desired: T): Partial<T> {
  const patch: Partial<T> = {};
  for (const key of Object.keys(desired) as (keyof T)[]) {
    if (!sameJson(current[key], desired[key])) patch[key] = desired[key];
  }
  return patch;
}

async function absentIfMissing(run: () => Promise<void>): Promise<ChangeOutcome> {
  try {
    await run();
    return "deleted";
  } catch (e) {
    if (e instanceof NotFoundError) return "absent";
    throw e;
  }
}

/** "create backend [web/web-1]" */
export function describeChange(change: ConfigChange): string {
  const [verb, what] = change.kind.split("-") as [string, string];
  const id = "backend" in change ? `${change.service}/${change.backend}` : change.service;
  const reason = change.kind === "delete-service" && change.reason ? ` (${change.reason})` : "";
  return `${verb} ${what} [${id}]${reason}`;
}

/** "create backend [web/web-1]: created" / "...: failed: <error>" */
export function formatResult(result: ChangeResult): string {
  return `${describeChange(result.change)}: ${result.outcome}${result.error ? `: ${result.error}` : ""}`;
}

/**
 * The config as it now stands in core after applying the diff from `previous` to `next`: `next`,
 * except that what failed keeps its previous version (or is left out when it had none), so the
 * next reload's diff tries it again.
 */
export function settleConfig(previous: ConfigFile, next: ConfigFile, results: readonly ChangeResult[]): ConfigFile {
  const failed = results.filter((r) => !r.ok);
  if (failed.length === 0) return next;
  const services = new Map<string, ConfigService>(next.services);
  const restored = new Set<string>();
  for (const { change } of failed) {
    if (change.kind !== "create-service" && change.kind !== "update-service" && change.kind !== "delete-service") continue;
    const before = previous.services.get(change.service);
    if (before) services.set(change.service, before);
    else services.delete(change.service);
    restored.add(change.service);
  }
  for (const { change } of failed) {
    if (!("backend" in change) || restored.has(change.service)) continue;
    const current = services.get(change.service);
    if (!current) continue;
    const beforeService = previous.services.get(change.service);
    const before = beforeService?.identity === current.identity ? beforeService.backends.get(change.backend) : undefined;
    const backends = new Map(current.backends);
    if (before) backends.set(change.backend, before);
    else backends.delete(change.backend);
    services.set(change.service, { ...current, backends });
  }
  return { ...next, services };
}

export interface ApplyOutcome {
  /** What core now holds of the file (see `settleConfig`): the `previous` of the next reload. */
  readonly config: ConfigFile;
  readonly results: readonly ChangeResult[];
}

/** diff → apply → settle. At start: `applyConfig(core, EMPTY_CONFIG, config)`. */
export async function applyConfig(core: ConfigTarget, previous: ConfigFile, next: ConfigFile): Promise<ApplyOutcome> {
  const results = await applyConfigChanges(core, diffConfig(previous, next));
  return { config: settleConfig(previous, next, results), results };
}

export interface ReloadOutcome extends ApplyOutcome {
  /** False when the file could not be used: nothing was changed, `config` is the current one. */
  readonly ok: boolean;
  readonly problems: readonly ConfigProblem[];
  /** File options that changed: they need a restart (listen address, interfaces, ...). */
  readonly changedOptions: readonly (keyof FileOptions)[];
}

/**
 * SIGHUP: reads `path` (default: the current config's), and when the whole file is valid applies
 * only what changed since `current`. An invalid file changes nothing.
 */
export async function reloadConfig(core: ConfigTarget, current: ConfigFile, ctx: ResolveContext & { readonly path?: string } = {}): Promise<ReloadOutcome> {
  let next: ConfigFile;
  try {
    next = await loadConfig(ctx.path ?? current.path, ctx);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { ok: false, config: current, results: [], problems: e.problems, changedOptions: [] };
  }
  const applied = await applyConfig(core, current, next);
  return { ok: true, ...applied, problems: [], changedOptions: changedOptions(current.options, next.options) };
}

export interface ConfigReloader {
  /** What core holds of the file now (the `previous` of the next reload). */
  readonly current: ConfigFile;
  /** Reloads the file (SIGHUP); calls made while one runs wait for it. Logs every outcome. */
  reload(): Promise<ReloadOutcome>;
}

/**
 * SIGHUP for main: serialized reloads of the file at `ctx.path`, starting from `initial` (what the
 * start applied), each logged: the problems of an invalid file, then every change and its result,
 * and the options that need a restart.
 */
export function configReloader(core: ConfigTarget, initial: ConfigFile, ctx: ResolveContext & { readonly path: string }, log: (line: string) => void): ConfigReloader {
  let current = initial;
  let queue: Promise<unknown> = Promise.resolve();
  const run = async (): Promise<ReloadOutcome> => {
    const outcome = await reloadConfig(core, current, ctx);
    current = outcome.config;
    if (!outcome.ok) {
      log(`config reload: ${ctx.path} has ${outcome.problems.length === 1 ? "a problem" : `${outcome.problems.length} problems`}; nothing was changed`);
      for (const p of outcome.problems) log(`config reload: ${formatProblem(p)}`);
      return outcome;
    }
    for (const r of outcome.results) log(`config reload: ${formatResult(r)}`);
    const failed = outcome.results.filter((r) => !r.ok).length;
    log(`config reload: ${ctx.path}: ${outcome.results.length} ${outcome.results.length === 1 ? "change" : "changes"}${failed ? `, ${failed} not applied (tried again at the next reload)` : ""}`);
    for (const key of outcome.changedOptions) log(`config reload: option "${optionDef(key).long}" changed in the file: restart gorb to apply it`);
    return outcome;
  };
  return {
    get current() {
      return current;
    },
    reload() {
      const next = queue.then(run, run);
      queue = next.catch(() => undefined);
      return next;
    },
  };
}
