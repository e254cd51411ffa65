/**
 * @module Which TCP connect is cheapest for the check: the libc prober (what checks/tcp.ts
 * uses), Bun.connect (its fallback) or node:net. Runs bench/pulse/run.ts once per
 * implementation, same load, and writes bench/results/pulse-tcp-compare.json.
 *
 *   bun bench/pulse/tcp-compare.ts [--backends 5000] [--seconds 10]
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Bun.argv.slice(2).filter((a) => a !== "--"),
  options: { backends: { type: "string", default: "5000" }, seconds: { type: "string", default: "10" } },
});
const results = join(import.meta.dir, "..", "results");
mkdirSync(results, { recursive: true });

interface Scenario { cpu_share: number; cpu_user_share: number; cpu_system_share: number; cpu_us_per_check: number; rss_mb: number; lateness_p99_ms: number }
const summary: Record<string, Record<string, Scenario>> = {};
const NAMES: Record<string, string> = { ffi: "libc prober (bun:ffi)", bun: "Bun.connect", node: "node:net" };
for (const impl of ["ffi", "bun", "node"]) {
  const out = join(results, `.pulse-compare-${impl}.tmp`);
  const run = Bun.spawnSync(
    [process.execPath, join(import.meta.dir, "run.ts"), "--backends", values.backends!, "--seconds", values.seconds!, "--warmup", "2", "--tcp", impl, "--no-floor", "--out", out],
    { stdout: "inherit", stderr: "inherit" },
  );
  if (run.exitCode !== 0) throw new Error(`run.ts --tcp ${impl} failed`);
  const report = JSON.parse(readFileSync(out, "utf8")) as { scenarios: Record<string, Scenario> };
  rmSync(out);
  summary[NAMES[impl]!] = Object.fromEntries(
    ["all_up", "ten_percent_down"].map((name) => {
      const s = report.scenarios[name]!;
      return [name, { cpu_share: s.cpu_share, cpu_user_share: s.cpu_user_share, cpu_system_share: s.cpu_system_share, cpu_us_per_check: s.cpu_us_per_check, rss_mb: s.rss_mb, lateness_p99_ms: s.lateness_p99_ms }];
    }),
  );
}
const file = join(results, "pulse-tcp-compare.json");
writeFileSync(file, `${JSON.stringify({ benchmark: "pulse-tcp-compare", date: new Date().toISOString(), backends: Number(values.backends), seconds: Number(values.seconds), ...summary }, null, 2)}\n`);
console.log(summary);
console.log(`wrote ${file}`);
