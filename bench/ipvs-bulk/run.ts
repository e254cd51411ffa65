/**
 * `npm run bench:ipvs [-- --quick] [-- --cpus N] [-- --runs N] [-- --out FILE]`: bulk IPVS programming in the
 * VM, each phase from a fresh boot (deleted destinations linger in the kernel and slow later
 * adds). Writes bench/results/ipvs-bulk.json: the driver in its steady state at the top level (a
 * warmed-up process, as in a running daemon), and `cold_process`, its first use in a new process.
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
// phase alike) and keeps the median of each figure on its own (add, dump, `ipvsadm -Sn`,
// deletes, CPU times): single runs vary by ±30 %, and the run with the median add time can have an
// outlying dump.
const PHASES = ["ipvsadm", "pipelined", "sequential", "pipelined-warm", "sequential-warm"] as const;
const runsOf = new Map<string, Record<string, number>[]>(PHASES.map((name) => [name, []]));
for (let round = 0; round < runs; round++) for (const name of PHASES) runsOf.get(name)!.push(await phase(name));
function medianRun(name: string): Record<string, number> {
  const all = runsOf.get(name)!;
  const keys = Object.keys(all[0]!).filter((k) => typeof all[0]![k] === "number");
  return Object.fromEntries(keys.map((k) => [k, all.map((r) => r[k]!).toSorted((a, b) => a - b)[runs >> 1]!]));
}
const [ipvsadm, pipelined, sequential, pipelinedWarm, sequentialWarm] = PHASES.map(medianRun) as [Record<string, number>, Record<string, number>, Record<string, number>, Record<string, number>, Record<string, number>];
const objects = ipvsadm.objects!;
const rate = (seconds: number | undefined) => Math.round(objects / (seconds ?? Infinity));
const ratio = (seconds: number | undefined) => +(ipvsadm.add_seconds! / (seconds ?? Infinity)).toFixed(2);
/** The driver's figures from one pipelined and one sequential phase; `dump` names which dump. */
function figures(pipe: Record<string, number>, seq: Record<string, number>, dump: "dump" | "dump_again") {
  const dumpSeconds = pipe[`${dump}_seconds`]!;
  return {
    pipelined_per_s: rate(pipe.add_seconds),
    sequential_per_s: rate(seq.add_seconds),
    pipelined_ratio: ratio(pipe.add_seconds),
    sequential_ratio: ratio(seq.add_seconds),
    pipelined_seconds: +pipe.add_seconds!.toFixed(3),
    pipelined_user_ms: Math.round(pipe.add_user_ms!),
    pipelined_system_ms: Math.round(pipe.add_system_ms!),
    sequential_seconds: +seq.add_seconds!.toFixed(3),
    sequential_user_ms: Math.round(seq.add_user_ms!),
    sequential_system_ms: Math.round(seq.add_system_ms!),
    dump_seconds: +dumpSeconds.toFixed(3),
    dump_user_ms: Math.round(pipe[`${dump}_user_ms`]!),
    dump_system_ms: Math.round(pipe[`${dump}_system_ms`]!),
    ipvsadm_save_seconds: +pipe.ipvsadm_save_seconds!.toFixed(3),
    dump_ratio: +(pipe.ipvsadm_save_seconds! / dumpSeconds).toFixed(2),
    delete_per_s: { ipvsadm: rate(ipvsadm.delete_seconds), pipelined: rate(pipe.delete_seconds), sequential: rate(seq.delete_seconds) },
  };
}
const result = {
  objects,
  kernel: kernelVersion,
  vcpus: cpus,
  runs_per_phase: runs,
  ipvsadm_restore_per_s: rate(ipvsadm.add_seconds),
  // The driver in its steady state, as a running daemon uses it: the process first warms its JIT
  // on other addresses without touching the kernel's table (see guest.ts). The dump is the median
  // of three after the first.
  ...figures(pipelinedWarm, sequentialWarm, "dump_again"),
  // The first use in a fresh process: the same work, plus JavaScriptCore compiling the codec
  // under emulation. The dump is the process's first.
  cold_process: figures(pipelined, sequential, "dump"),
  // Operations the kernel refused, over every run (it must be 0: the rates count only successes).
  failed: [...runsOf.values()].flat().reduce((n, p) => n + (p.failed_adds ?? 0) + (p.failed_deletes ?? 0), 0),
  quick,
  date: new Date().toISOString(),
};
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
console.log(JSON.stringify(result, null, 2));
