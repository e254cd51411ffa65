/**
 * @module Options from the command line, `GORB_*` environment variables and the config file,
 * in that order of precedence (then the defaults). The command line is parsed the way Go's `flag`
 * package does (GORB's): one or two dashes, `-name=value` or `-name value`, booleans only as
 * `-name` / `-name=true|false`, the same flag repeated → the last wins, `--` ends the flags.
 * GORB's flags keep their names and defaults; gorb's own are long names. Pure.
 */
import { parseDuration } from "../pulse/duration.ts";
import { parseStoreUrls } from "../discovery/store-url.ts";

export type IpvsMode = "kernel" | "memory" | "auto";
export const IPVS_MODES: readonly IpvsMode[] = ["kernel", "memory", "auto"];

/** Every option; see `OPTION_DEFS` (and docs/configuration.md) for what each does. */
export interface Options {
  /** GORB `-c`: Consul agent base URL; "" = no Consul. */
  readonly consul: string;
  /** GORB `-f`: flush the whole IPVS table at start. */
  readonly flush: boolean;
  /** GORB `-i`: interface whose first address is the default VIP (default eth0). */
  readonly iface: string;
  /** GORB `-l`: HTTP listen address (default ":4672"). */
  readonly listen: string;
  /** GORB `-v`: debug logging. */
  readonly verbose: boolean;
  /** GORB `-vipi`: interface to add each service's VIP to; "" = none. */
  readonly vipInterface: string;
  /** GORB `-store`: KV store URLs to share services through (consul:// only); "" = none. */
  readonly store: string;
  /** GORB `-store-sync-time`: seconds between store syncs (> 0). */
  readonly storeSyncTime: number;
  /** GORB `-store-service-path`. */
  readonly storeServicePath: string;
  /** GORB `-store-backend-path`. */
  readonly storeBackendPath: string;
  /** `--config FILE`: YAML, TOML or JSON file of options and services; "" = none. */
  readonly config: string;
  /** `--check-config`: validate the flags and the config file, print the result, exit. */
  readonly checkConfig: boolean;
  /** `--ipvs`: the kernel, an in-memory model, or the kernel when available. */
  readonly ipvs: IpvsMode;
  /** `--state-dir`: where the desired state is kept across restarts. */
  readonly stateDir: string;
  /** `--no-state`: keep no state on disk (GORB's behaviour: a restart forgets everything). */
  readonly noState: boolean;
  /** `--reconcile-interval` in milliseconds; 0 disables periodic reconciliation. */
  readonly reconcileIntervalMs: number;
  /** `--cleanup-on-exit`: remove gorb's services from IPVS on SIGTERM/SIGINT. */
  readonly cleanupOnExit: boolean;
  /** `-h`: print the usage and exit. */
  readonly help: boolean;
}

/** @deprecated The old name of `Options`. */
export type Flags = Options;

/** Options a config file may set (not `config`, `check-config` or `help`). */
export type FileOptions = { -readonly [K in keyof Options]?: Options[K] };

export const DEFAULT_OPTIONS: Options = Object.freeze({
  consul: "",
  flush: false,
  iface: "eth0",
  listen: ":4672",
  verbose: false,
  vipInterface: "",
  store: "",
  storeSyncTime: 60,
  storeServicePath: "services",
  storeBackendPath: "backends",
  config: "",
  checkConfig: false,
  ipvs: "kernel",
  stateDir: "/var/lib/gorb",
  noState: false,
  reconcileIntervalMs: 30_000,
  cleanupOnExit: false,
  help: false,
});

/** @deprecated The old name of `DEFAULT_OPTIONS`. */
export const DEFAULT_FLAGS: Options = DEFAULT_OPTIONS;

export type OptionKind = "string" | "bool" | "listen" | "url" | "seconds" | "duration" | "ipvs" | "path";

export interface OptionDef {
  readonly key: keyof Options;
  /** Names on the command line, GORB's short one first ("l", "listen"). */
  readonly flags: readonly string[];
  /** Long name: the config file key and, upper-cased with "_", the environment variable. */
  readonly long: string;
  readonly kind: OptionKind;
  /** `GORB_<LONG>` is read. */
  readonly env: boolean;
  /** The config file may set it. */
  readonly file: boolean;
  readonly placeholder: string;
  readonly usage: string;
  /** GORB has this flag. */
  readonly gorb: boolean;
}

function def(key: keyof Options, flags: string[], kind: OptionKind, usage: string, more: Partial<OptionDef> = {}): OptionDef {
  const long = more.long ?? flags[flags.length - 1]!;
  const placeholder = kind === "bool" ? "" : (more.placeholder ?? "VALUE");
  return { key, flags, long, kind, env: true, file: true, gorb: false, ...more, placeholder, usage };
}

/** Every option, in the order of the usage text. */
export const OPTION_DEFS: readonly OptionDef[] = [
  def("consul", ["c", "consul"], "url", "Consul agent URL to register services in, e.g. http://127.0.0.1:8500; empty: no Consul", { gorb: true, placeholder: "URL" }),
  def("flush", ["f", "flush"], "bool", "flush the whole IPVS table at start", { gorb: true }),
  def("iface", ["i", "interface"], "string", "default interface to bind services on: its first address is the VIP of services without host", { gorb: true, placeholder: "IFACE" }),
  def("listen", ["l", "listen"], "listen", "HTTP listen address, HOST:PORT or :PORT", { gorb: true, placeholder: "ADDRESS" }),
  def("verbose", ["v", "verbose"], "bool", "verbose (debug) logging", { gorb: true }),
  def("vipInterface", ["vipi"], "string", "interface to add each service's VIP to as a /32 (/128) address; empty: none", { gorb: true, placeholder: "IFACE" }),
  def("store", ["store"], "string", "comma-separated KV store URLs to share services through, e.g. consul://127.0.0.1:8500/gorb (consul only)", { gorb: true, placeholder: "URLS" }),
  def("storeSyncTime", ["store-sync-time"], "seconds", "seconds between KV store syncs (> 0)", { gorb: true, placeholder: "SECONDS" }),
  def("storeServicePath", ["store-service-path"], "path", "KV store sub-path of services", { gorb: true, placeholder: "PATH" }),
  def("storeBackendPath", ["store-backend-path"], "path", "KV store sub-path of backends", { gorb: true, placeholder: "PATH" }),
  def("config", ["config"], "string", "config file of options and services (.yaml, .yml, .toml or .json)", { file: false, placeholder: "FILE" }),
  def("checkConfig", ["check-config"], "bool", "validate the flags and the config file, print the result and exit (1 on errors)", { env: false, file: false }),
  def("ipvs", ["ipvs"], "ipvs", "IPVS to drive: kernel, memory (in-process model, programs nothing) or auto (kernel, else memory with a warning)", { placeholder: "MODE" }),
  def("stateDir", ["state-dir"], "string", "directory where the desired state is kept across restarts", { placeholder: "DIR" }),
  def("noState", ["no-state"], "bool", "keep no state on disk (a restart forgets all services, as GORB)"),
  def("reconcileIntervalMs", ["reconcile-interval"], "duration", "how often to repair the kernel table from the desired state, e.g. 30s, 5m; 0 disables", { placeholder: "DURATION" }),
  def("cleanupOnExit", ["cleanup-on-exit"], "bool", "remove gorb's services from IPVS when stopped by SIGTERM/SIGINT"),
  def("help", ["h", "help"], "bool", "print this help and exit", { env: false, file: false }),
];

const BY_FLAG = new Map<string, OptionDef>(OPTION_DEFS.flatMap((d) => d.flags.map((f) => [f, d] as const)));
const BY_KEY = new Map<keyof Options, OptionDef>(OPTION_DEFS.map((d) => [d.key, d]));

/** "store-sync-time" → "GORB_STORE_SYNC_TIME". */
export function envName(d: OptionDef): string {
  return `GORB_${d.long.toUpperCase().replaceAll("-", "_")}`;
}

const ENV_NAMES = new Map<string, OptionDef>(OPTION_DEFS.filter((d) => d.env).map((d) => [envName(d), d]));
/** GORB_* variables read elsewhere, not options: no "unknown variable" warning for them. */
const RUNTIME_ENV = new Set([
  // poll forces the tcp check's poll prober instead of io_uring (src/pulse/checks/tcp-prober.ts).
  "GORB_TCP_PROBER",
]);

/** The definition of an option by its key. */
export function optionDef(key: keyof Options): OptionDef {
  return BY_KEY.get(key)!;
}

/** The definition of a config file key: the long name, with "-" or "_" ("store_sync_time"). */
export function fileOptionDef(name: string): OptionDef | undefined {
  const long = name.toLowerCase().replaceAll("_", "-");
  return OPTION_DEFS.find((d) => d.file && d.long === long);
}

export class FlagError extends Error {
  override readonly name = "FlagError";
  constructor(
    message: string,
    /** The usage text belongs after the message (unknown flag, stray argument). */
    readonly showUsage = false,
  ) {
    super(message);
  }
}

function usageLine(d: OptionDef): string {
  // GORB's flags as GORB documents them (-l); gorb's long ones with two dashes (--config). Both forms work.
  const dash = d.gorb ? "-" : "--";
  const names = d.flags.map((f) => (f.length === 1 ? `-${f}` : `${dash}${f}`)).join(", ") + (d.placeholder ? ` ${d.placeholder}` : "");
  const value = DEFAULT_OPTIONS[d.key];
  const shownDefault = d.kind === "bool" ? "" : d.kind === "duration" ? formatMs(value as number) : String(value);
  const extra = [shownDefault !== "" && d.key !== "config" ? `default ${JSON.stringify(shownDefault)}` : "", d.env ? `env ${envName(d)}` : ""].filter(Boolean).join("; ");
  return `  ${names}\n        ${d.usage}${extra ? ` (${extra})` : ""}`;
}

export const USAGE = [
  "Usage: gorb [flags]",
  "",
  "Flags take one or two dashes: -l :4672, --listen=:4672. Booleans: -f or -f=true|false.",
  "Precedence: flag > GORB_* environment variable > config file > default.",
  "",
  "GORB's flags:",
  ...OPTION_DEFS.filter((d) => d.gorb).map(usageLine),
  "",
  "gorb's flags:",
  ...OPTION_DEFS.filter((d) => !d.gorb).map(usageLine),
].join("\n");

function formatMs(ms: number): string {
  if (ms === 0) return "0";
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

// ---- values -------------------------------------------------------------------------------

/** A value refused; the caller says where it came from. */
class ValueProblem extends Error {}

const TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** Go's strconv.ParseBool. */
export function parseBool(text: string): boolean | undefined {
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  return undefined;
}

export const MIN_RECONCILE_MS = 100;

/** One option value: a string from the command line or the environment, any JSON-ish value from a file. */
export function parseOptionValue(d: OptionDef, value: unknown): Options[keyof Options] {
  switch (d.kind) {
    case "bool": {
      if (typeof value === "boolean") return value;
      const b = typeof value === "string" ? parseBool(value) : undefined;
      if (b === undefined) throw new ValueProblem(`must be true or false (got ${JSON.stringify(value)})`);
      return b;
    }
    case "seconds": {
      const n = typeof value === "number" ? value : typeof value === "string" && /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : NaN;
      if (!Number.isSafeInteger(n)) throw new ValueProblem(`must be a whole number of seconds (got ${JSON.stringify(value)})`);
      if (n <= 0) throw new ValueProblem(`must be at least 1 second (got ${n}; GORB crashed on 0 or less)`);
      return n;
    }
    case "duration": {
      const ms = typeof value === "number" || typeof value === "string" ? parseDuration(value) : undefined;
      if (ms === undefined || !Number.isFinite(ms)) {
        throw new ValueProblem(`must be a duration such as 30s, 5m or 1m30s, or 0 to disable (got ${JSON.stringify(value)})`);
      }
      if (ms < 0) throw new ValueProblem(`must not be negative (got ${JSON.stringify(value)})`);
      if (ms > 0 && ms < MIN_RECONCILE_MS) throw new ValueProblem(`must be 0 (disabled) or at least ${MIN_RECONCILE_MS}ms (got ${JSON.stringify(value)})`);
      return Math.round(ms);
    }
    case "ipvs": {
      if (typeof value !== "string" || !(IPVS_MODES as readonly string[]).includes(value.toLowerCase())) {
        throw new ValueProblem(`must be one of ${IPVS_MODES.join(", ")} (got ${JSON.stringify(value)})`);
      }
      return value.toLowerCase() as IpvsMode;
    }
    default: {
      if (typeof value !== "string") throw new ValueProblem(`must be a string (got ${JSON.stringify(value)})`);
      if (d.kind === "listen") {
        const problem = listenProblem(value);
        if (problem) throw new ValueProblem(problem);
      } else if (d.kind === "url" && value !== "") {
        let url: URL | undefined;
        try {
          url = new URL(value);
        } catch {
          url = undefined;
        }
        if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
          throw new ValueProblem(`must be an http:// or https:// URL such as http://127.0.0.1:8500 (got ${JSON.stringify(value)})`);
        }
      } else if (d.kind === "path" && value.trim() === "") {
        throw new ValueProblem("must not be empty");
      }
      return value;
    }
  }
}

// ---- the command line ---------------------------------------------------------------------

export type OptionSource = "default" | "file" | "env" | "flag";

export interface ParsedOptions {
  readonly options: Options;
  /** Where each option's value came from. */
  readonly sources: Readonly<Record<keyof Options, OptionSource>>;
  /** Things worth a log line (unknown GORB_* variables). */
  readonly warnings: readonly string[];
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Options from the command line, the environment and the config file's options (flag > env >
 * file > default). Throws FlagError naming the flag or variable at fault. `-h` stops parsing
 * at once (help always works). Does not refuse options gorb cannot honour: see `checkOptions`.
 */
export function parseCommandLine(argv: readonly string[], env: Env = {}, file: FileOptions = {}): ParsedOptions {
  const fromFlags = parseArgv(argv);
  const out: Record<string, unknown> = { ...DEFAULT_OPTIONS };
  const sources = Object.fromEntries(OPTION_DEFS.map((d) => [d.key, "default"])) as Record<keyof Options, OptionSource>;
  if (fromFlags.get("help") === true) return { options: { ...DEFAULT_OPTIONS, help: true }, sources: { ...sources, help: "flag" }, warnings: [] };

  for (const d of OPTION_DEFS) {
    const value = file[d.key];
    if (d.file && value !== undefined) {
      out[d.key] = value;
      sources[d.key] = "file";
    }
  }
  const warnings: string[] = [];
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith("GORB_") || text === undefined) continue;
    const d = ENV_NAMES.get(name);
    if (!d) {
      if (!name.startsWith("GORB_VM_") && !RUNTIME_ENV.has(name)) warnings.push(`unknown environment variable ${name} ignored (gorb reads ${[...ENV_NAMES.keys()].join(", ")})`);
      continue;
    }
    if (text === "") continue; // set but empty: as if unset
    try {
      out[d.key] = parseOptionValue(d, text);
    } catch (e) {
      throw new FlagError(`invalid value ${JSON.stringify(text)} for environment variable ${name}: ${(e as Error).message}`);
    }
    sources[d.key] = "env";
  }
  for (const [key, value] of fromFlags) {
    out[key] = value;
    sources[key] = "flag";
  }
  return { options: out as unknown as Options, sources, warnings };
}

function parseArgv(argv: readonly string[]): Map<keyof Options, Options[keyof Options]> {
  const set = new Map<keyof Options, Options[keyof Options]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      if (i + 1 < argv.length) throw new FlagError(`unexpected argument ${JSON.stringify(argv[i + 1])}: gorb takes flags only`, true);
      break;
    }
    if (!arg.startsWith("-") || arg === "-") throw new FlagError(`unexpected argument ${JSON.stringify(arg)}: gorb takes flags only`, true);
    const body = arg.startsWith("--") ? arg.slice(2) : arg.slice(1);
    if (body === "" || body.startsWith("-") || body.startsWith("=")) throw new FlagError(`bad flag syntax: ${arg}`, true);
    const eq = body.indexOf("=");
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const inline = eq >= 0 ? body.slice(eq + 1) : undefined;
    const d = BY_FLAG.get(name);
    if (!d) throw new FlagError(`flag provided but not defined: -${name}`, true);
    if (d.key === "help" && inline === undefined) {
      set.set("help", true);
      return set;
    }
    let text = inline;
    if (d.kind === "bool") {
      text ??= "true";
    } else if (text === undefined) {
      text = argv[++i];
      if (text === undefined) throw new FlagError(`flag needs an argument: -${name}`, true);
    }
    let value: Options[keyof Options];
    try {
      value = parseOptionValue(d, text);
    } catch (e) {
      throw new FlagError(`invalid value ${JSON.stringify(text)} for flag -${name}: ${(e as Error).message}`);
    }
    if (d.key === "help" && value === true) {
      set.set("help", true);
      return set;
    }
    set.set(d.key, value);
  }
  return set;
}

/**
 * Problems with a complete set of options that parsing alone cannot see: what gorb does not
 * support (a KV store other than Consul), contradictions. Each names the option and where it came from.
 */
export function checkOptions(parsed: Pick<ParsedOptions, "options" | "sources">): string[] {
  const { options, sources } = parsed;
  const problems: string[] = [];
  const label = (key: keyof Options) => {
    const d = optionDef(key);
    const source = sources[key];
    return source === "env" ? envName(d) : source === "file" ? `"${d.long}" in the config file` : `-${d.flags[0]}`;
  };
  if (options.store !== "") {
    try {
      parseStoreUrls(options.store);
    } catch (e) {
      problems.push(`${label("store")}: ${(e as Error).message}`);
    }
  }
  return problems;
}

/**
 * The options main runs with: `parseCommandLine`, then `checkOptions`; throws FlagError on the
 * first problem. Pass `process.env` as `env` (omitted: no environment variables are read).
 */
export function parseFlags(argv: readonly string[], env: Env = {}, file: FileOptions = {}): Options {
  const parsed = parseCommandLine(argv, env, file);
  if (parsed.options.help) return parsed.options;
  const problems = checkOptions(parsed);
  if (problems.length > 0) throw new FlagError(problems[0]!);
  return parsed.options;
}

const LISTEN = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/;

function listenProblem(listen: string): string | undefined {
  const m = LISTEN.exec(listen.trim());
  if (!m) return `must be HOST:PORT or :PORT, e.g. ":4672" or "127.0.0.1:4672" (got ${JSON.stringify(listen)})`;
  if (Number(m[3]) > 65535) return `port out of range: ${m[3]} (0-65535)`;
  return undefined;
}

/** ":4672" → all addresses; "127.0.0.1:0", "[::1]:4672", "localhost:80". */
export function parseListen(listen: string): { hostname: string; port: number } {
  const problem = listenProblem(listen);
  if (problem) throw new FlagError(`-l ${problem}`);
  const m = LISTEN.exec(listen.trim())!;
  const hostname = m[1] ?? m[2] ?? "";
  return { hostname: hostname === "" ? "::" : hostname, port: Number(m[3]) };
}
