/**
 * `npm test`: every tier, in order — typecheck, unit + HTTP (host, MemoryIpvs), kernel (a VM
 * with a real IPVS kernel) — and one closing line `N passed, N failed` that CI reads.
 * The kernel tier needs root (apt-get, qemu); without it, it is skipped loudly outside CI and
 * fails in CI (CI=true).
 */
import { mkdirSync, readFileSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { readJunitCounts, type Counts } from "./support/junit.ts";

const ROOT = join(import.meta.dir, "..");
const RESULTS = join(ROOT, ".cache", "results");
const BUN = process.execPath;
const inCi = process.env.CI === "true" || process.env.CI === "1";

const totals: Counts = { passed: 0, failed: 0, skipped: 0 };
const lines: string[] = [];

function record(tier: string, counts: Counts): void {
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  totals.skipped += counts.skipped;
  lines.push(`${tier}: ${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ""}`);
}

async function run(cmd: string[], env: Record<string, string> = {}): Promise<number> {
  const p = Bun.spawn(cmd, { cwd: ROOT, stdout: "inherit", stderr: "inherit", env: { ...process.env, ...env } });
  return await p.exited;
}

rmSync(RESULTS, { recursive: true, force: true });
mkdirSync(RESULTS, { recursive: true });

// 1. Typecheck: one check, pass or fail.
console.log("== typecheck (tsc --noEmit)");
const tsc = await run([BUN, join(ROOT, "node_modules/typescript/bin/tsc"), "--noEmit", "-p", ROOT]);
record("typecheck", { passed: tsc === 0 ? 1 : 0, failed: tsc === 0 ? 0 : 1, skipped: 0 });

// 2. Unit and HTTP tiers on the host.
console.log("== unit and HTTP tests (bun test test/unit)");
const junit = join(RESULTS, "unit.xml");
const unitExit = await run([BUN, "test", "test/unit", "--reporter=junit", `--reporter-outfile=${junit}`]);
const unit = existsSync(junit) ? readJunitCounts(readFileSync(junit, "utf8")) : undefined;
if (!unit) record("unit", { passed: 0, failed: 1, skipped: 0 });
else record("unit", unitExit !== 0 && unit.failed === 0 ? { ...unit, failed: 1 } : unit);

// 3. Kernel tier in a VM.
console.log("== kernel tier (qemu, Debian kernel with IPVS)");
const isRoot = process.getuid?.() === 0;
if (!isRoot && !inCi) {
  console.log("!! KERNEL TIER SKIPPED: it needs root (apt-get install qemu, kernel download). Run `sudo npm test` for it.");
  record("kernel", { passed: 0, failed: 0, skipped: 1 });
} else {
  const { runKernelTier } = await import("./kernel/run.ts");
  try {
    const k = await runKernelTier();
    record(`kernel (Linux ${k.kernelVersion})`, k);
  } catch (e) {
    console.log(`!! kernel tier could not run: ${e instanceof Error ? e.message : String(e)}`);
    record("kernel", { passed: 0, failed: 1, skipped: 0 });
  }
}

console.log("\n== summary");
for (const line of lines) console.log(`  ${line}`);
console.log(`${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ""}`);
process.exit(totals.failed > 0 ? 1 : 0);
