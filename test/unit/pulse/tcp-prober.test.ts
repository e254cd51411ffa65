import { afterAll, describe, expect, it } from "bun:test";
import { readdirSync } from "node:fs";
import { CHECK_CANCELLED, CHECK_TIMEOUT } from "../../../src/pulse/checks/common.ts";
import { checkTcp } from "../../../src/pulse/checks/tcp.ts";
import { tcpProber, type TcpProber } from "../../../src/pulse/checks/tcp-prober.ts";
import { Pulse, type PulseUpdate } from "../../../src/pulse/pulse.ts";
import { normalizePulseSpec } from "../../../src/pulse/spec.ts";
import { openBlackhole } from "./blackhole.ts";
import { closedPort, tcpServer, waitFor } from "./servers.ts";

const spec = normalizePulseSpec({ type: "tcp", interval: "1s", timeout: "150ms" });
const prober = tcpProber();
/** Descriptors open, not counting the sockets the prober keeps for reuse. */
const openFds = (p: TcpProber) => readdirSync("/proc/self/fd").length - p.idleSockets;

/** One probe that the test aborts with `reason` after `ms` (or never). */
function probe(p: TcpProber, host: string, port: number, abortAfterMs?: number, reason: unknown = CHECK_TIMEOUT) {
  const controller = new AbortController();
  const target = p.target(host, port);
  const result = p.probe(target, spec, controller.signal);
  if (abortAfterMs !== undefined) setTimeout(() => controller.abort(reason), abortAfterMs);
  return { result, controller };
}

describe.skipIf(prober === null)("the libc TCP prober", () => {
  const p = prober!;
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
    const pulse = new Pulse({ random: () => 0, onUpdate: (u) => updates.push(u) });
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
      expect(results.filter((r) => r.ok)).toHaveLength(100);
      expect(results.filter((r) => r.error === "timed out after 150ms")).toHaveLength(50);
      expect(results.filter((r) => r.error === "cancelled")).toHaveLength(100);
      expect(p.openSockets).toBe(0);
      expect(openFds(p)).toBe(before);
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

  it("leaves host names to Bun.connect", async () => {
    const result = await checkTcp({ host: "localhost", port: v4.port }, spec, AbortSignal.timeout(1000));
    expect(result.ok).toBe(true);
  });
});
