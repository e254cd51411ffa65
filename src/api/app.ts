/**
 * @module The HTTP API: GORB's routes on Elysia, one route group per resource, one error mapper.
 * Tests call `createApp(...).handle(new Request(...))`; main.ts calls `.listen()`.
 */
import { Elysia } from "elysia";
import type { Core } from "../core/core.ts";
import { GorbError, GorbText } from "../core/errors.ts";
import { IpvsError } from "../ipvs/errors.ts";
import { backendRoutes } from "./backends/index.ts";
import { DEFAULT_MAX_BODY_BYTES, type ApiDeps, type DaemonInfo } from "./deps.ts";
import type { Reconciler } from "../core/reconciler.ts";
import { reconcileRoutes } from "./reconcile/index.ts";
import { docsRoutes } from "./docs.ts";
import { BodyTooLargeError, errorResponse } from "./http.ts";
import { serviceRoutes } from "./services/index.ts";

export interface AppOptions {
  readonly core: Core;
  /** Largest request body accepted (default 64 KiB). */
  readonly maxBodyBytes?: number;
  /** Serve /openapi.json and /swagger (default true). */
  readonly docs?: boolean;
  readonly version?: string;
  /** Runs POST /reconcile in turn with the periodic runs, and counts them for /status. */
  readonly reconciler?: Reconciler;
  readonly daemon?: DaemonInfo;
}

let instances = 0;

export function createApp(options: AppOptions) {
  const deps: ApiDeps = {
    instance: ++instances,
    core: options.core,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    reconciler: options.reconciler,
    daemon: options.daemon ?? { version: options.version ?? "0.0.0", stateFile: null, startedAt: new Date().toISOString(), startup: () => null },
  };
  const app = new Elysia({ name: "gorb" }).onError({ as: "global" }, ({ code, error, request }) => toErrorResponse(code, error, request));
  return (options.docs === false ? app : app.use(docsRoutes(options.version ?? "0.0.0"))).use(serviceRoutes(deps)).use(backendRoutes(deps)).use(reconcileRoutes(deps));
}

const SERVICE_METHODS = "GET, HEAD, PUT, PATCH, DELETE";

/** The methods a path supports, for 405's Allow; undefined when no route has that path. */
export function allowedMethods(path: string): string | undefined {
  if (path === "/service") return "GET, HEAD";
  if (/^\/service\/[^/]+(\/[^/]+)?$/.test(path)) return SERVICE_METHODS;
  if (path === "/reconcile") return "GET, HEAD, POST";
  if (path === "/status") return "GET, HEAD";
  if (path === "/openapi.json" || path === "/swagger" || /^\/swagger\/[^/]+$/.test(path)) return "GET, HEAD";
  return undefined;
}

function toErrorResponse(code: unknown, error: unknown, request: Request): Response {
  if (error instanceof GorbError) return errorResponse(error.status, error.message);
  if (error instanceof IpvsError) return errorResponse(500, `${GorbText.ipvs}: ${error.message}`);
  if (error instanceof BodyTooLargeError) return errorResponse(413, error.message);
  if (code === "NOT_FOUND") {
    const path = new URL(request.url).pathname;
    const allow = allowedMethods(path);
    if (allow) return errorResponse(405, `method ${request.method} is not allowed on ${path}; allowed: ${allow}`, { allow });
    return errorResponse(404, `404 page not found: no route for ${request.method} ${path}`);
  }
  if (code === "PARSE") return errorResponse(400, `request body is not valid: ${(error as Error).message}`);
  console.error("gorb: unexpected error:", error);
  return errorResponse(500, `internal error: ${error instanceof Error ? error.message : String(error)}`);
}
