/**
 * @module Micro-benchmark of the TCP prober's implementations: user and system CPU µs per probe,
 * probes started in batches of 20 per event-loop turn, one turn per millisecond (as the pulse
 * scheduler starts them at 20,000 checks/s), against accepting loopback ports (listener.ts, in
 * its own process) and a refusing one (port 9).
 *
 *   bun bench/pulse/prober-micro.ts [--probes N=20000] [--batch 20] [--pace-ms 1] [--rounds 2]
 *
 * Unpaced (--pace-ms 0) the prober outruns the listener process's accept(): its accept queues
 * overflow, the kernel drops SYNs and those connects wait a 1 s retransmit.
 *
 * Implementations: io_uring with COOP_TASKRUN (the default), io_uring with DEFER_TASKRUN, and
 * poll. Rounds alternate the implementations so drift on a shared machine hits all of them.
 * The system time includes the listener side's TCP work, which loopback charges to the connecting
 * process; it is the same for every implementation.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { IoUringModes } from "../../ffi/io-uring.ts";
import { tcpProbeLibc } from "../../ffi/tcp-probe.ts";
import { PollTcpProber, type TcpProber } from "../../src/pulse/checks/tcp-prober.ts";
import { UringTcpProber } from "../../src/pulse/checks/tcp-prober-uring.ts";
import { normalizePulseSpec } from "../../src/pulse/spec.ts";

const { values: args } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    probes: { type: "string", default: "20000" },
    batch: { type: "string", default: "20" },
    "pace-ms": { type: "string", default: "1" },
    rounds: { type: "string", default: "2" },
  },
});
const probes = Number(args.probes);
const batch = Number(args.batch);
const rounds = Number(args.rounds);
const paceMs = Number(args["pace-ms"]);

const libc = tcpProbeLibc();
if (libc === null) throw new Error("libc cannot be loaded through bun:ffi");
const implementations: [string, TcpProber][] = [
  ["io_uring coop_taskrun", new UringTcpProber(libc, UringTcpProber.openRing())],
  ["io_uring defer_taskrun", new UringTcpProber(libc, UringTcpProber.openRing([IoUringModes.deferTaskrun]))],
  ["poll", new PollTcpProber(libc)],
];

const listener = Bun.spawn([process.execPath, join(import.meta.dir, "listener.ts"), "16"], { stdout: "pipe", stderr: "inherit" });
const reader = listener.stdout.getReader();
const { value } = await reader.read();
reader.releaseLock();
const { ports } = JSON.parse(new TextDecoder().decode(value)) as { ports: number[] };
const spec = normalizePulseSpec({ type: "tcp", interval: "1s", timeout: "1s" });
const signal = new AbortController().signal;

async function run(p: TcpProber, portList: readonly number[], expectOk: boolean) {
  const targets = portList.map((port) => p.target("127.0.0.1", port));
  const before = { ...p.counters };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let ok = 0;
  for (let done = 0; done < probes; done += batch) {
    const turn: Promise<{ ok: boolean }>[] = [];
    for (let i = 0; i < batch; i++) turn.push(p.probe(targets[(done + i) % targets.length]!, spec, signal));
    for (const r of await Promise.all(turn)) if (r.ok) ok++;
    if (paceMs > 0) await Bun.sleep(paceMs);
  }
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  if ((ok === probes) !== expectOk) throw new Error(`unexpected results: ${ok} of ${probes} up`);
  const started = p.counters.started - before.started;
  return {
    user_us: cpu.user / probes,
    system_us: cpu.system / probes,
    total_us: (cpu.user + cpu.system) / probes,
    wall_us: (wall * 1000) / probes,
    settled_at_first_reap: started === 0 ? 1 : (p.counters.settledAtFirstPoll - before.settledAtFirstPoll) / started,
    syscalls_per_turn: (p.counters.polls - before.polls) / (probes / batch),
  };
}

const totals = new Map<string, { user_us: number; system_us: number; total_us: number; wall_us: number; settled_at_first_reap: number; syscalls_per_turn: number }[]>();
try {
  // Warm-up: JIT and idle socket pools.
  for (const [, p] of implementations) await run(p, ports, true);
  for (let r = 0; r < rounds; r++) {
    for (const [name, p] of r % 2 === 0 ? implementations : [...implementations].reverse()) {
      for (const [label, portList, ok] of [["accepting", ports, true], ["refused :9", [9], false]] as const) {
        const key = `${name} / ${label}`;
        const list = totals.get(key) ?? [];
        list.push(await run(p, portList, ok));
        totals.set(key, list);
        Bun.gc(true);
      }
    }
  }
} finally {
  listener.kill();
}
const round = (n: number) => Number(n.toFixed(3));
console.log(`${probes} probes per run, batches of ${batch} every ${paceMs} ms, ${rounds} rounds (mean):`);
const table: Record<string, Record<string, number>> = {};
for (const [key, list] of totals) {
  const mean = (f: (x: (typeof list)[number]) => number) => round(list.reduce((s, x) => s + f(x), 0) / list.length);
  table[key] = {
    user_us: mean((x) => x.user_us),
    system_us: mean((x) => x.system_us),
    total_us: mean((x) => x.total_us),
    wall_us: mean((x) => x.wall_us),
    settled_at_first_reap: mean((x) => x.settled_at_first_reap),
    syscalls_per_turn: mean((x) => x.syscalls_per_turn),
  };
}
console.table(table);
