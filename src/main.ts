/**
 * @module gorb's entry point: options → IPVS driver → state store → core (start-up: restore and
 * adopt) → HTTP server → periodic reconcile; SIGTERM/SIGINT stop it gracefully. Wiring only.
 */
import { networkInterfaces } from "node:os";
import pkg from "../package.json" with { type: "json" };
import { createApp } from "./api/app.ts";
import { DEFAULT_MAX_BODY_BYTES } from "./api/deps.ts";
import { applyConfig, configReloader, formatResult } from "./config/apply.ts";
import { runCheckConfig, wantsCheckConfig } from "./config/check.ts";
import { EMPTY_CONFIG, resolveConfig, type RawConfig } from "./config/file.ts";
import { FlagError, USAGE, parseListen, type IpvsMode, type Options } from "./config/flags.ts";
import { readStartup } from "./config/startup.ts";
import { notifyReady, notifyReloading, notifyStopping, startWatchdog } from "./config/systemd.ts";
import { Core } from "./core/core.ts";
import { createHealthChecker } from "./core/pulse-checker.ts";
import { Reconciler } from "./core/reconciler.ts";
import type { StartupReport } from "./core/startup.ts";
import { openStateStore } from "./core/state-dir.ts";
import type { Ipvs } from "./ipvs/ipvs.ts";
import { MemoryIpvs } from "./ipvs/memory-ipvs.ts";
import type { InterfaceAddresses } from "./net/interfaces.ts";
import { MemoryInterfaceAddresses } from "./net/memory-interfaces.ts";
import { VipManager } from "./core/vips.ts";
import type { ConsulSync } from "./discovery/consul.ts";
import type { KvSync } from "./discovery/kv-sync.ts";
import { parseStoreUrls } from "./discovery/store-url.ts";
import { tcpProberName } from "./pulse/checks/tcp.ts";

/** A graceful stop that takes longer than this (a request stuck in flight) exits anyway. */
const STOP_DEADLINE_MS = 10_000;

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

/**
 * The addresses of the -vipi interface: the kernel's (rtnetlink) with a kernel IPVS, else an
 * in-memory copy of the host's interface, so memory mode changes nothing on the host.
 */
async function openInterfaces(kind: Ipvs["kind"], ifname: string): Promise<InterfaceAddresses> {
  if (kind === "memory") {
    const copy = MemoryInterfaceAddresses.copyOfHost(ifname);
    if (!copy) throw new FlagError(`no such interface: ${ifname} (-vipi)`);
    return copy;
  }
  const { openKernelInterfaces } = await import("./net/kernel-interfaces.ts");
  const interfaces = openKernelInterfaces();
  if (!(await interfaces.exists(ifname))) {
    interfaces.close();
    throw new FlagError(`no such interface: ${ifname} (-vipi)`);
  }
  return interfaces;
}

/** The first address of the interface (GORB's default VIP), or undefined when it has none. */
function interfaceAddress(name: string): string | undefined {
  const addresses = networkInterfaces()[name];
  if (addresses === undefined) return undefined;
  return addresses[0]?.address;
}

function describeStartup(r: StartupReport, stateFile: string | null): string {
  const from = stateFile ?? "memory";
  const changes = r.reconcile.repaired + r.reconcile.failed === 0 ? "nothing to change" : `${r.reconcile.repaired} repair(s)${r.reconcile.failed ? `, ${r.reconcile.failed} FAILED` : ""}`;
  const kept = r.keptWeights ? `; ${r.keptWeights} kernel weight(s) kept until their first health check` : "";
  const foreign = r.reconcile.foreign.length ? `; ${r.reconcile.foreign.length} foreign service(s) left alone` : "";
  const vips = r.vips?.length ? `; VIPs: ${r.vips.length} put back or removed` : "";
  return `gorb: state ${from}: restored ${r.services} service(s), ${r.backends} backend(s); kernel: ${r.flushed ? "flushed (-f), " : ""}adopted ${r.adopted}, ${changes}${kept}${foreign}${vips} (${r.durationMs.toFixed(1)} ms)`;
}

/**
 * The config file's services, through core's commands, over the restored state (what already
 * matches is left as it is); SIGHUP reloads the file and applies what changed.
 */
async function applyConfigFile(core: Core, raw: RawConfig, path: string, defaultHost: string | undefined): Promise<void> {
  const log = (line: string) => console.log(`gorb: ${line}`);
  const applied = await applyConfig(core, EMPTY_CONFIG, await resolveConfig(raw, { defaultHost }));
  for (const r of applied.results) if (r.outcome !== "unchanged") log(`config: ${formatResult(r)}`);
  const reloader = configReloader(core, applied.config, { defaultHost, path }, log);
  process.on("SIGHUP", () => {
    // systemd (Type=notify) is told when a reload starts and when gorb is ready again.
    notifyReloading("reloading the config file");
    void reloader
      .reload()
      .catch((e) => log(`config reload failed: ${(e as Error).message}`))
      .finally(() => notifyReady("config reloaded"));
  });
}

async function startConsul(url: string): Promise<ConsulSync> {
  const { ConsulSync, consulRegistry } = await import("./discovery/consul.ts");
  return new ConsulSync({ registry: consulRegistry(url) });
}

/** GORB's -store: the first sync runs before the API serves, as in GORB; then write-through and periodic syncs. */
async function startStoreSync(core: Core, flags: Options, defaultHost: string | undefined): Promise<KvSync> {
  // Loaded only when used: the Consul client is not needed at every start.
  const [{ consulKvStore }, { KvSync }] = await Promise.all([import("./discovery/kv-store.ts"), import("./discovery/kv-sync.ts")]);
  const store = consulKvStore(parseStoreUrls(flags.store));
  const sync = new KvSync({ store, servicePath: flags.storeServicePath, backendPath: flags.storeBackendPath, intervalMs: flags.storeSyncTime * 1000, defaultHost });
  const report = await sync.start(core);
  console.log(`gorb: store ${store.location}: first sync ${report.outcome}${report.outcome === "failed" ? ` (retried every ${flags.storeSyncTime} s)` : `, ${report.changes} change(s)`}`);
  return sync;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (wantsCheckConfig(argv)) process.exit(await runCheckConfig(argv, process.env));
  const { options: flags, sources, warnings, raw } = await readStartup(argv, process.env);
  if (flags.help) {
    console.log(USAGE);
    return;
  }
  for (const w of warnings) console.error(`gorb: WARNING: ${w}`);
  const listen = parseListen(flags.listen);
  const ipvs = await openIpvs(flags.ipvs);
  let defaultHost = interfaceAddress(flags.iface);
  if (networkInterfaces()[flags.iface] === undefined) {
    if (ipvs.kind === "kernel") throw new Error(`no such interface: ${flags.iface} (-i)`);
    console.error(`gorb: WARNING: no interface ${flags.iface} (-i); services without a host get 127.0.0.1`);
    defaultHost = "127.0.0.1";
  }

  const state = openStateStore({ stateDir: flags.stateDir, noState: flags.noState, stateDirGiven: sources.stateDir !== "default", ipvsKind: ipvs.kind });
  if (state.note) console.error(`gorb: ${state.note}`);
  const interfaces = flags.vipInterface ? await openInterfaces(ipvs.kind, flags.vipInterface) : undefined;
  const vips = interfaces && new VipManager({ interfaces, ifname: flags.vipInterface, store: state.store });
  const core = new Core({ ipvs, store: state.store, defaultHost, health: createHealthChecker, ...(vips ? { vips } : {}) });
  const startup = await core.start({ flush: flags.flush });
  console.log(describeStartup(startup, state.path));
  const kvSync = flags.store ? await startStoreSync(core, flags, defaultHost) : undefined;
  const consul = flags.consul ? await startConsul(flags.consul) : undefined;
  // GORB registers itself as "gorb" at the first -i address and the listen port.
  consul?.start(core, defaultHost && listen.port !== 0 ? { name: "gorb", address: defaultHost, port: listen.port } : undefined);
  if (raw) await applyConfigFile(core, raw, flags.config, defaultHost);

  const reconciler = new Reconciler(core, flags.reconcileIntervalMs);
  const startedAt = new Date().toISOString();
  const app = createApp({ core, version: pkg.version, reconciler, daemon: { version: pkg.version, stateFile: state.path, startedAt, startup: () => startup } });
  const serve = { port: listen.port, maxRequestBodySize: DEFAULT_MAX_BODY_BYTES + 1024 };
  try {
    app.listen({ ...serve, hostname: listen.hostname });
  } catch (e) {
    if (listen.hostname !== "::") throw e;
    app.listen({ ...serve, hostname: "0.0.0.0" }); // a kernel without IPv6
  }
  const server = app.server!;
  reconciler.start();
  const every = flags.reconcileIntervalMs > 0 ? `every ${flags.reconcileIntervalMs / 1000} s` : "disabled";
  console.log(
    `gorb ${pkg.version}: listening on http://${server.hostname?.includes(":") ? `[${server.hostname}]` : server.hostname}:${server.port} (ipvs: ${ipvs.kind}; reconcile ${every}; tcp checks: ${tcpProberName()})`,
  );

  notifyReady(`listening on ${server.hostname}:${server.port}`);
  const watchdog = startWatchdog();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      console.error(`gorb: ${signal} again: exiting at once`);
      process.exit(1);
    }
    stopping = true;
    notifyStopping();
    watchdog?.stop();
    const started = performance.now();
    console.log(`gorb: ${signal}: stopping (the kernel's IPVS table is ${flags.cleanupOnExit ? "cleaned up" : "kept, so traffic keeps flowing"})`);
    setTimeout(() => {
      console.error(`gorb: could not stop within ${STOP_DEADLINE_MS / 1000} s: exiting`);
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    let code = 0;
    try {
      // Stop accepting; requests in flight finish (their commands complete, with their locks).
      await Promise.all([server.stop(), reconciler.stop()]);
      await core.stop();
      await Promise.all([consul?.stop(), kvSync?.stop()]);
      if (flags.cleanupOnExit) await core.cleanup();
      await state.store.close();
      ipvs.close();
      interfaces?.close();
    } catch (e) {
      console.error(`gorb: error while stopping: ${(e as Error).message}`);
      code = 1;
    }
    console.log(`gorb: stopped in ${(performance.now() - started).toFixed(0)} ms`);
    process.exit(code);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((e) => {
  console.error(e instanceof FlagError ? e.message : `gorb: ${(e as Error).message ?? e}`);
  process.exit(2);
});
