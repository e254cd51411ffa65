/**
 * The daemon (src/main.ts, memory mode) with GORB's -c and -vipi: it registers itself and each
 * service in a (fake, loopback) Consul agent and deregisters on delete; -vipi works on an
 * in-memory copy of the host's interface (GET /status shows the VIPs; nothing on the host changes).
 */
import { afterAll, expect, test } from "bun:test";

const agentCalls: string[] = [];
const agent = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request) {
    agentCalls.push(`${request.method} ${new URL(request.url).pathname} ${await request.text()}`.trim());
    return new Response("");
  },
});
afterAll(() => agent.stop(true));

function freePort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

async function until(what: string, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 10 s`);
    await Bun.sleep(20);
  }
}

test("-c registers gorb and the services in Consul; -vipi in memory mode shows the VIPs", async () => {
  const port = freePort();
  const main = `${import.meta.dir}/../../../src/main.ts`;
  const args = ["--ipvs", "memory", "--no-state", "-l", `127.0.0.1:${port}`, "-i", "lo", "-vipi", "lo", "-c", `http://127.0.0.1:${agent.port}`];
  const daemon = Bun.spawn([process.execPath, main, ...args], { stdout: "pipe", stderr: "pipe" });
  const url = `http://127.0.0.1:${port}`;
  try {
    await until("the API", () => agentCalls.some((c) => c.includes('"Name":"gorb"')));
    expect(agentCalls).toContain(`PUT /v1/agent/service/register {"Name":"gorb","Address":"127.0.0.1","Port":${port}}`);
    expect((await fetch(`${url}/service/web`, { method: "PUT", body: JSON.stringify({ host: "192.0.2.10", port: 80 }) })).status).toBe(200);
    await until("the registration", () => agentCalls.some((c) => c.includes('"Name":"web"')));
    expect(agentCalls).toContain('PUT /v1/agent/service/register {"Name":"web","Address":"192.0.2.10","Port":80}');
    const status = (await (await fetch(`${url}/status`)).json()) as { vip_interface: string; vips: unknown[] };
    expect(status.vip_interface).toBe("lo");
    expect(status.vips).toEqual([{ vip: "192.0.2.10/32", services: ["web"], owned: true }]);
    expect((await fetch(`${url}/service/web`, { method: "DELETE" })).status).toBe(200);
    await until("the deregistration", () => agentCalls.includes("PUT /v1/agent/service/deregister/web"));
    daemon.kill("SIGTERM");
    expect(await daemon.exited).toBe(0);
  } finally {
    daemon.kill("SIGKILL");
  }
});
