/**
 * @module TypeBox models of the backend routes: the body of PUT/PATCH /service/{vs}/{rs} and what
 * GET answers. GORB's fields first (host, port, weight, method, pulse), gorb's additions after.
 */
import { Type, type Static } from "@sinclair/typebox";
import { GorbText } from "../../core/errors.ts";
import { BACKEND_METHODS, TUNNEL_CHECKSUMS, TUNNEL_TYPES } from "../../core/normalize-backend.ts";
import { PulseSpecSchema } from "../../pulse/spec.ts";
import { BackendStatsModel } from "../stats.ts";

const choice = <T extends readonly string[]>(values: T, options: Record<string, unknown>) =>
  Type.Union(values.map((v) => Type.Literal(v)), options);

export const PulseModel = Type.Composite([PulseSpecSchema], {
  title: "Pulse",
  description:
    'Health check. Default {"type": "tcp", "interval": "1m"}. `args` values may be numbers or digit strings (GORB only took strings).',
  examples: [{ type: "http", interval: "10s", args: { path: "/health", expect: 200 } }],
  additionalProperties: true,
});

export const BackendModel = Type.Object(
  {
    host: Type.Optional(Type.String({ description: "Real server address or host name (same family as the service). Required on PUT.", examples: ["10.0.0.5", "2001:db8::5"] })),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: "Real server port; required on PUT unless the service is a fwmark service.", examples: [8080] })),
    weight: Type.Optional(
      Type.Integer({
        minimum: -2147483648,
        maximum: 2147483647,
        description: "Configured weight. PUT: ≤ 0 or absent means 100 (GORB). PATCH: taken as given, 0 drains; negative is refused.",
        examples: [100],
      }),
    ),
    method: Type.Optional(choice(BACKEND_METHODS, { description: "Forwarding: nat (masquerade), tunnel / ipip (IP tunnel), dr (direct routing). Default nat.", default: "nat" })),
    pulse: Type.Optional(PulseModel),
    tunnel_type: Type.Optional(choice(TUNNEL_TYPES, { description: "Tunnel encapsulation for method tunnel (kernel ≥ 5.3). Default ipip." })),
    tunnel_port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: "Destination UDP port of a gue tunnel." })),
    tunnel_checksum: Type.Optional(choice(TUNNEL_CHECKSUMS, { description: "Tunnel checksum mode for gue/gre. Default none." })),
    upper_threshold: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295, description: "Stop sending new connections above this many (0: no limit)." })),
    lower_threshold: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295, description: "Resume below this many; must not exceed upper_threshold." })),
  },
  {
    title: "Backend",
    description: "A real server of a service. Keys are matched case-insensitively; unknown keys are ignored; null means absent.",
    examples: [{ host: "10.0.0.5", port: 8080, weight: 100, method: "nat", pulse: { type: "tcp", interval: "5s" } }],
  },
);
export type BackendBody = Static<typeof BackendModel>;

export const BACKEND_ERROR_PREFIXES = {
  method: GorbText.methodUnknown,
  "pulse.type": GorbText.pulseTypeUnknown,
  "pulse.interval": GorbText.intervalFormat,
} as const;

export const BackendOptionsModel = Type.Object(
  {
    host: Type.String(),
    port: Type.Integer(),
    weight: Type.Integer({ description: "The weight IPVS has now (as GORB: configured weight after health checks)." }),
    method: Type.String(),
    pulse: Type.Object({ type: Type.String(), interval: Type.Union([Type.String(), Type.Number()]), args: Type.Unknown() }, { additionalProperties: true }),
    vsid: Type.String({ description: "The owning service's ID." }),
    configured_weight: Type.Integer({ description: "The weight asked for." }),
    tunnel_type: Type.String(),
    tunnel_port: Type.Integer(),
    tunnel_checksum: Type.String(),
    upper_threshold: Type.Integer(),
    lower_threshold: Type.Integer(),
    address: Type.String({ description: "The resolved address." }),
  },
  { title: "BackendOptions" },
);

export const BackendMetricsModel = Type.Object(
  {
    status: Type.Union([Type.Literal("up"), Type.Literal("down"), Type.Literal("unknown")], { description: '"unknown" until the first checks decide.' }),
    health: Type.Union([Type.Number(), Type.Null()], { description: "1 − failures ÷ results over the check window." }),
    uptime: Type.Integer({ description: "Whole seconds of continuous up." }),
  },
  { title: "BackendMetrics", additionalProperties: true },
);

export const BackendViewModel = Type.Object(
  {
    options: BackendOptionsModel,
    metrics: BackendMetricsModel,
    stats: Type.Union([BackendStatsModel, Type.Null()], { description: "The kernel's counters for the destination; null when it could not be read." }),
  },
  {
    title: "BackendView",
    examples: [
      {
        options: {
          host: "10.0.0.5", port: 8080, weight: 100, method: "nat", pulse: { type: "tcp", interval: "1m", args: null }, vsid: "web",
          configured_weight: 100, tunnel_type: "", tunnel_port: 0, tunnel_checksum: "", upper_threshold: 0, lower_threshold: 0, address: "10.0.0.5",
        },
        metrics: { status: "up", health: 1, uptime: 120 },
        stats: null,
      },
    ],
  },
);
