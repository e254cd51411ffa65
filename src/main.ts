/**
 * @module gorb's entry point: flags → IPVS driver → core → HTTP server. Wiring only.
 */
import { networkInterfaces } from "node:os";
import pkg from "../package.json" with { type: "json" };
import { createApp } from "./api/app.ts";
import { DEFAULT_MAX_BODY_BYTES } from "./api/deps.ts";
import { FlagError, USAGE, parseFlags, parseListen, type IpvsMode } from "./config/flags.ts";
import { Core } from "./core/core.ts";
import { createHealthChecker } from "./core/pulse-checker.ts";
import type { Ipvs } from "./ipvs/ipvs.ts";
import { MemoryIpvs } from "./ipvs/memory-ipvs.ts";

async function openIpvs(mode: IpvsMode): Promise<Ipvs> {
  if (mode === "memory") return new MemoryIpvs();
  try {
    const { openKernelIpvs } = await import("./ipvs/kernel-ipvs.ts");
    return await openKernelIpvs();
  } catch (e) {
    if (mode === "kernel") throw e;
    console.error(
      [
        "",
        "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        `!! WARNING: IPVS is not available: ${(e as Error).message}`,
        "!! gorb runs on the IN-MEMORY IPVS model: NOTHING is programmed into the kernel",
        "!! and no traffic is balanced. Use --ipvs kernel to make this an error.",
        "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        "",
      ].join("\n"),
    );
    return new MemoryIpvs();
  }
}

/** The first address of the interface (GORB's default VIP), or undefined when it has none. */
function interfaceAddress(name: string): string | undefined {
  const addresses = networkInterfaces()[name];
  if (addresses === undefined) return undefined;
  return addresses[0]?.address;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  if (flags.help) {
    console.log(USAGE);
    return;
  }
  const listen = parseListen(flags.listen);
  const ipvs = await openIpvs(flags.ipvs);
  let defaultHost = interfaceAddress(flags.iface);
  if (networkInterfaces()[flags.iface] === undefined) {
    if (ipvs.kind === "kernel") throw new Error(`no such interface: ${flags.iface} (-i)`);
    console.error(`gorb: WARNING: no interface ${flags.iface} (-i); services without a host get 127.0.0.1`);
    defaultHost = "127.0.0.1";
  }
  const core = new Core({ ipvs, defaultHost, health: createHealthChecker });
  const app = createApp({ core, version: pkg.version });
  const serve = { port: listen.port, maxRequestBodySize: DEFAULT_MAX_BODY_BYTES + 1024 };
  try {
    app.listen({ ...serve, hostname: listen.hostname });
  } catch (e) {
    if (listen.hostname !== "::") throw e;
    app.listen({ ...serve, hostname: "0.0.0.0" }); // a kernel without IPv6
  }
  const server = app.server!;
  console.log(`gorb ${pkg.version}: listening on http://${server.hostname?.includes(":") ? `[${server.hostname}]` : server.hostname}:${server.port} (ipvs: ${ipvs.kind})`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`gorb: ${signal}, stopping`);
    await server.stop();
    await core.stop();
    ipvs.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((e) => {
  console.error(e instanceof FlagError ? e.message : `gorb: ${(e as Error).message ?? e}`);
  process.exit(2);
});
