/**
 * @module `gorb --check-config`: validates the flags, the GORB_* variables and the config file
 * exactly as a start would, without touching IPVS, the state directory or the network (beyond
 * resolving host names). Prints "config OK: N services, M backends" or every problem.
 */
import { networkInterfaces } from "node:os";
import type { Resolver } from "../core/fields.ts";
import { ConfigError, countConfig, readConfig, resolveConfig, type ConfigProblem, type RawConfig, type ResolveContext } from "./file.ts";
import { FlagError, checkOptions, parseCommandLine, type Env, type ParsedOptions } from "./flags.ts";

/**
 * True when the command line asks for --check-config; main then calls `runCheckConfig` before
 * opening anything. Bad flags elsewhere do not hide it (runCheckConfig reports them).
 */
export function wantsCheckConfig(argv: readonly string[]): boolean {
  try {
    return parseCommandLine(argv).options.checkConfig;
  } catch {
    return argv.some((a) => /^--?check-config(=(1|t|T|true|TRUE|True))?$/.test(a));
  }
}

/** Every problem of a config file (empty when it is valid). */
export async function checkConfig(path: string, ctx: ResolveContext = {}): Promise<ConfigProblem[]> {
  try {
    await resolveConfig(await readConfig(path), ctx);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
}

export interface CheckIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** The host's interfaces and their addresses (first = the default VIP). Default: this host's. */
  readonly interfaces?: () => Readonly<Record<string, readonly string[]>>;
  readonly resolve?: Resolver;
}

const consoleIo: CheckIo = { out: (l) => console.log(l), err: (l) => console.error(l) };

/** This host's network interfaces and their addresses. */
export function hostInterfaces(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, addresses] of Object.entries(networkInterfaces())) out[name] = (addresses ?? []).map((a) => a.address);
  return out;
}

/**
 * The whole check; returns the exit code (0 valid, 1 not). Errors go to `io.err` one per line,
 * warnings (missing interfaces: this may not be the host the file is for) too, prefixed "warning:".
 */
export async function runCheckConfig(argv: readonly string[], env: Env, io: CheckIo = consoleIo): Promise<number> {
  const errors: string[] = [];
  let parsed: ParsedOptions;
  let raw: RawConfig | undefined;
  try {
    parsed = parseCommandLine(argv, env);
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    return fail(io, [e.message]);
  }
  if (parsed.options.config !== "") {
    try {
      raw = await readConfig(parsed.options.config);
      parsed = parseCommandLine(argv, env, raw.options);
    } catch (e) {
      if (e instanceof FlagError) return fail(io, [e.message]);
      if (e instanceof ConfigError) return fail(io, e.message.split("\n"));
      throw e;
    }
  }
  const { options } = parsed;
  for (const w of parsed.warnings) io.err(`warning: ${w}`);
  errors.push(...checkOptions(parsed));

  const interfaces = (io.interfaces ?? hostInterfaces)();
  const defaultHost = interfaces[options.iface]?.[0];
  if (defaultHost === undefined) {
    const why = options.iface in interfaces ? "has no address" : "does not exist";
    io.err(`warning: interface ${JSON.stringify(options.iface)} (-i) ${why} on this host: services without "host" are checked with a stand-in VIP`);
  }
  if (options.vipInterface !== "" && !(options.vipInterface in interfaces)) {
    io.err(`warning: interface ${JSON.stringify(options.vipInterface)} (-vipi) does not exist on this host`);
  }

  let services = 0;
  let backends = 0;
  if (raw) {
    try {
      const config = await resolveConfig(raw, { defaultHost, ...(io.resolve ? { resolve: io.resolve } : {}) });
      ({ services, backends } = countConfig(config));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      errors.push(...e.message.split("\n"));
    }
  }
  if (errors.length > 0) return fail(io, errors);
  io.out(
    raw
      ? `config OK: ${plural(services, "service")}, ${plural(backends, "backend")} (${raw.path})`
      : "config OK: flags and environment only (no --config file)",
  );
  return 0;
}

function fail(io: CheckIo, errors: readonly string[]): number {
  for (const line of errors) io.err(line);
  io.err(`config NOT OK: ${plural(errors.length, "problem")}`);
  return 1;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
