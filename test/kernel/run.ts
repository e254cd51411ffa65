/**
 * The kernel tier: boots a stock Debian kernel with IPVS under qemu (test/kernel/vm.ts), runs
 * `bun test test/kernel/guest` inside it as root against the real kernel, and reports the counts.
 * Usage: bun test/kernel/run.ts [test name filter]
 */
import { mkdirSync, rmSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ensureVmImage, runInVm, REPO_ROOT } from "./vm.ts";
import { readJunitCounts, type Counts } from "../support/junit.ts";

const RESULTS = join(REPO_ROOT, ".cache", "kernel-results");

export interface KernelTierResult extends Counts {
  exitCode: number;
  kernelVersion: string;
}

/** Runs the guest suite in a fresh VM. `before` is a shell snippet run in the guest first. */
export async function runKernelTier(filter?: string): Promise<KernelTierResult> {
  const { kernelVersion } = await ensureVmImage();
  // The guest runs the compiled binary, as operators do.
  const build = Bun.spawnSync([process.execPath, join(REPO_ROOT, "build.ts")], { cwd: REPO_ROOT, stdout: "inherit", stderr: "inherit" });
  if (build.exitCode !== 0) throw new Error("npm run build failed");
  rmSync(RESULTS, { recursive: true, force: true });
  mkdirSync(RESULTS, { recursive: true });
  const bun = "./node_modules/bun/bin/bun.exe";
  const filterArg = filter ? ` -t '${filter.replaceAll("'", "")}'` : "";
  const command = [
    "cd /host",
    "export NO_COLOR=1 FORCE_COLOR=0",
    `${bun} test test/kernel/guest --timeout 60000 --reporter=junit --reporter-outfile=.cache/kernel-results/junit.xml${filterArg} 2>&1`,
  ].join(" && ");
  console.log(`[kernel] booting Debian ${kernelVersion} under qemu; running test/kernel/guest as root`);
  const started = performance.now();
  const run = await runInVm({ command, share: REPO_ROOT, onOutput: (chunk) => process.stdout.write(chunk) });
  console.log(`[kernel] guest exit ${run.exitCode} after ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const junit = join(RESULTS, "junit.xml");
  const counts = existsSync(junit) ? readJunitCounts(readFileSync(junit, "utf8")) : undefined;
  if (!counts) {
    console.log(run.consoleTail);
    return { passed: 0, failed: 1, skipped: 0, exitCode: run.exitCode || 1, kernelVersion };
  }
  // A guest that failed without a failing test (a file that did not load) still fails the tier.
  if (run.exitCode !== 0 && counts.failed === 0) counts.failed = 1;
  return { ...counts, exitCode: run.exitCode, kernelVersion };
}

if (import.meta.main) {
  const result = await runKernelTier(process.argv[2]);
  console.log(`kernel: ${result.passed} passed, ${result.failed} failed`);
  process.exit(result.failed > 0 ? 1 : 0);
}
