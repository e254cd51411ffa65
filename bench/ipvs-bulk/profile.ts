/**
 * Where the time of a bulk load goes, in the VM:
 * `bun test/kernel/vm.ts run 'bun bench/ipvs-bulk/profile.ts [SERVICES DESTS [cold]]'`.
 * Times encoding alone (several rounds: the first is cold; skipped with "cold"), one pipelined
 * apply, and several table() dumps, each with user/system CPU, so JIT warm-up shows apart from
 * steady-state cost.
 */
import { openKernelIpvs } from "../../src/ipvs/kernel-ipvs.ts";
import { MessageWriter } from "../../src/ipvs/netlink/writer.ts";
import { encodeOperation } from "../../src/ipvs/codec/operation.ts";
import { workload } from "./workload.ts";

const [servicesArg = "1000", destsArg = "10", mode = "encode-first"] = process.argv.slice(2);
const w = workload(Number(servicesArg), Number(destsArg));

async function section(name: string, f: () => unknown): Promise<void> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await f();
  const ms = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  console.log(
    `${name.padEnd(18)} ${ms.toFixed(1).padStart(8)} ms  user ${(used.user / 1000).toFixed(0).padStart(5)}  sys ${(used.system / 1000).toFixed(0).padStart(5)}`,
  );
}

const ipvs = await openKernelIpvs();
const scratch = new MessageWriter();
for (let round = 0; round < (mode === "cold" ? 0 : 3); round++) {
  await section(`encode #${round}`, () => {
    for (let i = 0; i < w.adds.length; i++) {
      if (i % 256 === 0) scratch.reset();
      encodeOperation(scratch, 0, i, 0, w.adds[i]!);
    }
  });
}
await section("apply adds", () => ipvs.apply(w.adds));
for (let round = 0; round < 3; round++) await section(`table #${round}`, () => ipvs.table());
await section("services", () => ipvs.services());
await section("apply deletes", () => ipvs.apply(w.deletes));
ipvs.close();
