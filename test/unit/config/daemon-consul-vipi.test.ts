/**
 * The daemon (src/main.ts, memory mode) with GORB's -c and -vipi: it registers itself and each
 * service in a (fake, loopback) Consul agent and deregisters on delete; -vipi works on an
 * in-memory copy of the host's interface (GET /status shows the VIPs; nothing on the host changes);
 * -store consul:// applies the KV store's services before the API serves and writes changes back.
 */
import { afterAll, expect, test } from "bun:test";
import { fakeConsulKv } from "../../support/fake-consul-kv.ts";

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

/** Calls `get` until it answers (no error) with a value `ok` accepts. */
async function poll<T>(what: string, get: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const value = await get();
      if (ok(value)) return value;
    } catch {
      // not answering yet
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within 10 s`);
    await Bun.sleep(50);
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

test("-store consul://: the store's services are there when the API serves; API changes reach the store", async () => {
  const kv = fakeConsulKv();
  kv.data.set("lb/services/web", JSON.stringify({ host: "192.0.2.20", port: 80, protocol: "tcp", method: "rr", persistent: false, flags: "" }));
  kv.data.set("lb/backends/b1", JSON.stringify({ host: "198.51.100.20", port: 8080, weight: 5, method: "nat", pulse: { type: "none" }, vsid: "web" }));
  const port = freePort();
  const main = `${import.meta.dir}/../../../src/main.ts`;
  const args = ["--ipvs", "memory", "--no-state", "-l", `127.0.0.1:${port}`, "-i", "lo", "-store", `consul://${kv.url}/lb`, "-store-sync-time", "1"];
  const daemon = Bun.spawn([process.execPath, main, ...args], { stdout: "pipe", stderr: "pipe" });
  const url = `http://127.0.0.1:${port}`;
  try {
    const services = async () => (await (await fetch(`${url}/service`)).json()) as string[];
    expect(await poll("the API", services, () => true)).toEqual(["web"]);
    const backend = (await (await fetch(`${url}/service/web/b1`)).json()) as { options: { weight: number } };
    expect(backend.options.weight).toBe(5);
    expect((await fetch(`${url}/service/web/b1`, { method: "PATCH", body: JSON.stringify({ weight: 9 }) })).status).toBe(200);
    await until("the write-through", () => JSON.parse(kv.data.get("lb/backends/b1")!).weight === 9);
    // Another instance removes the service from the store: the next sync (1 s) removes it here.
    kv.data.delete("lb/services/web");
    kv.data.delete("lb/backends/b1");
    expect(await poll("the sync", services, (list) => list.length === 0)).toEqual([]);
    daemon.kill("SIGTERM");
    expect(await daemon.exited).toBe(0);
  } finally {
    daemon.kill("SIGKILL");
    kv.stop();
  }
});
