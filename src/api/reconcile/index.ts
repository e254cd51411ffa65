/**
 * @module GET /reconcile (the difference between the kernel and desired state, changing nothing),
 * POST /reconcile (repair it now; `?dry_run=true` only reports), and GET /status (what start-up
 * did, reconcile counters, where state is kept).
 */
import { Elysia } from "elysia";
import type { ReconcileResult } from "../../core/reconcile.ts";
import type { ApiDeps } from "../deps.ts";
import { errorResponses, ref } from "../deps.ts";
import { tabJson } from "../http.ts";

const tags = ["reconcile"];
const TRUE = new Set(["", "1", "true", "yes"]);

export function reconcileView(r: ReconcileResult) {
  return {
    dry_run: r.dryRun,
    trigger: r.trigger,
    at: r.at,
    duration_ms: r.durationMs,
    services: r.services,
    repaired: r.repaired,
    failed: r.failed,
    operations: r.operations,
    foreign: r.foreign,
    ...(r.vips ? { vips: r.vips } : {}),
  };
}

export function reconcileRoutes(deps: ApiDeps) {
  const { core } = deps;
  const run = (dryRun: boolean) => (deps.reconciler ? deps.reconciler.run({ dryRun, trigger: "api" }) : core.reconcile({ dryRun, trigger: "api" }));
  const ok200 = (description: string) => ({ "200": { description, content: { "application/json": { schema: ref("Reconcile") } } } });
  return new Elysia({ name: "gorb/reconcile", seed: deps.instance })
    .get("/reconcile", async () => tabJson(reconcileView(await run(true))), {
      detail: {
        tags,
        summary: "Show the drift",
        description: "Compares the kernel's IPVS table with desired state and lists the operations a repair would make, with the reason for each. Changes nothing.",
        responses: { ...ok200("The difference"), ...errorResponses(500) },
      },
    })
    .post(
      "/reconcile",
      async ({ request }) => {
        const flag = new URL(request.url).searchParams.get("dry_run");
        const dryRun = flag !== null && TRUE.has(flag.toLowerCase());
        return tabJson(reconcileView(await run(dryRun)));
      },
      {
        detail: {
          tags,
          summary: "Repair the drift now",
          description:
            "Repairs every service gorb owns whose kernel entry differs from desired state (missing service or destination, changed weight, scheduler or settings, a destination added behind gorb's back), one service at a time under its lock. Kernel services gorb does not own are left alone and listed in `foreign`. With `?dry_run=true` only reports, like GET. Each repair is also one log line.",
          parameters: [{ name: "dry_run", in: "query", required: false, schema: { type: "boolean" }, description: "Only report the difference." }],
          responses: { ...ok200("What was repaired (failed operations are counted and retried by the next run)"), ...errorResponses(500) },
        },
      },
    )
    .get("/status", () => tabJson(statusView(deps)), {
      detail: {
        tags,
        summary: "Daemon status",
        description: "Where desired state is kept, what start-up restored, adopted and repaired, and the reconcile counters.",
        responses: { "200": { description: "Status", content: { "application/json": { schema: ref("Status") } } } },
      },
    });
}

function statusView(deps: ApiDeps) {
  const { core, daemon, reconciler } = deps;
  const services = core.snapshot.services;
  let backends = 0;
  for (const s of services.values()) backends += s.backends.size;
  const startup = daemon?.startup() ?? null;
  const r = reconciler?.status();
  return {
    version: daemon?.version ?? "0.0.0",
    ipvs: core.ipvs.kind,
    state_file: daemon?.stateFile ?? null,
    started_at: daemon?.startedAt ?? null,
    services: services.size,
    backends,
    startup: startup && {
      restored_services: startup.services,
      restored_backends: startup.backends,
      skipped: startup.skipped,
      flushed: startup.flushed,
      adopted_services: startup.adopted,
      kept_weights: startup.keptWeights,
      repaired: startup.reconcile.repaired,
      failed: startup.reconcile.failed,
      ...(startup.vips ? { vips: startup.vips } : {}),
      duration_ms: startup.durationMs,
    },
    vip_interface: core.vips?.ifname ?? null,
    vips: core.vips?.status() ?? [],
    reconcile: {
      interval_ms: r?.intervalMs ?? 0,
      delay_ms: r?.delayMs ?? 0,
      runs: r?.runs ?? 0,
      repaired: r?.repairs ?? 0,
      failed: r?.failures ?? 0,
      errors: r?.errors ?? 0,
      last_run_at: r?.last?.at ?? null,
      last_duration_ms: r?.last?.durationMs ?? null,
      last_repaired: r?.last?.repaired ?? null,
      last_error: r?.lastError ?? null,
    },
  };
}
