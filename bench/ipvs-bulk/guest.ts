/**
 * One measured phase, inside the VM (fresh boot each): `bun bench/ipvs-bulk/guest.ts PHASE SERVICES DESTS`.
 * PHASE: ipvsadm (ipvsadm -R), pipelined (one apply() of everything), sequential (one apply per op);
 * with "-warm" appended, the process first warms the JIT without changing the kernel's table
 * (encodes a workload of other addresses into a scratch buffer, so the codec's address caches
 * hold none of the measured ones; applies IPVS_CMD_ZERO and GET_INFO a few thousand times), to
 * measure a daemon in its steady state rather than a cold process.
 * Dumps after the first, and `ipvsadm -Sn`, are timed three times each and the median kept.
 * Prints one JSON line.
 */
import { openKernelIpvs } from "../../src/ipvs/kernel-ipvs.ts";
import { workload } from "./workload.ts";
import { MessageWriter } from "../../src/ipvs/netlink/writer.ts";
import { encodeOperation } from "../../src/ipvs/codec/operation.ts";

const [phase = "pipelined", servicesArg = "1000", destsArg = "10"] = process.argv.slice(2);
const w = workload(Number(servicesArg), Number(destsArg));

function timed<T>(f: () => T): { seconds: number; userMs: number; systemMs: number; value: T } {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const value = f();
  const seconds = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu);
  return { seconds, userMs: used.user / 1000, systemMs: used.system / 1000, value };
}
async function timedAsync<T>(f: () => Promise<T>) {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const value = await f();
  const seconds = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu);
  return { seconds, userMs: used.user / 1000, systemMs: used.system / 1000, value };
}

/** The run with the median time of an odd number of runs. */
function median<T extends { seconds: number }>(runs: T[]): T {
  return runs.toSorted((a, b) => a.seconds - b.seconds)[runs.length >> 1]!;
}

function ipvsadm(args: string[], stdin?: string) {
  const p = Bun.spawnSync(["ipvsadm", ...args], { stdin: stdin === undefined ? "ignore" : Buffer.from(stdin), stdout: "pipe" });
  if (p.exitCode !== 0) throw new Error(`ipvsadm ${args.join(" ")} failed: ${p.stderr.toString()}`);
  return p.stdout;
}

const result: Record<string, unknown> = { phase, objects: w.objects };
if (phase === "ipvsadm") {
  const add = timed(() => ipvsadm(["-R"], w.addRules));
  const save = median([timed(() => ipvsadm(["-Sn"])), timed(() => ipvsadm(["-Sn"])), timed(() => ipvsadm(["-Sn"]))]);
  const del = timed(() => ipvsadm(["-R"], w.deleteRules));
  Object.assign(result, { add_seconds: add.seconds, save_seconds: save.seconds, save_lines: save.value.toString().split("\n").length - 1, delete_seconds: del.seconds });
} else {
  const ipvs = await openKernelIpvs();
  const warm = phase.endsWith("-warm");
  if (warm) {
    const scratch = new MessageWriter();
    const other = workload(Number(servicesArg), Number(destsArg), "203.0.113", 101);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < other.adds.length; i++) {
        if (i % 256 === 0) scratch.reset();
        encodeOperation(scratch, 0, i, 0, other.adds[i]!);
      }
    }
    for (let i = 0; i < 3000; i++) await ipvs.apply([{ op: "zero" }]);
    await ipvs.apply(Array.from({ length: 3000 }, () => ({ op: "zero" as const })));
    for (let i = 0; i < 300; i++) await ipvs.info();
  }
  const apply = async (ops: typeof w.adds) => {
    if (phase.startsWith("pipelined")) return ipvs.apply(ops);
    const out = [];
    for (const op of ops) out.push(...(await ipvs.apply([op])));
    return out;
  };
  const add = await timedAsync(() => apply(w.adds));
  const failedAdds = add.value.filter((r) => !r.ok).length;
  const dump = await timedAsync(() => ipvs.table());
  const dumped = dump.value.reduce((n, t) => n + 1 + t.destinations.length, 0);
  // A single `ipvsadm -Sn` varies by 2× from run to run: both sides take the median of three.
  const dumpAgain = median([await timedAsync(() => ipvs.table()), await timedAsync(() => ipvs.table()), await timedAsync(() => ipvs.table())]);
  const save = median([timed(() => ipvsadm(["-Sn"])), timed(() => ipvsadm(["-Sn"])), timed(() => ipvsadm(["-Sn"]))]);
  const del = await timedAsync(() => apply(w.deletes));
  Object.assign(result, {
    add_seconds: add.seconds,
    add_user_ms: add.userMs,
    add_system_ms: add.systemMs,
    failed_adds: failedAdds,
    dump_seconds: dump.seconds,
    dump_user_ms: dump.userMs,
    dump_system_ms: dump.systemMs,
    dumped_objects: dumped,
    dump_again_seconds: dumpAgain.seconds,
    dump_again_user_ms: dumpAgain.userMs,
    dump_again_system_ms: dumpAgain.systemMs,
    ipvsadm_save_seconds: save.seconds,
    delete_seconds: del.seconds,
    failed_deletes: del.value.filter((r) => !r.ok).length,
  });
  ipvs.close();
}
console.log(`BENCH ${JSON.stringify(result)}`);
