/**
 * `npm run bench:api [-- --quick]`: starts gorb on MemoryIpvs in a child process (127.0.0.1, port
 * 0), drives it from this process, prints a table and writes bench/results/api.json.
 * `-- --url http://host:port` benchmarks a gorb that is already running (e.g. on the kernel in the
 * VM) instead, and writes bench/results/api-<kind>.json with `--kind <kind>` (default "external").
 */
import { mkdir } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { runApiBench, type ApiBenchResult, type Scenario } from "./bench.ts";

const quick = process.argv.includes("--quick");
const argValue = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const externalUrl = argValue("--url");
const kind = externalUrl ? (argValue("--kind") ?? "external") : "memory";
const root = join(import.meta.dir, "..", "..");

/** The targets of the issue, on MemoryIpvs with the client on the same 2-core machine. */
const TARGETS: Record<Scenario, number> = { "get-service": 10_000, "put-backend": 3_000, "patch-weight": 3_000 };

function check(r: ApiBenchResult): string[] {
  const misses: string[] = [];
  if (r.clients === 16) {
    if (r.requestsPerSecond < TARGETS[r.scenario]) misses.push(`${r.scenario}/16: ${r.requestsPerSecond.toFixed(0)} req/s < ${TARGETS[r.scenario]}`);
    if (r.p99Ms >= 10) misses.push(`${r.scenario}/16: p99 ${r.p99Ms.toFixed(2)} ms ≥ 10`);
  }
  if (r.clients === 64) {
    if (r.errors > 0) misses.push(`${r.scenario}/64: ${r.errors} errors`);
    if (r.p99Ms >= 50) misses.push(`${r.scenario}/64: p99 ${r.p99Ms.toFixed(2)} ms ≥ 50`);
  }
  return misses;
}

async function startServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = Bun.spawn([process.execPath, join(root, "src/main.ts"), "--ipvs", "memory", "-l", "127.0.0.1:0", "-i", "lo"], {
    stdout: "pipe",
    stderr: "inherit",
    cwd: root,
  });
  const reader = child.stdout.getReader();
  let text = "";
  const decoder = new TextDecoder();
  while (!/listening on (http:\/\/\S+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`gorb exited before listening: ${text}`);
    text += decoder.decode(value);
  }
  const url = /listening on (http:\/\/\S+)/.exec(text)![1]!;
  // Keep draining stdout so the child never blocks on a full pipe.
  void (async () => {
    while (!(await reader.read()).done) {}
  })();
  return {
    url,
    stop: async () => {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}

const loadBefore = loadavg();
const server = externalUrl ? { url: externalUrl, stop: async () => {} } : await startServer();
console.log(`gorb (${kind}) at ${server.url}; ${quick ? "quick run" : "full run"}`);
try {
  const results = await runApiBench({
    baseUrl: server.url,
    durationMs: quick ? 1000 : 4000,
    warmupMs: quick ? 300 : 1000,
    log: (line) => console.log(line),
  });
  const misses = results.flatMap(check);
  const report = {
    date: new Date().toISOString(),
    quick,
    ipvs: kind,
    host: { cpus: cpus().length, model: cpus()[0]?.model ?? "", bun: Bun.version, platform: process.platform },
    // Other work on the machine skews the tails: the 1-minute load average before and after.
    loadAverage: { before: loadBefore[0], after: loadavg()[0] },
    targets: { "16 clients": { ...TARGETS, p99Ms: 10 }, "64 clients": { errors: 0, p99Ms: 50 } },
    results,
    targetsMet: misses.length === 0,
    misses,
  };
  await mkdir(join(root, "bench/results"), { recursive: true });
  const file = kind === "memory" ? "api.json" : `api-${kind}.json`;
  await Bun.write(join(root, "bench/results", file), JSON.stringify(report, null, 2) + "\n");
  console.log(misses.length === 0 ? "all targets met" : `targets missed:\n  ${misses.join("\n  ")}`);
  console.log(`wrote bench/results/${file}`);
} finally {
  await server.stop();
}
