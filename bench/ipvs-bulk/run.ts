/**
 * `npm run bench:ipvs [-- --quick] [-- --cpus N] [-- --runs N] [-- --out FILE]`: bulk IPVS programming in the
 * VM, each phase from a fresh boot (deleted destinations linger in the kernel and slow later
 * adds). Writes bench/results/ipvs-bulk.json.
 *
 * The VM has 2 vCPUs by default, as many as this machine has cores: JavaScriptCore compiles hot
 * code and collects garbage on threads beside the main one, and with a single vCPU that work
 * stalls the measured thread, which no multi-core LB host does. `ipvsadm` (one thread) is measured
 * in the same VM. `--cpus 1` gives the single-vCPU figures.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { ensureVmImage, runInVm, REPO_ROOT } from "../../test/kernel/vm.ts";

const { values: args } = parseArgs({
  args: Bun.argv.slice(2).filter((a) => a !== "--"),
  options: {
    quick: { type: "boolean", default: false },
    cpus: { type: "string", default: "2" },
    runs: { type: "string" },
    out: { type: "string" },
  },
});
const quick = args.quick === true;
const cpus = Number(args.cpus);
if (!Number.isInteger(cpus) || cpus < 1) throw new Error(`--cpus ${args.cpus}: expected a whole number of vCPUs`);
const runs = Number(args.runs ?? (quick ? 1 : 3));
if (!Number.isInteger(runs) || runs < 1 || runs % 2 === 0) throw new Error(`--runs ${args.runs}: expected an odd whole number`);
const out = args.out ?? join(REPO_ROOT, "bench/results/ipvs-bulk.json");
const services = quick ? 100 : 1000;
const dests = 10;

async function phase(name: string): Promise<Record<string, number>> {
  const command = `cd /host && ./node_modules/bun/bin/bun.exe bench/ipvs-bulk/guest.ts ${name} ${services} ${dests}`;
  const run = await runInVm({ command, share: REPO_ROOT, cpus });
  const line = run.output.split("\n").find((l) => l.startsWith("BENCH "));
  if (run.exitCode !== 0 || !line) throw new Error(`phase ${name} failed (exit ${run.exitCode}):\n${run.output}\n${run.consoleTail}`);
  return JSON.parse(line.slice(6)) as Record<string, number>;
}

const { kernelVersion } = await ensureVmImage();
console.log(`bench:ipvs — ${services} services × ${dests} destinations, Linux ${kernelVersion} under qemu (TCG), ${cpus} vCPU, median of ${runs} runs per phase`);
// Each phase runs `--runs` times (rounds interleaved, so a slow spell of the host hits every
// phase alike) and keeps the run with the median add time: single runs vary by ±30 %.
const PHASES = ["ipvsadm", "pipelined", "sequential", "pipelined-warm", "sequential-warm"] as const;
const runsOf = new Map<string, Record<string, number>[]>(PHASES.map((name) => [name, []]));
for (let round = 0; round < runs; round++) for (const name of PHASES) runsOf.get(name)!.push(await phase(name));
const medianRun = (name: string) => runsOf.get(name)!.toSorted((a, b) => a.add_seconds! - b.add_seconds!)[runs >> 1]!;
const [ipvsadm, pipelined, sequential, pipelinedWarm, sequentialWarm] = PHASES.map(medianRun) as [Record<string, number>, Record<string, number>, Record<string, number>, Record<string, number>, Record<string, number>];
const objects = ipvsadm.objects!;
const rate = (seconds: number | undefined) => Math.round(objects / (seconds ?? Infinity));
const result = {
  objects,
  kernel: kernelVersion,
  vcpus: cpus,
  runs_per_phase: runs,
  ipvsadm_restore_per_s: rate(ipvsadm.add_seconds),
  pipelined_per_s: rate(pipelined.add_seconds),
  sequential_per_s: rate(sequential.add_seconds),
  pipelined_ratio: +(ipvsadm.add_seconds! / pipelined.add_seconds!).toFixed(2),
  sequential_ratio: +(ipvsadm.add_seconds! / sequential.add_seconds!).toFixed(2),
  pipelined_seconds: +pipelined.add_seconds!.toFixed(3),
  pipelined_user_ms: Math.round(pipelined.add_user_ms!),
  pipelined_system_ms: Math.round(pipelined.add_system_ms!),
  sequential_user_ms: Math.round(sequential.add_user_ms!),
  sequential_system_ms: Math.round(sequential.add_system_ms!),
  dump_seconds: +pipelined.dump_seconds!.toFixed(3),
  dump_user_ms: Math.round(pipelined.dump_user_ms!),
  dump_system_ms: Math.round(pipelined.dump_system_ms!),
  ipvsadm_save_seconds: +pipelined.ipvsadm_save_seconds!.toFixed(3),
  dump_ratio: +(pipelined.ipvsadm_save_seconds! / pipelined.dump_seconds!).toFixed(2),
  // The same, in a process whose JIT is already warm (a running daemon), each from a fresh boot.
  warm: {
    pipelined_per_s: rate(pipelinedWarm.add_seconds),
    sequential_per_s: rate(sequentialWarm.add_seconds),
    pipelined_ratio: +(ipvsadm.add_seconds! / pipelinedWarm.add_seconds!).toFixed(2),
    sequential_ratio: +(ipvsadm.add_seconds! / sequentialWarm.add_seconds!).toFixed(2),
    pipelined_user_ms: Math.round(pipelinedWarm.add_user_ms!),
    pipelined_system_ms: Math.round(pipelinedWarm.add_system_ms!),
    dump_seconds: +pipelinedWarm.dump_again_seconds!.toFixed(3),
    dump_user_ms: Math.round(pipelinedWarm.dump_again_user_ms!),
    dump_system_ms: Math.round(pipelinedWarm.dump_again_system_ms!),
    ipvsadm_save_seconds: +pipelinedWarm.ipvsadm_save_seconds!.toFixed(3),
    dump_ratio: +(pipelinedWarm.ipvsadm_save_seconds! / pipelinedWarm.dump_again_seconds!).toFixed(2),
  },
  delete_per_s: { ipvsadm: rate(ipvsadm.delete_seconds), pipelined: rate(pipelined.delete_seconds), sequential: rate(sequential.delete_seconds) },
  failed: [pipelined, sequential, pipelinedWarm, sequentialWarm].reduce((n, p) => n + (p.failed_adds ?? 0) + (p.failed_deletes ?? 0), 0),
  quick,
  date: new Date().toISOString(),
};
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
console.log(JSON.stringify(result, null, 2));
