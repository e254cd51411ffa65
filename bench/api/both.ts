/**
 * `npm run bench:api [-- --quick]`: the API benchmark on MemoryIpvs on the host (bench/api/run.ts),
 * then against the kernel in the VM (bench/api/kernel.ts; needs root). Results: bench/results/api.json.
 */
import { join } from "node:path";

const args = process.argv.slice(2);
const run = (file: string) =>
  Bun.spawnSync([process.execPath, join(import.meta.dir, file), ...args], { stdout: "inherit", stderr: "inherit" }).exitCode;
if (run("run.ts") !== 0) process.exit(1);
if (process.getuid?.() !== 0) {
  console.log("bench:api: the kernel run needs root (qemu); skipped");
  process.exit(0);
}
process.exit(run("kernel.ts"));
