/**
 * @module TypeBox models of GET|POST /reconcile and GET /status (for the OpenAPI document).
 */
import { Type } from "@sinclair/typebox";

const OP_NAMES = ["add-service", "update-service", "delete-service", "add-destination", "update-destination", "delete-destination"] as const;

export const RepairModel = Type.Object(
  {
    op: Type.Union(OP_NAMES.map((o) => Type.Literal(o)), { description: "The IPVS operation." }),
    service: Type.String({ description: "gorb's service ID." }),
    key: Type.String({ description: "The kernel's identity of the service.", examples: ["tcp:192.0.2.10:80", "fwmark:inet:5"] }),
    backend: Type.Optional(Type.String({ description: "gorb's backend ID, for a destination gorb knows." })),
    destination: Type.Optional(Type.String({ description: "The destination address and port.", examples: ["198.51.100.5:8080"] })),
    reason: Type.String({ description: "What differed.", examples: ["destination missing from the kernel", "weight 5, want 100", "scheduler rr, want wrr"] }),
    ok: Type.Optional(Type.Boolean({ description: "Whether the kernel took it; absent in a dry run." })),
    error: Type.Optional(Type.String({ description: "The kernel's reason when it refused." })),
  },
  { title: "Repair" },
);

export const VipRepairModel = Type.Object(
  {
    op: Type.Union([Type.Literal("add-vip"), Type.Literal("remove-vip")]),
    vip: Type.String({ description: "The address and prefix.", examples: ["192.0.2.10/32", "2001:db8::10/128"] }),
    interface: Type.String({ description: "The -vipi interface." }),
    services: Type.Array(Type.String(), { description: "The services that use this VIP." }),
    reason: Type.String({ examples: ["VIP missing from the interface", "no service uses this VIP any more"] }),
    ok: Type.Optional(Type.Boolean({ description: "Whether the kernel took it; absent in a dry run." })),
    error: Type.Optional(Type.String()),
  },
  { title: "VipRepair" },
);

export const VipModel = Type.Object(
  {
    vip: Type.String({ examples: ["192.0.2.10/32"] }),
    services: Type.Array(Type.String(), { description: "The services that use it." }),
    owned: Type.Boolean({ description: "gorb added it, and removes it with the last service that uses it." }),
  },
  { title: "Vip" },
);

export const ReconcileModel = Type.Object(
  {
    dry_run: Type.Boolean({ description: "True when nothing was changed (GET, or POST ?dry_run=true)." }),
    trigger: Type.String({ description: "api, periodic or start-up." }),
    at: Type.String({ description: "When the run started (ISO 8601)." }),
    duration_ms: Type.Number(),
    services: Type.Integer({ description: "Desired services compared with the kernel." }),
    repaired: Type.Integer({ description: "Operations the kernel took (0 in a dry run)." }),
    failed: Type.Integer({ description: "Operations the kernel refused (retried by the next run)." }),
    operations: Type.Array(RepairModel, { description: "The repairs made, or those a dry run would make, in order." }),
    foreign: Type.Array(Type.String(), { description: "Kernel services gorb does not own: left alone." }),
    vips: Type.Optional(Type.Array(VipRepairModel, { description: "With -vipi: VIPs put back on the interface or removed (counted in repaired and failed)." })),
  },
  {
    title: "Reconcile",
    examples: [
      {
        dry_run: false,
        trigger: "api",
        at: "2025-01-01T00:00:00.000Z",
        duration_ms: 1.7,
        services: 1,
        repaired: 1,
        failed: 0,
        operations: [{ op: "update-destination", service: "web", key: "tcp:192.0.2.10:80", backend: "web-1", destination: "198.51.100.5:8080", reason: "weight 5, want 100", ok: true }],
        foreign: [],
      },
    ],
  },
);

export const StatusModel = Type.Object(
  {
    version: Type.String(),
    ipvs: Type.String({ description: "kernel or memory." }),
    state_file: Type.Union([Type.String(), Type.Null()], { description: "Where desired state is kept; null when only in memory." }),
    started_at: Type.Union([Type.String(), Type.Null()], { description: "ISO 8601." }),
    services: Type.Integer(),
    backends: Type.Integer(),
    startup: Type.Union(
      [
        Type.Object({
          restored_services: Type.Integer(),
          restored_backends: Type.Integer(),
          skipped: Type.Array(Type.String(), { description: "Store records that could not be restored." }),
          flushed: Type.Boolean({ description: "-f flushed the table first." }),
          adopted_services: Type.Integer({ description: "Restored services the kernel already had." }),
          kept_weights: Type.Integer({ description: "Destinations whose kernel weight is kept until their first health verdict." }),
          repaired: Type.Integer(),
          failed: Type.Integer(),
          vips: Type.Optional(Type.Array(VipRepairModel, { description: "With -vipi: VIPs put back or removed at start-up." })),
          duration_ms: Type.Number(),
        }),
        Type.Null(),
      ],
      { description: "What start-up found and changed; null before it ran." },
    ),
    vip_interface: Type.Union([Type.String(), Type.Null()], { description: "The -vipi interface; null without -vipi." }),
    vips: Type.Array(VipModel, { description: "With -vipi: the VIPs in use or owned." }),
    reconcile: Type.Object({
      interval_ms: Type.Integer({ description: "0: periodic runs disabled." }),
      delay_ms: Type.Integer({ description: "Delay before the next periodic run: the interval, doubled after each run with refused repairs (up to 16×) until a clean run." }),
      runs: Type.Integer(),
      repaired: Type.Integer({ description: "Operations repaired over all runs." }),
      failed: Type.Integer(),
      errors: Type.Integer({ description: "Runs that could not read the kernel." }),
      last_run_at: Type.Union([Type.String(), Type.Null()]),
      last_duration_ms: Type.Union([Type.Number(), Type.Null()]),
      last_repaired: Type.Union([Type.Integer(), Type.Null()]),
      last_error: Type.Union([Type.String(), Type.Null()]),
    }),
  },
  { title: "Status" },
);
