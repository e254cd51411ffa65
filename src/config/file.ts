/**
 * @module The config file: gorb's options and the services with their backends, in YAML, TOML or
 * JSON (by extension). Services and backends are checked with the API's own TypeBox models and
 * then core's normalizers, so a file accepts exactly what PUT /service accepts (plus: unknown keys
 * are errors here, to catch typos). Every problem names the file, the line (YAML), the path in the
 * file and the field.
 *
 * Two steps, so main can merge the file's options with the flags before it knows the default VIP:
 * `readConfig` (read, parse, check shapes and options; no DNS) then `resolveConfig` (normalize
 * with the resolver and the default host). `loadConfig` does both.
 */
import { LineCounter, parseDocument } from "yaml";
import { BACKEND_ERROR_PREFIXES, BackendModel } from "../api/backends/model.ts";
import { SERVICE_ERROR_PREFIXES, ServiceModel } from "../api/services/model.ts";
import { compileValidator } from "../api/validate.ts";
import { ValidationError } from "../core/errors.ts";
import { systemResolver, type Resolver } from "../core/fields.ts";
import type { HealthChecker } from "../core/health.ts";
import { noBackends, type BackendInput, type BackendOptions, type DesiredService, type ServiceInput, type ServiceOptions } from "../core/model.ts";
import { normalizeBackend } from "../core/normalize-backend.ts";
import { normalizeService } from "../core/normalize-service.ts";
import { createHealthChecker } from "../core/pulse-checker.ts";
import { destinationId, serviceId } from "../ipvs/keys.ts";
import { PulseSpecSchema } from "../pulse/spec.ts";
import { OPTION_DEFS, fileOptionDef, parseOptionValue, type FileOptions } from "./flags.ts";

export type ConfigFormat = "yaml" | "toml" | "json";

/** One thing wrong with a config file. */
export interface ConfigProblem {
  /** The file as it was named (e.g. "/etc/gorb/gorb.yaml"). */
  readonly file: string;
  /** Dotted path in the file ("services.web.backends.web-1.port"); "" for the file as a whole. */
  readonly path: string;
  /** 1-based, where the format tells (YAML). */
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

/** "gorb.yaml:9:11: services.web.backends.web-1.port: ..." */
export function formatProblem(p: ConfigProblem): string {
  const at = p.line === undefined ? p.file : `${p.file}:${p.line}${p.column === undefined ? "" : `:${p.column}`}`;
  return p.path === "" ? `${at}: ${p.message}` : `${at}: ${p.path}: ${p.message}`;
}

/** A config file that cannot be used; `problems` lists every problem found. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join("\n"));
  }
}

/** A backend as the file declares it. */
export interface ConfigBackend {
  readonly id: string;
  /** The fields as written (keys lower-cased, null and "" choices dropped). */
  readonly input: BackendInput;
  /** As core normalizes them: defaults filled (weight ≤ 0 → 100, method nat, pulse tcp/1m). */
  readonly options: BackendOptions;
  /** The resolved destination ("198.51.100.1:8080"). */
  readonly address: string;
}

/** A service as the file declares it. */
export interface ConfigService {
  readonly id: string;
  readonly input: ServiceInput;
  readonly options: ServiceOptions;
  /** The kernel identity it resolves to ("tcp:192.0.2.1:80"); a change means re-create. */
  readonly identity: string;
  readonly backends: ReadonlyMap<string, ConfigBackend>;
}

export interface ConfigFile {
  readonly path: string;
  /** The options the file sets (flags and GORB_* variables override them). */
  readonly options: FileOptions;
  readonly services: ReadonlyMap<string, ConfigService>;
}

/** No options, no services: what a first apply diffs against. */
export const EMPTY_CONFIG: ConfigFile = Object.freeze({ path: "", options: {}, services: new Map<string, ConfigService>() });

/** A file read and shape-checked, not yet resolved. */
export interface RawConfig {
  readonly path: string;
  readonly format: ConfigFormat;
  readonly options: FileOptions;
  readonly services: ReadonlyMap<string, RawService>;
  /** Line and column of a path in the file, or of its nearest ancestor (YAML only). */
  readonly locate: (path: readonly string[]) => { line: number; column: number } | undefined;
}

export interface RawService {
  readonly id: string;
  readonly input: ServiceInput;
  readonly backends: ReadonlyMap<string, BackendInput>;
}

export interface ResolveContext {
  /** Name resolution for hosts; default: the system resolver (literal addresses need none). */
  readonly resolve?: Resolver;
  /**
   * The VIP of services without `host` (the first address of `-i`). Without it such a service is
   * checked against a placeholder of its backends' family.
   */
  readonly defaultHost?: string | undefined;
}

export const CONFIG_EXTENSIONS: Readonly<Record<string, ConfigFormat>> = { ".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".json": "json" };

export function formatOf(path: string): ConfigFormat | undefined {
  const dot = path.lastIndexOf(".");
  return dot < 0 ? undefined : CONFIG_EXTENSIONS[path.slice(dot).toLowerCase()];
}

// ---- reading and parsing ------------------------------------------------------------------

/** Reads and shape-checks a config file (no DNS). Throws ConfigError. */
export async function readConfig(path: string): Promise<RawConfig> {
  if (!formatOf(path)) throw new ConfigError([{ file: path, path: "", message: `unknown config file format: the name must end in ${Object.keys(CONFIG_EXTENSIONS).join(", ")}` }]);
  let text: string;
  try {
    text = await Bun.file(path).text();
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "is a directory" : (e as Error).message;
    throw new ConfigError([{ file: path, path: "", message: `cannot read the config file: ${why}` }]);
  }
  return parseConfig(text, path);
}

/** Parses and shape-checks config text; the format comes from the name's extension. Pure. Throws ConfigError. */
export function parseConfig(text: string, path: string, format: ConfigFormat | undefined = formatOf(path)): RawConfig {
  const file = path;
  if (!format) throw new ConfigError([{ file, path: "", message: `unknown config file format: the name must end in ${Object.keys(CONFIG_EXTENSIONS).join(", ")}` }]);
  let data: unknown;
  let locate: RawConfig["locate"] = () => undefined;
  if (format === "yaml") {
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
    if (doc.errors.length > 0) {
      throw new ConfigError(
        doc.errors.map((e) => {
          const pos = lineCounter.linePos(e.pos[0]);
          return { file, path: "", line: pos.line, column: pos.col, message: `invalid YAML: ${e.message}` };
        }),
      );
    }
    data = doc.toJS({ maxAliasCount: 1000 });
    locate = (segments) => {
      for (let n = segments.length; n >= 0; n--) {
        const node = doc.getIn(segments.slice(0, n), true) as { range?: [number, number, number] } | undefined;
        if (node && typeof node === "object" && Array.isArray(node.range)) {
          const pos = lineCounter.linePos(node.range[0]);
          return { line: pos.line, column: pos.col };
        }
      }
      return undefined;
    };
  } else {
    try {
      data = format === "toml" ? Bun.TOML.parse(text) : JSON.parse(text);
    } catch (e) {
      throw new ConfigError([{ file, path: "", message: `invalid ${format.toUpperCase()}: ${(e as Error).message.replace(/^(TOML|JSON) Parse error: /, "")}` }]);
    }
  }
  return shapeConfig(data, file, format, locate);
}

type Problems = ConfigProblem[];

function shapeConfig(data: unknown, file: string, format: ConfigFormat, locate: RawConfig["locate"]): RawConfig {
  const problems: Problems = [];
  const add = (segments: readonly string[], message: string) => problems.push(problemAt(file, locate, segments, message));
  const options: FileOptions = {};
  const services = new Map<string, RawService>();
  if (data !== null && data !== undefined && !isMapping(data)) {
    add([], `the file must hold a mapping of options and "services" (got ${describeValue(data)})`);
  } else {
    for (const [key, value] of Object.entries(data ?? {})) {
      if (key === "services") {
        if (value === null || value === undefined) continue;
        if (!isMapping(value)) {
          add(["services"], `must be a mapping of service IDs to services (got ${describeValue(value)})`);
          continue;
        }
        for (const [id, spec] of Object.entries(value)) {
          const service = shapeService(id, spec, (segments, message) => add(["services", id, ...segments], message));
          if (service) services.set(id, service);
        }
        continue;
      }
      if (key.startsWith("x-")) continue; // free for YAML anchors and notes, as in docker-compose
      const d = fileOptionDef(key);
      if (!d) {
        const action = OPTION_DEFS.find((o) => !o.file && o.long === key.toLowerCase().replaceAll("_", "-"));
        add(
          [key],
          action
            ? `"${key}" is a command-line flag only, not a config file option`
            : `unknown option "${key}" (known: services, ${OPTION_DEFS.filter((o) => o.file).map((o) => o.long).join(", ")})`,
        );
        continue;
      }
      if (value === null || value === undefined) continue;
      try {
        (options as Record<string, unknown>)[d.key] = parseOptionValue(d, value);
      } catch (e) {
        add([key], (e as Error).message);
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { path: file, format, options, services, locate };
}

// ---- services and backends: the API's models ----------------------------------------------

const serviceValidator = compileValidator(ServiceModel, SERVICE_ERROR_PREFIXES);
const backendValidator = compileValidator(BackendModel, BACKEND_ERROR_PREFIXES);
const SERVICE_FIELDS = Object.keys(ServiceModel.properties);
const BACKEND_FIELDS = Object.keys(BackendModel.properties);
const PULSE_FIELDS = Object.keys(PulseSpecSchema.properties);
/** Case-insensitive choices: lower-cased, and "" means "not given" (as the API does). */
const SERVICE_CHOICES = ["protocol", "method", "family", "all_down"];
const BACKEND_CHOICES = ["method", "tunnel_type", "tunnel_checksum"];

type Report = (segments: readonly string[], message: string) => void;

function shapeService(id: string, spec: unknown, report: Report): RawService | undefined {
  if (!isMapping(spec)) {
    report([], `a service must be a mapping of fields (got ${describeValue(spec)})`);
    return undefined;
  }
  const { backends: backendSpecs, ...fields } = lowerKeys(spec);
  const body = shapeFields(fields, [...SERVICE_FIELDS, "backends"], SERVICE_CHOICES, report);
  let input: ServiceInput | undefined;
  if (body) input = check(serviceValidator, body, [], report) as ServiceInput | undefined;
  const backends = new Map<string, BackendInput>();
  if (backendSpecs !== undefined) {
    if (!isMapping(backendSpecs)) {
      report(["backends"], `must be a mapping of backend IDs to backends (got ${describeValue(backendSpecs)})`);
    } else {
      for (const [bid, b] of Object.entries(backendSpecs)) {
        const backend = shapeBackend(b, (segments, message) => report(["backends", bid, ...segments], message));
        if (backend) backends.set(bid, backend);
      }
    }
  }
  return input ? { id, input, backends } : undefined;
}

function shapeBackend(spec: unknown, report: Report): BackendInput | undefined {
  if (!isMapping(spec)) {
    report([], `a backend must be a mapping of fields (got ${describeValue(spec)})`);
    return undefined;
  }
  const body = shapeFields(lowerKeys(spec), BACKEND_FIELDS, BACKEND_CHOICES, report);
  if (!body) return undefined;
  const pulse = body.pulse;
  if (isMapping(pulse)) {
    const shaped = shapeFields(lowerKeys(pulse), PULSE_FIELDS, ["type"], (segments, message) => report(["pulse", ...segments], message));
    if (!shaped) return undefined;
    body.pulse = shaped;
  }
  return check(backendValidator, body, [], report) as BackendInput | undefined;
}

/** Unknown keys reported (all of them); choices lower-cased; "" choices dropped. Undefined when a key was unknown. */
function shapeFields(fields: Record<string, unknown>, known: readonly string[], choices: readonly string[], report: Report): Record<string, unknown> | undefined {
  let ok = true;
  for (const key of Object.keys(fields)) {
    if (!known.includes(key)) {
      report([key], `unknown field "${key}" (known: ${known.join(", ")})`);
      ok = false;
    }
  }
  if (!ok) return undefined;
  for (const key of choices) {
    const value = fields[key];
    if (value === "") delete fields[key];
    else if (typeof value === "string") fields[key] = value.toLowerCase();
  }
  return fields;
}

function check(validator: { check(value: unknown): unknown }, body: Record<string, unknown>, at: readonly string[], report: Report): unknown {
  try {
    return validator.check(body);
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    report([...at, ...fieldSegments(e.field)], e.message);
    return undefined;
  }
}

/** Keys lower-cased (as the API matches them); null values dropped (null means absent). */
function lowerKeys(object: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    if (value === null || value === undefined) delete out[key.toLowerCase()];
    else out[key.toLowerCase()] = value;
  }
  return out;
}

// ---- resolving: core's normalizers --------------------------------------------------------

let pulseNormalizer: Pick<HealthChecker, "normalize"> | undefined;

/** The health checker's own `normalize` (pure; no checks are ever started on this instance). */
function pulseNormalize(): Pick<HealthChecker, "normalize"> {
  pulseNormalizer ??= createHealthChecker(() => undefined);
  return pulseNormalizer;
}

/**
 * Normalizes every service and backend the way core will (resolution, defaults, cross-field
 * rules) and checks what core would refuse between them (two services on one address, two
 * backends of a service on one address). Throws ConfigError listing every problem.
 */
export async function resolveConfig(raw: RawConfig, ctx: ResolveContext = {}): Promise<ConfigFile> {
  const resolve = ctx.resolve ?? systemResolver;
  const problems: Problems = [];
  const add = (segments: readonly string[], message: string) => problems.push(problemAt(raw.path, raw.locate, segments, message));
  const services = new Map<string, ConfigService>();
  const identities = new Map<string, string>();
  const backendCtx = { resolve, health: pulseNormalize() };

  for (const [id, rawService] of raw.services) {
    const at = ["services", id];
    if (!validId(id)) {
      add(at, `a service ID must be non-empty and cannot contain "/" (got ${JSON.stringify(id)})`);
      continue;
    }
    let desired: DesiredService;
    try {
      const defaultHost = ctx.defaultHost ?? (await placeholderHost(rawService, resolve));
      const normalized = await normalizeService(rawService.input, { defaultHost, resolve });
      desired = { id, ...normalized, backends: noBackends() };
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      add([...at, ...fieldSegments(e.field)], e.message);
      continue;
    }
    const identity = serviceId(desired.service.key);
    const twin = identities.get(identity);
    if (twin !== undefined) {
      add(at, `service [${id}] has the same ${desired.options.fwmark > 0 ? "firewall mark" : "address, port and protocol"} (${identity}) as service [${twin}]`);
      continue;
    }
    identities.set(identity, id);

    const backends = new Map<string, ConfigBackend>();
    const addresses = new Map<string, string>();
    for (const [bid, input] of rawService.backends) {
      const bat = [...at, "backends", bid];
      if (!validId(bid)) {
        add(bat, `a backend ID must be non-empty and cannot contain "/" (got ${JSON.stringify(bid)})`);
        continue;
      }
      try {
        const normalized = await normalizeBackend(input, desired, backendCtx, "create");
        const address = destinationId(normalized.destination);
        const other = addresses.get(address);
        if (other !== undefined) {
          add(bat, `backend [${bid}] has the same address (${address}) as backend [${other}] of service [${id}]`);
          continue;
        }
        addresses.set(address, bid);
        backends.set(bid, { id: bid, input, options: normalized.options, address });
      } catch (e) {
        if (!(e instanceof ValidationError)) throw e;
        add([...bat, ...fieldSegments(e.field)], e.message);
      }
    }
    services.set(id, { id, input: rawService.input, options: desired.options, identity, backends });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { path: raw.path, options: raw.options, services };
}

/** Reads, parses and checks a config file completely. Throws ConfigError. */
export async function loadConfig(path: string, ctx: ResolveContext = {}): Promise<ConfigFile> {
  return resolveConfig(await readConfig(path), ctx);
}

/** Counts for "config OK: N services, M backends". */
export function countConfig(config: Pick<ConfigFile, "services">): { services: number; backends: number } {
  let backends = 0;
  for (const s of config.services.values()) backends += s.backends.size;
  return { services: config.services.size, backends };
}

/**
 * A stand-in VIP for a service without host when the default one is not known (checking a file
 * away from its host): an address of its first backend's family, so the family rule still holds.
 */
async function placeholderHost(service: RawService, resolve: Resolver): Promise<string> {
  if ((service.input.host ?? "").trim() !== "" || (service.input.fwmark ?? 0) > 0) return "0.0.0.0";
  for (const b of service.backends.values()) {
    const host = typeof b.host === "string" ? b.host.trim().replace(/^\[(.*)\]$/, "$1") : "";
    if (host === "") continue;
    if (host.includes(":")) return "::";
    if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return "0.0.0.0";
    try {
      return (await resolve(host)).includes(":") ? "::" : "0.0.0.0";
    } catch {
      return "0.0.0.0";
    }
  }
  return "0.0.0.0";
}

function validId(id: string): boolean {
  return id !== "" && !id.includes("/");
}

// ---- helpers ------------------------------------------------------------------------------

function problemAt(file: string, locate: RawConfig["locate"], segments: readonly string[], message: string): ConfigProblem {
  const pos = locate(segments);
  return { file, path: formatPath(segments), ...(pos ? { line: pos.line, column: pos.column } : {}), message };
}

function fieldSegments(field: string): string[] {
  return field === "" ? [] : field.split(".");
}

/** services.web.backends."web.v2".port — segments quoted when they hold a dot, space or quote. */
export function formatPath(segments: readonly string[]): string {
  return segments.map((s) => (s === "" || /[.\s"]/.test(s) ? JSON.stringify(s) : s)).join(".");
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value === null || value === undefined) return "nothing";
  return typeof value === "object" ? "an object" : JSON.stringify(value);
}
