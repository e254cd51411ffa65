/**
 * @module Pulse benchmark: N backends with 1 s TCP checks against loopback listeners (run in a
 * separate process, so the CPU measured is the checker's), once all up and once with 10 %
 * refusing connections. Measures CPU share of one core, max RSS and scheduling lateness.
 *
 *   bun bench/pulse/run.ts             10,000 backends, 60 s per scenario → bench/results/pulse.json
 *   bun bench/pulse/run.ts --quick     1,000 backends, 10 s per scenario → bench/results/pulse-quick.json
 *   options: --backends N --seconds S --warmup S --listeners N --tcp ffi|bun|node --no-floor --out FILE
 *   (--tcp: ffi = the libc prober checks/tcp.ts uses, bun = its Bun.connect fallback, node = node:net)
 *
 * A third scenario runs the same backends with the `none` check: what the scheduler, state
 * machine and updates cost without any socket work. When a C compiler is present,
 * connect-floor.c runs the same connect rate with no runtime at all: the kernel's share.
 *
 * One process needs few descriptors (checks are short); the listener process holds one per
 * in-flight connection. If you raise --backends far beyond 10,000, raise `ulimit -n` too.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { Pulse } from "../../src/pulse/pulse.ts";
import { normalizePulseSpec } from "../../src/pulse/spec.ts";
import { Histogram } from "./histogram.ts";
import { checkTcp, checkTcpBun, tcpCheckImplementation } from "../../src/pulse/checks/tcp.ts";
import { tcpProber } from "../../src/pulse/checks/tcp-prober.ts";
import type { Checker } from "../../src/pulse/types.ts";
import { checkTcpNode } from "./node-tcp.ts";

const { values: args } = parseArgs({
  args: Bun.argv.slice(2).filter((a) => a !== "--"),
  options: {
    quick: { type: "boolean", default: false },
    backends: { type: "string" },
    seconds: { type: "string" },
    warmup: { type: "string" },
    listeners: { type: "string", default: "16" },
    tcp: { type: "string", default: "ffi" },
    "no-floor": { type: "boolean", default: false },
    out: { type: "string" },
  },
});
const quick = args.quick === true;
const backends = Number(args.backends ?? (quick ? 1_000 : 10_000));
const seconds = Number(args.seconds ?? (quick ? 10 : 60));
const warmup = Number(args.warmup ?? (quick ? 2 : 5));
const root = join(import.meta.dir, "..", "..");
const out = args.out ?? join(root, "bench", "results", quick ? "pulse-quick.json" : "pulse.json");
const TARGETS = { cpu_share: 0.25, rss_mb: 100, lateness_p99_ms: 10 };

/** The tcp checker `--tcp` picks, and the name the report gives it. */
function tcpChecker(): { checker: Checker; name: string } {
  switch (args.tcp) {
    case "ffi":
      // Refuse to measure the fallback under the prober's name.
      if (tcpCheckImplementation() !== "libc") throw new Error("--tcp ffi: libc could not be loaded through bun:ffi");
      return { checker: checkTcp, name: `libc prober (bun:ffi): ${tcpProber()!.name}` };
    case "bun":
      return { checker: checkTcpBun, name: "Bun.connect" };
    case "node":
      return { checker: checkTcpNode, name: "node:net" };
    default:
      throw new Error(`--tcp ${args.tcp}: expected ffi, bun or node`);
  }
}
const tcp = tcpChecker();

/** A port below 1024 that refuses: never an ephemeral source port, so no TCP self-connect. */
async function refusingPort(): Promise<number> {
  for (const port of [9, 7, 13, 1, 19, 37]) {
    const ok = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {}, connectError() {} } }).then((s) => (s.terminate(), true), () => false);
    if (!ok) return port;
  }
  throw new Error("no refusing port below 1024 on 127.0.0.1");
}

/** utime + stime of a process in seconds, from /proc (Linux). */
function processCpuSeconds(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

const round = (n: number, digits = 3) => Number(n.toFixed(digits));

async function scenario(name: string, type: "tcp" | "none", ports: number[], downPort: number, downShare: number) {
  const load0 = loadavg()[0]!;
  Bun.gc(true);
  const rssBefore = process.memoryUsage().rss;
  const lateness = new Histogram();
  let measuring = false;
  let ok = 0;
  let failed = 0;
  let weightWrites = 0;
  const pulse: Pulse = new Pulse({
    onLateness: (ms) => {
      if (measuring) lateness.add(ms);
    },
    onUpdate: (u) => {
      if (!measuring) return;
      if (u.result.ok) ok++;
      else failed++;
      // What core does: recompute the effective weight when it may have moved.
      if (u.changed && pulse.effectiveWeight(u.id, 100) !== undefined) weightWrites++;
    },
    checkers: { tcp: tcp.checker },
  });
  const spec = normalizePulseSpec({ type, interval: "1s" });
  const downEvery = downShare > 0 ? Math.round(1 / downShare) : 0;
  for (let i = 0; i < backends; i++) {
    const down = downEvery > 0 && i % downEvery === 0;
    pulse.add(`rs-${i}`, { host: "127.0.0.1", port: down ? downPort : ports[i % ports.length]! }, spec, 100);
  }

  let rssMax = 0;
  const sampler = setInterval(() => {
    if (measuring) rssMax = Math.max(rssMax, process.memoryUsage().rss);
  }, 200);
  await Bun.sleep(warmup * 1000);
  measuring = true;
  const cpu0 = process.cpuUsage();
  const prober0 = proberCounters();
  const t0 = performance.now();
  const listenerCpu0 = listenerPid === undefined ? null : processCpuSeconds(listenerPid);
  rssMax = process.memoryUsage().rss;
  await Bun.sleep(seconds * 1000);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const listenerCpu1 = listenerPid === undefined ? null : processCpuSeconds(listenerPid);
  measuring = false;
  clearInterval(sampler);
  const statuses = { up: 0, down: 0, unknown: 0 };
  for (let i = 0; i < backends; i++) statuses[pulse.metrics(`rs-${i}`)!.status]++;
  await pulse.stop();

  const wallUs = wallMs * 1000;
  const result = {
    cpu_share: round((cpu.user + cpu.system) / wallUs),
    cpu_user_share: round(cpu.user / wallUs),
    cpu_system_share: round(cpu.system / wallUs),
    rss_mb: round(rssMax / 2 ** 20, 1),
    rss_before_backends_mb: round(rssBefore / 2 ** 20, 1),
    lateness_p50_ms: round(lateness.quantile(0.5)),
    lateness_p99_ms: round(lateness.quantile(0.99)),
    lateness_max_ms: round(lateness.max),
    checks_per_second: round((ok + failed) / (wallMs / 1000), 1),
    cpu_us_per_check: round((cpu.user + cpu.system) / Math.max(1, ok + failed), 1),
    results_ok: ok,
    results_failed: failed,
    weight_recomputations: weightWrites,
    statuses_at_end: statuses,
    listener_process_cpu_share: listenerCpu0 === null || listenerCpu1 === null ? null : round((listenerCpu1 - listenerCpu0) / (wallMs / 1000)),
    wall_seconds: round(wallMs / 1000, 2),
    prober: proberDelta(prober0),
    // Other load on the machine distorts lateness: recorded so a noisy run can be told apart.
    load_average_1m: [round(load0, 2), round(loadavg()[0]!, 2)],
  };
  console.log(name, result);
  Bun.gc(true);
  await Bun.sleep(500);
  return result;
}

let listenerPid: number | undefined;

/** The libc prober's totals (with --tcp ffi), to show how many connects the first poll settled. */
function proberCounters() {
  const counters = args.tcp === "ffi" ? tcpProber()?.counters : undefined;
  return counters === undefined ? null : { ...counters };
}

function proberDelta(before: ReturnType<typeof proberCounters>) {
  const now = proberCounters();
  if (before === null || now === null) return null;
  const started = now.started - before.started;
  return {
    connects_in_progress: started,
    settled_at_first_poll: now.settledAtFirstPoll - before.settledAtFirstPoll,
    waited_in_epoll: now.waited - before.waited,
    connects_per_poll: round(started / Math.max(1, now.polls - before.polls), 1),
  };
}

/** Runs connect-floor.c at `rate` connects/s against the listeners, or null without a compiler. */
function kernelFloor(rate: number, ports: number[]): Record<string, number> | null {
  const cc = Bun.which("cc") ?? Bun.which("gcc");
  if (cc === null || args["no-floor"] === true) return null;
  const dir = mkdtempSync(join(tmpdir(), "pulse-floor-"));
  try {
    const binary = join(dir, "connect-floor");
    if (Bun.spawnSync([cc, "-O2", "-o", binary, join(import.meta.dir, "connect-floor.c")]).exitCode !== 0) return null;
    const run = Bun.spawnSync([binary, String(rate), String(Math.min(seconds, 20)), ...ports.map(String)]);
    return run.exitCode === 0 ? (JSON.parse(run.stdout.toString()) as Record<string, number>) : null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const listener = Bun.spawn([process.execPath, join(import.meta.dir, "listener.ts"), String(args.listeners)], { stdout: "pipe", stderr: "inherit" });
  listenerPid = listener.pid;
  try {
    const reader = listener.stdout.getReader();
    const { value } = await reader.read();
    reader.releaseLock();
    const { ports } = JSON.parse(new TextDecoder().decode(value)) as { ports: number[] };
    const downPort = await refusingPort();
    console.log(`pulse bench: ${backends} backends, 1s tcp checks, ${seconds}s per scenario after ${warmup}s warm-up, ${ports.length} listener ports, tcp=${tcp.name}`);

    const allUp = await scenario("all_up", "tcp", ports, downPort, 0);
    const tenDown = await scenario("ten_percent_down", "tcp", ports, downPort, 0.1);
    const machinery = await scenario("scheduler_only_none_check", "none", ports, downPort, 0);
    const scenarios = { all_up: allUp, ten_percent_down: tenDown, scheduler_only_none_check: machinery };
    const floor = kernelFloor(backends, ports);
    if (floor) console.log("kernel_floor_c_all_up", floor);
    const worst = (key: "cpu_share" | "rss_mb" | "lateness_p50_ms" | "lateness_p99_ms") => Math.max(allUp[key], tenDown[key]);
    const report = {
      benchmark: "pulse",
      mode: quick ? "quick" : "full",
      date: new Date().toISOString(),
      runtime: `bun ${Bun.version}`,
      platform: `${process.platform} ${process.arch}`,
      cpus: cpus().length,
      backends,
      seconds,
      warmup_seconds: warmup,
      interval_ms: 1000,
      check: "tcp",
      tcp_impl: tcp.name,
      listener_ports: ports.length,
      note: "top-level figures are the worst of the two tcp scenarios; cpu includes kernel time of loopback connects, part of which is the listener side's TCP work charged to the connecting process",
      cpu_share: worst("cpu_share"),
      rss_mb: worst("rss_mb"),
      lateness_p50_ms: worst("lateness_p50_ms"),
      lateness_p99_ms: worst("lateness_p99_ms"),
      targets: TARGETS,
      meets_targets: {
        cpu_share: worst("cpu_share") < TARGETS.cpu_share,
        rss_mb: worst("rss_mb") < TARGETS.rss_mb,
        lateness_p99_ms: worst("lateness_p99_ms") < TARGETS.lateness_p99_ms,
      },
      scenarios,
      kernel_floor_c_all_up: floor,
    };
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`wrote ${out}`);
  } finally {
    listener.kill();
  }
}

await main();
