import { afterEach, describe, expect, it } from "bun:test";
import { Pulse, type PulseUpdate } from "../../../src/pulse/pulse.ts";
import { normalizePulseSpec } from "../../../src/pulse/spec.ts";
import { responder } from "./dns-responder.ts";
import { waitFor } from "./servers.ts";

/** Pulse on the real clock and real checkers against loopback servers that go down and come back. */
describe("Pulse with real checks", () => {
  let pulse: Pulse | undefined;
  afterEach(async () => {
    await pulse?.stop();
    pulse = undefined;
  });

  function start() {
    const updates: PulseUpdate[] = [];
    pulse = new Pulse({ random: () => 0, onUpdate: (u) => updates.push(u) });
    return { pulse, updates };
  }

  it.each(["127.0.0.1", "::1"] as const)("follows a TCP server on %s going down and coming back", async (hostname) => {
    const listen = (port: number) => Bun.listen({ hostname, port, socket: { data() {} } });
    let server = listen(0);
    const port = server.port;
    const { pulse, updates } = start();
    const spec = normalizePulseSpec({ type: "tcp", interval: "20ms", timeout: "500ms", window: 4 });
    const generation = pulse.add("rs1", { host: hostname, port }, spec, 100);

    expect(await waitFor(() => updates.some((u) => u.status === "up"))).toBe(true);
    expect(pulse.effectiveWeight("rs1", 100)).toBe(100);

    server.stop(true);
    expect(await waitFor(() => updates.at(-1)?.status === "down")).toBe(true);
    expect(pulse.effectiveWeight("rs1", 100)).toBe(0);
    expect(pulse.metrics("rs1")).toMatchObject({ status: "down", uptime: 0, weight: 0 });
    expect(pulse.metrics("rs1")!.lastError).toContain("ECONNREFUSED");

    server = listen(port);
    try {
      expect(await waitFor(() => updates.at(-1)?.status === "up")).toBe(true);
      // Recovering like GORB: weight follows health until the failures leave the window.
      const recovering = updates.findLast((u) => u.status === "up" && u.health < 1);
      expect(recovering?.metrics.weight).toBe(Math.trunc(100 * recovering!.health));
      expect(await waitFor(() => pulse.effectiveWeight("rs1", 100) === 100)).toBe(true);
      expect(updates.every((u) => u.id === "rs1" && u.generation === generation)).toBe(true);
    } finally {
      server.stop(true);
    }
  });

  it("follows an HTTP server that starts failing its health endpoint", async () => {
    let healthy = true;
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(null, { status: healthy ? 200 : 503 }) });
    try {
      const { pulse, updates } = start();
      pulse.add("web", { host: "127.0.0.1", port: server.port! }, normalizePulseSpec({ type: "http", interval: "20ms", args: { path: "/healthz" } }));
      expect(await waitFor(() => updates.at(-1)?.status === "up")).toBe(true);
      healthy = false;
      expect(await waitFor(() => updates.at(-1)?.status === "down")).toBe(true);
      expect(updates.at(-1)!.metrics.lastError).toContain("status 503");
      healthy = true;
      expect(await waitFor(() => updates.at(-1)?.status === "up")).toBe(true);
    } finally {
      server.stop(true);
    }
  });

  it("follows a DNS server on ::1 going down and coming back", async () => {
    const server = responder("udp6", "::1");
    const port = await server.start();
    const { pulse, updates } = start();
    pulse.add("ns", { host: "::1", port }, normalizePulseSpec({ type: "dns", interval: "20ms", timeout: "200ms", args: { name: "ok.test", record: "AAAA" } }));
    expect(await waitFor(() => updates.at(-1)?.status === "up")).toBe(true);
    await server.stop();
    expect(await waitFor(() => updates.at(-1)?.status === "down")).toBe(true);
    expect(updates.at(-1)!.metrics.lastError).toContain("ECONNREFUSED");
    await server.start(port);
    try {
      expect(await waitFor(() => updates.at(-1)?.status === "up")).toBe(true);
      expect(server.queries.at(-1)).toEqual({ name: "ok.test", qtype: 28 });
    } finally {
      await server.stop();
    }
  });

  it("stops checking a removed backend", async () => {
    let hits = 0;
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => (hits++, new Response("ok")) });
    try {
      const { pulse } = start();
      pulse.add("web", { host: "127.0.0.1", port: server.port! }, normalizePulseSpec({ type: "http", interval: "10ms" }));
      expect(await waitFor(() => hits >= 3)).toBe(true);
      pulse.remove("web");
      await Bun.sleep(30);
      const after = hits;
      await Bun.sleep(100);
      expect(hits).toBe(after);
    } finally {
      server.stop(true);
    }
  });
});
