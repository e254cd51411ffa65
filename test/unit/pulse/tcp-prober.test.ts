import { afterAll, describe, expect, it, test as bunTest } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Errno } from "../../../ffi/errno.ts";
import { IoUring, IoUringModes, IoUringUnavailable, type IoUringMode } from "../../../ffi/io-uring.ts";
import { tcpProbeLibc } from "../../../ffi/tcp-probe.ts";
import { CHECK_CANCELLED, CHECK_TIMEOUT } from "../../../src/pulse/checks/common.ts";
import { checkTcp } from "../../../src/pulse/checks/tcp.ts";
import { createTcpProber, PollTcpProber, tcpProber, type TcpProber } from "../../../src/pulse/checks/tcp-prober.ts";
import { SUBMIT_BATCH, UringTcpProber } from "../../../src/pulse/checks/tcp-prober-uring.ts";
import { Pulse, type PulseUpdate } from "../../../src/pulse/pulse.ts";
import { normalizePulseSpec, type PulseSpec } from "../../../src/pulse/spec.ts";
import type { CheckTarget } from "../../../src/pulse/types.ts";
import { parseUnit, testWithLibrary, testWithTool } from "../deploy/systemd-tools.ts";
import { openBlackhole } from "./blackhole.ts";
import { closedPort, tcpServer, waitFor } from "./servers.ts";

const spec = normalizePulseSpec({ type: "tcp", interval: "1s", timeout: "150ms" });
const libc = tcpProbeLibc();

/** The prober's ring in `modes` (default: the prober's own), or null (with a warning) where this kernel or sandbox has no io_uring. */
function ring(modes?: readonly IoUringMode[]): IoUring | null {
  try {
    return UringTcpProber.openRing(modes);
  } catch (error) {
    if (!(error instanceof IoUringUnavailable)) throw error;
    console.warn(`io_uring prober tests skipped (${modes?.map((m) => m.name).join(", ") ?? "default modes"}): ${error.message}`);
    return null;
  }
}

/** Each implementation, its own instance (null: unavailable here): the same tests run against all. */
function implementations(): [string, TcpProber | null][] {
  if (libc === null) return [];
  const uring = (modes?: readonly IoUringMode[]) => {
    const r = ring(modes);
    return r === null ? null : new UringTcpProber(libc, r);
  };
  return [
    ["io_uring", uring()],
    ["io_uring defer_taskrun", uring([IoUringModes.deferTaskrun])],
    ["poll", new PollTcpProber(libc)],
  ];
}
/** Descriptors open, not counting the sockets the prober keeps for reuse. */
const openFds = (p: TcpProber) => readdirSync("/proc/self/fd").length - p.idleSockets;

/** A probe to a blackhole (its SYN dropped), once it is in flight past its turn; null without one. */
async function probeLeftWaiting(p: TcpProber) {
  const hole = await openBlackhole();
  if (hole === null) return null;
  const before = { ...p.counters };
  const { result, controller } = probe(p, "127.0.0.1", hole.port);
  expect(await waitFor(() => p.openSockets === 1)).toBe(true);
  return { hole, before, result, controller };
}

/** One probe that the test aborts with `reason` after `ms` (or never). */
function probe(p: TcpProber, host: string, port: number, abortAfterMs?: number, reason: unknown = CHECK_TIMEOUT) {
  const controller = new AbortController();
  const target = p.target(host, port);
  const result = p.probe(target, spec, controller.signal);
  if (abortAfterMs !== undefined) setTimeout(() => controller.abort(reason), abortAfterMs);
  return { result, controller };
}

describe.skipIf(libc === null).each(implementations())("the libc TCP prober (%s)", (_name, prober) => {
  if (prober === null) return;
  const p = prober;
  const v4 = tcpServer("127.0.0.1");
  const v6 = tcpServer("::1");
  afterAll(() => {
    v4.stop();
    v6.stop();
  });

  it("builds addresses for IP literals only", () => {
    expect([...p.target("127.0.0.1", 8080).address!]).toEqual([2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    const v6address = p.target("2001:db8::5", 443).address!;
    expect(v6address.byteLength).toBe(28);
    expect([...v6address.subarray(0, 4)]).toEqual([10, 0, 0x01, 0xbb]);
    expect([...v6address.subarray(8, 24)]).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]);
    expect(p.target("localhost", 80).address).toBeNull();
    expect(p.target("fe80::1%nonexistent0", 80).address).toBeNull();
  });

  it.each([
    ["127.0.0.1", v4],
    ["::1", v6],
  ] as const)("connects to %s, and the connection reaches the listener", async (host, server) => {
    const before = server.state.accepted;
    const result = await probe(p, host, server.port).result;
    expect(result).toMatchObject({ ok: true });
    expect(result.error).toBeUndefined();
    expect(await waitFor(() => server.state.accepted === before + 1)).toBe(true);
    expect(p.openSockets).toBe(0);
  });

  it("reports a refused connection as the Bun.connect check does", async () => {
    const port = closedPort("127.0.0.1");
    expect(await probe(p, "127.0.0.1", port).result).toMatchObject({ ok: false, error: `connect 127.0.0.1:${port}: ECONNREFUSED` });
  });

  it("settles many connects started in one tick (more than the first poll buffer holds)", async () => {
    const port = closedPort("127.0.0.1");
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => probe(p, "127.0.0.1", i % 3 === 0 ? port : v4.port).result));
    expect(results.filter((r) => r.ok)).toHaveLength(200);
    expect(results.filter((r) => r.error === `connect 127.0.0.1:${port}: ECONNREFUSED`)).toHaveLength(100);
    expect(p.openSockets).toBe(0);
  });

  it("settles a turn of loopback connects right after its system calls (io_uring: one per 16 connects)", async () => {
    const refused = closedPort("127.0.0.1");
    const before = { ...p.counters };
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => probe(p, "127.0.0.1", i % 4 === 0 ? refused : v4.port).result));
    expect(results.filter((r) => r.ok)).toHaveLength(30);
    expect(p.counters.started - before.started).toBe(40);
    expect(p.counters.settledAtFirstPoll - before.settledAtFirstPoll).toBe(40);
    expect(p.counters.waited - before.waited).toBe(0);
    // io_uring submits every SUBMIT_BATCH connects while the turn starts them, then the rest in one
    // enter; DEFER_TASKRUN runs only ~20 items of completion work per enter: it takes more.
    if (!p.name.includes("defer_taskrun")) expect(p.counters.polls - before.polls).toBe(p.name.startsWith("io_uring") ? Math.ceil(40 / SUBMIT_BATCH) : 1);
  });

  it("times out against a listener whose backlog is full, and closes the socket", async () => {
    const hole = await openBlackhole();
    if (hole === null) return void console.warn("skipped: no blackhole listener");
    try {
      const result = await probe(p, "127.0.0.1", hole.port, 150).result;
      expect(result).toMatchObject({ ok: false, error: "timed out after 150ms" });
      expect(result.latencyMs).toBeGreaterThanOrEqual(140);
      expect(p.openSockets).toBe(0);
    } finally {
      hole.close();
    }
  });

  it("answers a connect that completes after its turn (read on the timer)", async () => {
    const pending = await probeLeftWaiting(p);
    if (pending === null) return void console.warn("skipped: no blackhole listener");
    const { hole, before, result, controller } = pending;
    try {
      // The SYN was dropped; its retransmit (after ~1 s) finds no listener and is refused.
      hole.close();
      expect(await result).toMatchObject({ ok: false, error: `connect 127.0.0.1:${hole.port}: ECONNREFUSED` });
      expect(p.counters.waited - before.waited).toBe(1);
      expect(await waitFor(() => p.openSockets === 0)).toBe(true);
    } finally {
      controller.abort(CHECK_CANCELLED);
    }
  });

  it("answers up for a connect that succeeds after its turn, and keeps nothing open", async () => {
    const pending = await probeLeftWaiting(p);
    if (pending === null) return void console.warn("skipped: no blackhole listener");
    const { hole, before, result, controller } = pending;
    try {
      // The first SYN was dropped; with the queue kept drained its retransmit (after ~1 s) is answered.
      const draining = setInterval(() => hole.drain(), 20);
      try {
        expect(await result).toMatchObject({ ok: true });
      } finally {
        clearInterval(draining);
      }
      expect(p.counters.waited - before.waited).toBe(1);
      // The connection was reset and the socket kept or closed: nothing left in flight.
      expect(await waitFor(() => p.openSockets === 0)).toBe(true);
      // With room in the queue, the next check of the same backend is answered in its own turn.
      hole.drain();
      expect(await probe(p, "127.0.0.1", hole.port).result).toMatchObject({ ok: true });
      expect(p.counters.waited - before.waited).toBe(1);
    } finally {
      controller.abort(CHECK_CANCELLED);
      hole.close();
    }
  });

  it("answers cancelled when aborted before its first poll", async () => {
    const { result, controller } = probe(p, "127.0.0.1", v4.port);
    controller.abort(CHECK_CANCELLED);
    expect(await result).toMatchObject({ ok: false, error: "cancelled" });
    expect(p.openSockets).toBe(0);
  });

  it("aborts the check in flight when the backend is removed, and drops its result", async () => {
    const hole = await openBlackhole();
    if (hole === null) return void console.warn("skipped: no blackhole listener");
    const updates: PulseUpdate[] = [];
    // This prober, not the process's one that the default tcp checker uses.
    const tcp = (target: CheckTarget, s: PulseSpec, signal: AbortSignal) => p.probe(p.target(target.host, target.port), s, signal);
    const pulse = new Pulse({ random: () => 0, onUpdate: (u) => updates.push(u), checkers: { tcp } });
    try {
      pulse.add("rs1", { host: "127.0.0.1", port: hole.port }, normalizePulseSpec({ type: "tcp", interval: "1s", timeout: "5s" }));
      expect(await waitFor(() => p.openSockets === 1)).toBe(true);
      pulse.remove("rs1");
      expect(p.openSockets).toBe(0);
      await pulse.stop();
      expect(updates).toHaveLength(0);
    } finally {
      await pulse.stop();
      hole.close();
    }
  });

  it("leaks no descriptor over successes, refusals, timeouts and aborts", async () => {
    const hole = await openBlackhole();
    if (hole === null) return void console.warn("skipped: no blackhole listener");
    try {
      await probe(p, "127.0.0.1", hole.port, 5).result; // the epoll descriptor exists from here on
      const before = openFds(p);
      const refused = closedPort("127.0.0.1");
      const rounds = [];
      for (let i = 0; i < 50; i++) {
        rounds.push(probe(p, "127.0.0.1", v4.port).result, probe(p, "::1", v6.port).result, probe(p, "127.0.0.1", refused).result);
        rounds.push(probe(p, "127.0.0.1", hole.port, 20).result, probe(p, "127.0.0.1", hole.port, 10, CHECK_CANCELLED).result);
        const early = probe(p, "127.0.0.1", v4.port);
        early.controller.abort(CHECK_CANCELLED);
        rounds.push(early.result);
      }
      const results = await Promise.all(rounds);
      // An early abort finds its connect done when io_uring submitted it with a full batch: ok then.
      const ok = results.filter((r) => r.ok).length;
      expect(ok).toBeGreaterThanOrEqual(100);
      expect(results.filter((r) => r.error === "timed out after 150ms")).toHaveLength(50);
      expect(results.filter((r) => r.error === "cancelled")).toHaveLength(200 - ok);
      expect(p.openSockets).toBe(0);
      // The listeners (in this process) close their side of each connection on the event loop, a bit later.
      expect(await waitFor(() => openFds(p) <= before)).toBe(true);
    } finally {
      hole.close();
    }
  });

  it("reuses its sockets, and a refusal leaves nothing behind for the next connect", async () => {
    const refused = closedPort("127.0.0.1");
    await probe(p, "127.0.0.1", v4.port).result;
    const before = readdirSync("/proc/self/fd").length;
    for (let i = 0; i < 20; i++) {
      expect((await probe(p, "127.0.0.1", refused).result).error).toBe(`connect 127.0.0.1:${refused}: ECONNREFUSED`);
      expect((await probe(p, "127.0.0.1", v4.port).result).ok).toBe(true);
      expect((await probe(p, "::1", v6.port).result).ok).toBe(true);
    }
    // One IPv6 socket more, kept like the IPv4 one: no socket per check.
    expect(readdirSync("/proc/self/fd").length).toBeLessThanOrEqual(before + 1);
    p.closeIdle();
    expect(p.idleSockets).toBe(0);
    expect((await probe(p, "127.0.0.1", v4.port).result).ok).toBe(true);
  });

});

describe.skipIf(libc === null)("the process's prober", () => {
  const v4 = tcpServer("127.0.0.1");
  afterAll(() => v4.stop());

  it("leaves host names to Bun.connect", async () => {
    const result = await checkTcp({ host: "localhost", port: v4.port }, spec, AbortSignal.timeout(1000));
    expect(result.ok).toBe(true);
  });

  it("is io_uring where a ring can be set up, else poll, and says which", () => {
    const name = tcpProber()!.name;
    if (process.env.GORB_TCP_PROBER === "poll") return void expect(name).toBe("poll (GORB_TCP_PROBER=poll)");
    const r = ring();
    r?.close();
    expect(name).toMatch(r === null ? /^poll \(io_uring/ : /^io_uring \(coop_taskrun\)$/);
  });

  it("falls back to poll when io_uring_setup fails, and the fallback works", async () => {
    const denied = createTcpProber(libc!, {
      openRing: () => {
        throw new IoUringUnavailable("io_uring_setup", Errno.EPERM);
      },
    });
    expect(denied).toBeInstanceOf(PollTcpProber);
    expect(denied.name).toBe("poll (io_uring_setup: EPERM)");
    expect(await denied.probe(denied.target("127.0.0.1", v4.port), spec, AbortSignal.timeout(1000))).toMatchObject({ ok: true });
    denied.closeIdle();
  });

  it("uses poll when GORB_TCP_PROBER=poll", () => {
    const forced = createTcpProber(libc!, { env: "poll", openRing: () => expect.unreachable("no ring when poll is forced") });
    expect(forced).toBeInstanceOf(PollTcpProber);
    expect(forced.name).toBe("poll (GORB_TCP_PROBER=poll)");
  });
});

describe.skipIf(libc === null)("under deploy/gorb.service's seccomp filter (emulated with libseccomp)", () => {
  const root = join(import.meta.dir, "..", "..", "..");
  const unit = parseUnit(readFileSync(join(root, "deploy", "gorb.service"), "utf8"));
  const test = testWithTool("systemd-analyze", "systemd") === bunTest && testWithLibrary("libseccomp.so.2", "seccomp_version", "libseccomp2") === bunTest ? bunTest : bunTest.skip;
  const script = `import { tcpProber } from "./src/pulse/checks/tcp-prober.ts"; console.log(tcpProber()?.name);`;
  /** The prober's name in a process under the unit's filter plus `extra`, EPERM on denial as the unit says. */
  const nameUnder = (extra: string[]) => {
    const filters = [...(unit.get("SystemCallFilter") ?? []), ...extra].flatMap((f) => ["--filter", f]);
    const env = { ...process.env, GORB_TCP_PROBER: "" };
    const r = Bun.spawnSync([process.execPath, join(root, "test", "unit", "deploy", "seccomp-exec.ts"), ...filters, "--action", "eperm", "--", process.execPath, "-e", script], { cwd: root, env, stderr: "pipe" });
    expect(r.stderr.toString()).toBe("");
    return r.stdout.toString().trim();
  };

  test("the unit's filter allows io_uring: gorb uses it", () => {
    const here = ring();
    here?.close();
    if (here === null) expect(nameUnder([])).toMatch(/^poll \(io_uring/);
    else expect(nameUnder([])).toBe("io_uring (coop_taskrun)");
  });

  test("with io_uring_setup denied (EPERM, like Docker's default profile), gorb falls back to poll", () => {
    expect(nameUnder(["~io_uring_setup"])).toBe("poll (io_uring_setup: EPERM)");
  });
});
