/**
 * The API benchmark against the real kernel: boots the VM, starts dist/gorb on KernelIpvs there and
 * drives it from inside the VM (the client shares the one emulated CPU). Writes
 * bench/results/api-kernel.json and merges a summary into bench/results/api.json under "kernel".
 * Usage: bun bench/api/kernel.ts [--quick]
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runInVm, REPO_ROOT } from "../../test/kernel/vm.ts";

const quick = process.argv.includes("--quick");
const build = Bun.spawnSync([process.execPath, join(REPO_ROOT, "build.ts")], { cwd: REPO_ROOT, stdout: "inherit", stderr: "inherit" });
if (build.exitCode !== 0) process.exit(1);

const command = [
  "cd /host",
  "mkdir -p /tmp/gorb-state",
  "./dist/gorb --ipvs kernel -i eth0 -l 127.0.0.1:4672 >/tmp/gorb.log 2>&1 & gorb=$!",
  "for i in $(seq 1 300); do wget -q -O /dev/null http://127.0.0.1:4672/service && break; sleep 0.1; done",
  `./node_modules/bun/bin/bun.exe bench/api/run.ts --url http://127.0.0.1:4672 --kind kernel ${quick ? "--quick" : ""}`,
  "rc=$?; kill $gorb; tail -5 /tmp/gorb.log; exit $rc",
].join("\n");
const run = await runInVm({ command, share: REPO_ROOT, onOutput: (c) => process.stdout.write(c) });
if (run.exitCode !== 0) {
  console.error(run.consoleTail);
  process.exit(run.exitCode || 1);
}
const kernelFile = join(REPO_ROOT, "bench/results/api-kernel.json");
const memoryFile = join(REPO_ROOT, "bench/results/api.json");
if (existsSync(kernelFile) && existsSync(memoryFile)) {
  const kernel = JSON.parse(readFileSync(kernelFile, "utf8")) as { results: unknown[]; date: string };
  const memory = JSON.parse(readFileSync(memoryFile, "utf8")) as Record<string, unknown>;
  memory.kernel = { date: kernel.date, where: "inside the qemu VM (TCG, 1 vCPU), client included", results: kernel.results };
  writeFileSync(memoryFile, JSON.stringify(memory, null, 2) + "\n");
}
