import { afterAll, describe, expect, it } from "bun:test";
import { runCheck } from "../../../src/pulse/checks/index.ts";
import { checkTcp, checkTcpBun, parkedConnects, tcpCheckImplementation } from "../../../src/pulse/checks/tcp.ts";
import { normalizePulseSpec } from "../../../src/pulse/spec.ts";
import type { CheckResult, CheckTarget } from "../../../src/pulse/types.ts";
import { openBlackhole } from "./blackhole.ts";
import { closedPort, tcpServer, waitFor } from "./servers.ts";

const spec = normalizePulseSpec({ type: "tcp", interval: "1s", timeout: "300ms" });

/** runCheck's default checker (the libc prober here) and the Bun.connect fallback give the same answers. */
const implementations = {
  default: (target: CheckTarget, s = spec): Promise<CheckResult> => runCheck(target, s),
  "Bun.connect": (target: CheckTarget, s = spec): Promise<CheckResult> => checkTcpBun(target, s, AbortSignal.timeout(s.timeoutMs)),
};

it("uses the libc prober on Linux", () => {
  if (process.platform === "linux") expect(tcpCheckImplementation()).toBe("libc");
});

describe.each(["127.0.0.1", "::1"] as const)("tcp check on %s", (host) => {
  describe.each(Object.keys(implementations) as (keyof typeof implementations)[])("%s", (impl) => {
    const check = implementations[impl];
    // One server each: the prober answers before the server has accepted, so a connection of
    // one test may be counted during the next.
    const server = tcpServer(host);
    afterAll(() => server.stop());

    it("is up while the server listens, and the connection really reached it", async () => {
      const before = server.state.accepted;
      const result = await check({ host, port: server.port });
      expect(result.ok).toBe(true);
      expect(result.error).toBeUndefined();
      expect(result.latencyMs).toBeGreaterThanOrEqual(0);
      expect(await waitFor(() => server.state.accepted === before + 1)).toBe(true);
    });

    it("is down with a readable error once the server is gone", async () => {
      const port = closedPort(host);
      const result = await check({ host, port });
      expect(result.ok).toBe(false);
      expect(result.error).toBe(host === "::1" ? `connect [::1]:${port}: ECONNREFUSED` : `connect 127.0.0.1:${port}: ECONNREFUSED`);
    });

    it("checks the override port instead of the backend's", async () => {
      const override = normalizePulseSpec({ type: "tcp", args: { port: server.port } });
      expect((await check({ host, port: closedPort(host) }, override)).ok).toBe(true);
    });
  });
});

describe("tcp check timeouts", () => {
  it("Bun.connect: times out against a host that drops SYNs, and parks one attempt instead of piling them up", async () => {
    const hole = await openBlackhole();
    if (hole === null) return void console.warn("skipped: no libc for the blackhole listener");
    try {
      const target = { host: "127.0.0.1", port: hole.port };
      const first = await checkTcpBun(target, normalizePulseSpec({ interval: "1s", timeout: "150ms" }), AbortSignal.timeout(150));
      expect(first).toMatchObject({ ok: false, error: "timed out after 150ms" });
      expect(first.latencyMs).toBeGreaterThanOrEqual(140);
      expect(parkedConnects()).toBe(1);
      const second = await checkTcpBun(target, normalizePulseSpec({ interval: "1s", timeout: "100ms" }), AbortSignal.timeout(100));
      expect(second).toMatchObject({ ok: false, error: "timed out after 100ms" });
      expect(parkedConnects()).toBe(1); // joined the parked attempt
    } finally {
      hole.close();
    }
    // With the listener gone the next SYN retransmission is refused and the attempt settles.
    expect(await waitFor(() => parkedConnects() === 0, 10_000)).toBe(true);
  }, 15_000);

  it("default: times out against a host that drops SYNs and parks nothing (the socket is closed)", async () => {
    const hole = await openBlackhole();
    if (hole === null) return void console.warn("skipped: no libc for the blackhole listener");
    try {
      const result = await runCheck({ host: "127.0.0.1", port: hole.port }, normalizePulseSpec({ interval: "1s", timeout: "150ms" }));
      expect(result).toMatchObject({ ok: false, error: "timed out after 150ms" });
      expect(result.latencyMs).toBeGreaterThanOrEqual(140);
      expect(parkedConnects()).toBe(0);
    } finally {
      hole.close();
    }
  });

  it.each([
    ["default", checkTcp],
    ["Bun.connect", checkTcpBun],
  ] as const)("%s: resolves at once when the signal is already aborted", async (_name, check) => {
    const controller = new AbortController();
    controller.abort();
    const result = await check({ host: "127.0.0.1", port: 1 }, spec, controller.signal);
    expect(result).toMatchObject({ ok: false, error: "cancelled" });
  });
});
