import { afterAll, describe, expect, it } from "bun:test";
import { runCheck } from "../../../src/pulse/checks/index.ts";
import { checkTcp, parkedConnects } from "../../../src/pulse/checks/tcp.ts";
import { normalizePulseSpec } from "../../../src/pulse/spec.ts";
import { openBlackhole } from "./blackhole.ts";
import { closedPort, tcpServer, waitFor } from "./servers.ts";

const spec = normalizePulseSpec({ type: "tcp", interval: "1s", timeout: "300ms" });

describe.each(["127.0.0.1", "::1"] as const)("tcp check on %s", (host) => {
  const server = tcpServer(host);
  afterAll(() => server.stop());

  it("is up while the server listens, and the connection really reached it", async () => {
    const before = server.state.accepted;
    const result = await runCheck({ host, port: server.port }, spec);
    expect(result.ok).toBe(true);
    expect(result.error).toBeUndefined();
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(await waitFor(() => server.state.accepted === before + 1)).toBe(true);
  });

  it("is down with a readable error once the server is gone", async () => {
    const port = closedPort(host);
    const result = await runCheck({ host, port }, spec);
    expect(result.ok).toBe(false);
    expect(result.error).toContain("ECONNREFUSED");
    expect(result.error).toContain(host === "::1" ? `[::1]:${port}` : `127.0.0.1:${port}`);
  });

  it("checks the override port instead of the backend's", async () => {
    const override = normalizePulseSpec({ type: "tcp", args: { port: server.port } });
    expect((await runCheck({ host, port: closedPort(host) }, override)).ok).toBe(true);
  });
});

describe("tcp check timeouts", () => {
  it("times out against a host that drops SYNs, and parks one attempt instead of piling them up", async () => {
    const hole = await openBlackhole();
    if (hole === null) return void console.warn("skipped: no libc for the blackhole listener");
    try {
      const target = { host: "127.0.0.1", port: hole.port };
      const first = await runCheck(target, normalizePulseSpec({ interval: "1s", timeout: "150ms" }));
      expect(first).toMatchObject({ ok: false, error: "timed out after 150ms" });
      expect(first.latencyMs).toBeGreaterThanOrEqual(140);
      expect(parkedConnects()).toBe(1);
      const second = await runCheck(target, normalizePulseSpec({ interval: "1s", timeout: "100ms" }));
      expect(second).toMatchObject({ ok: false, error: "timed out after 100ms" });
      expect(parkedConnects()).toBe(1); // joined the parked attempt
    } finally {
      hole.close();
    }
    // With the listener gone the next SYN retransmission is refused and the attempt settles.
    expect(await waitFor(() => parkedConnects() === 0, 10_000)).toBe(true);
  }, 15_000);

  it("resolves at once when the signal is already aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await checkTcp({ host: "127.0.0.1", port: 1 }, spec, controller.signal);
    expect(result).toMatchObject({ ok: false, error: "cancelled" });
  });
});
