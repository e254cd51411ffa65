/**
 * @module What the route groups share: the core and the request limits.
 */
import type { Core } from "../core/core.ts";
import type { Reconciler } from "../core/reconciler.ts";
import type { StartupReport } from "../core/startup.ts";

export interface ApiDeps {
  /**
   * Tells one app's route groups from another's (Elysia's plugin seed). A small number on purpose:
   * Elysia JSON-stringifies the seed for every route, and core (with the kernel driver's buffers)
   * as the seed made building the app take seconds, or hang, under emulation.
   */
  readonly instance: number;
  readonly core: Core;
  /** Largest request body accepted, in bytes. */
  readonly maxBodyBytes: number;
  /** Serialises POST /reconcile with the periodic runs and counts them; absent: core directly. */
  readonly reconciler?: Reconciler | undefined;
  readonly daemon?: DaemonInfo | undefined;
}

/** What GET /status tells about the daemon beyond core. */
export interface DaemonInfo {
  readonly version: string;
  /** The state file, or null when state is kept in memory only. */
  readonly stateFile: string | null;
  readonly startedAt: string;
  startup(): StartupReport | null;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/** OpenAPI fragments the route groups reuse. */
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

export const jsonBody = (name: string, description: string) => ({
  required: true,
  description,
  content: { "application/json": { schema: ref(name) } },
});

export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      String(s),
      { description: ERROR_TEXT[s] ?? "Error", content: { "application/json": { schema: ref("Error") } } },
    ]),
  );

const ERROR_TEXT: Record<number, string> = {
  400: "Invalid request: the message names the field and the allowed values",
  404: "unable to locate specified object",
  409: "specified object already exists",
  413: "Request body too large",
  500: "error while calling into IPVS (with the kernel's reason), or the state store failed",
};

export const emptyOk = { "200": { description: "Done (empty body, as GORB)" } };
