/**
 * @module Command-line flags, parsed the way Go's `flag` package does (GORB's): one or two dashes,
 * `-name=value` or `-name value`, booleans only as `-name` / `-name=true`. Pure.
 */

export type IpvsMode = "kernel" | "memory" | "auto";

export interface Flags {
  /** Which IPVS to drive: the kernel, an in-memory model, or the kernel when available. */
  readonly ipvs: IpvsMode;
  /** HTTP listen address, GORB's `-l` (default ":4672"). */
  readonly listen: string;
  /** Interface whose first address is the default VIP, GORB's `-i` (default eth0). */
  readonly iface: string;
  readonly help: boolean;
}

export const DEFAULT_FLAGS: Flags = { ipvs: "kernel", listen: ":4672", iface: "eth0", help: false };

export class FlagError extends Error {
  override readonly name = "FlagError";
}

export const USAGE = `Usage: gorb [flags]
  -ipvs kernel|memory|auto  IPVS to drive (default kernel; auto = kernel, else memory with a warning)
  -l, -listen ADDRESS       HTTP listen address (default ":4672")
  -i INTERFACE              default interface to bind services on (default "eth0")
  -h, -help                 show this help`;

const STRING_FLAGS: Record<string, keyof Flags> = { ipvs: "ipvs", l: "listen", listen: "listen", i: "iface" };
const BOOL_FLAGS: Record<string, keyof Flags> = { h: "help", help: "help" };

export function parseFlags(argv: readonly string[]): Flags {
  const out: { -readonly [K in keyof Flags]: Flags[K] } = { ...DEFAULT_FLAGS };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") break;
    if (!arg.startsWith("-") || arg === "-") throw new FlagError(`unexpected argument ${JSON.stringify(arg)}\n${USAGE}`);
    const body = arg.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const inline = eq >= 0 ? body.slice(eq + 1) : undefined;
    const bool = BOOL_FLAGS[name];
    if (bool) {
      if (inline !== undefined && inline !== "true" && inline !== "false") throw new FlagError(`invalid boolean value ${JSON.stringify(inline)} for -${name}`);
      (out as Record<string, unknown>)[bool] = inline === undefined || inline === "true";
      continue;
    }
    const key = STRING_FLAGS[name];
    if (!key) throw new FlagError(`flag provided but not defined: -${name}\n${USAGE}`);
    let value = inline;
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new FlagError(`flag needs an argument: -${name}`);
    }
    (out as Record<string, unknown>)[key] = value;
  }
  if (!["kernel", "memory", "auto"].includes(out.ipvs)) throw new FlagError(`-ipvs must be kernel, memory or auto (got ${JSON.stringify(out.ipvs)})`);
  return out;
}

/** ":4672" → all addresses; "127.0.0.1:0", "[::1]:4672", "localhost:80". */
export function parseListen(listen: string): { hostname: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(listen.trim());
  if (!m) throw new FlagError(`-l must be HOST:PORT or :PORT (got ${JSON.stringify(listen)})`);
  const port = Number(m[3]);
  if (port > 65535) throw new FlagError(`-l port out of range: ${port}`);
  const hostname = m[1] ?? m[2] ?? "";
  return { hostname: hostname === "" ? "::" : hostname, port };
}
