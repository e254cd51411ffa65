/**
 * @module TypeBox models of the service routes: the body of PUT/PATCH /service/{vs} and what
 * GET answers. GORB's fields first, with GORB's defaults; gorb's additions after.
 */
import { Type, type Static } from "@sinclair/typebox";
import { GorbText } from "../../core/errors.ts";
import { FAMILIES, PROTOCOLS, SCHEDULERS, SERVICE_FLAGS } from "../../core/normalize-service.ts";
import { StatsModel } from "../stats.ts";
import { AllDownPolicySchema } from "../../pulse/all-down.ts";

const choice = <T extends readonly string[]>(values: T, options: Record<string, unknown>) =>
  Type.Union(values.map((v) => Type.Literal(v)), options);

export const ServiceModel = Type.Object(
  {
    host: Type.Optional(
      Type.String({
        description: "Virtual IP or host name (resolved once; IPv4 or IPv6). Empty: the first address of the `-i` interface. Echoed as given.",
        examples: ["192.0.2.10", "2001:db8::10", ""],
      }),
    ),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: "Virtual port; required unless `fwmark` is given.", examples: [80] })),
    protocol: Type.Optional(choice(PROTOCOLS, { description: "Case-insensitive. Default tcp.", default: "tcp" })),
    method: Type.Optional(choice(SCHEDULERS, { description: "IPVS scheduler, case-insensitive. Default wrr.", default: "wrr" })),
    flags: Type.Optional(
      Type.String({
        description: `Scheduler flags separated by "|": ${Object.keys(SERVICE_FLAGS).join(", ")}. sh-fallback = flag-1, sh-port = flag-2.`,
        examples: ["sh-fallback|sh-port"],
        default: "",
      }),
    ),
    persistent: Type.Optional(Type.Boolean({ description: "IPVS persistence (ipvsadm -p): connections of one client go to one backend for `timeout` seconds.", default: false })),
    fwmark: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295, description: "Firewall-mark service (ipvsadm -f) instead of host/port/protocol.", examples: [5] })),
    family: Type.Optional(choice(FAMILIES, { description: "Address family of a fwmark service (default inet); for others it must match the host." })),
    timeout: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483, description: "Persistence timeout in seconds (implies persistent). Default 300.", examples: [300] })),
    netmask: Type.Optional(Type.Integer({ minimum: 0, maximum: 128, description: "Persistence granularity as a prefix length (IPv4 0-32, IPv6 1-128). Default 32 / 128.", examples: [24] })),
    all_down: Type.Optional(AllDownPolicySchema),
  },
  {
    title: "Service",
    description: "A virtual service. Keys are matched case-insensitively; unknown keys are ignored; null means absent.",
    examples: [{ host: "192.0.2.10", port: 80, protocol: "tcp", method: "wrr", flags: "", persistent: false }],
  },
);
export type ServiceBody = Static<typeof ServiceModel>;

/** GORB's texts for the fields it had a fixed message for. */
export const SERVICE_ERROR_PREFIXES = {
  protocol: GorbText.protocolUnknown,
  method: GorbText.schedulerUnknown,
  flags: GorbText.flagUnknown,
} as const;

export const ServiceOptionsModel = Type.Object(
  {
    host: Type.String(),
    port: Type.Integer(),
    protocol: Type.String(),
    method: Type.String(),
    flags: Type.String(),
    persistent: Type.Boolean(),
    fwmark: Type.Integer(),
    family: Type.String(),
    timeout: Type.Integer({ description: "Persistence timeout in seconds; 0 when not persistent." }),
    netmask: Type.Integer(),
    all_down: Type.String({ description: "Policy when every backend is down." }),
    address: Type.String({ description: "The resolved virtual IP (empty for fwmark services)." }),
  },
  { title: "ServiceOptions" },
);

export const ServiceViewModel = Type.Object(
  {
    options: ServiceOptionsModel,
    health: Type.Number({ description: "Mean health of the checked backends; 1 when none has been checked." }),
    backends: Type.Union([Type.Array(Type.String()), Type.Null()], { description: "Backend IDs, sorted; null when none (as GORB)." }),
    stats: Type.Union([StatsModel, Type.Null()], { description: "The kernel's counters for the service; null when it could not be read." }),
  },
  {
    title: "ServiceView",
    examples: [
      {
        options: { host: "", port: 80, protocol: "tcp", method: "wrr", flags: "", persistent: false, fwmark: 0, family: "inet", timeout: 0, netmask: 32, all_down: "zero", address: "192.0.2.10" },
        health: 1,
        backends: ["web-1", "web-2"],
        stats: null,
      },
    ],
  },
);

export const ServiceListModel = Type.Array(Type.String(), { title: "ServiceList", description: "Service IDs, sorted.", examples: [["web", "dns"]] });
