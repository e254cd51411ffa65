/**
 * @module The options main starts with: command line and GORB_* variables, then the config file
 * they name (its options fill in what neither set), checked as a whole.
 */
import { readConfig, type RawConfig } from "./file.ts";
import { FlagError, checkOptions, parseCommandLine, type Env, type Options, type OptionSource } from "./flags.ts";

export interface Startup {
  readonly options: Options;
  readonly sources: Readonly<Record<keyof Options, OptionSource>>;
  /** Worth a log line each. */
  readonly warnings: readonly string[];
  /**
   * The config file read and shape-checked (no DNS yet); undefined without --config. Resolve it
   * with `resolveConfig(raw, { defaultHost, resolve })` once the default VIP is known.
   */
  readonly raw: RawConfig | undefined;
}

/**
 * Flags > GORB_* > config file > defaults. Throws FlagError (bad flag or variable, or an option
 * gorb cannot honour such as -store) or ConfigError (the file is unreadable or malformed).
 * With `-h` it returns at once (help.options.help is true; nothing else is read).
 */
export async function readStartup(argv: readonly string[], env: Env): Promise<Startup> {
  let parsed = parseCommandLine(argv, env);
  if (parsed.options.help) return { ...parsed, raw: undefined };
  let raw: RawConfig | undefined;
  if (parsed.options.config !== "") {
    raw = await readConfig(parsed.options.config);
    parsed = parseCommandLine(argv, env, raw.options);
  }
  if (!parsed.options.checkConfig) {
    const problems = checkOptions(parsed);
    if (problems.length > 0) throw new FlagError(problems[0]!);
  }
  return { ...parsed, raw };
}
