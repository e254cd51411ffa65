/** Consul registration through the real `consul` client against a fake agent on loopback (its HTTP API as Consul ≥ 1.0 serves it). */
import { afterEach, describe, expect, it } from "bun:test";
import { ConsulSync, consulRegistry } from "../../../src/discovery/consul.ts";
import { rig } from "../core/helpers.ts";

interface Call {
  method: string;
  path: string;
  body: string;
}

/** A fake agent: records calls; `fail` answers 500 to that many next calls; unknown deregistrations get 404 as Consul answers. */
function fakeAgent() {
  const calls: Call[] = [];
  const registered = new Map<string, unknown>();
  const state = { fail: 0 };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const body = await request.text();
      calls.push({ method: request.method, path: url.pathname, body });
      if (state.fail > 0) {
        state.fail--;
        return new Response("agent is sulking", { status: 500 });
      }
      if (request.method !== "PUT") return new Response("method not allowed", { status: 405 });
      if (url.pathname === "/v1/agent/service/register") {
        const r = JSON.parse(body) as { Name: string; ID?: string };
        registered.set(r.ID ?? r.Name, r);
        return new Response("");
      }
      const m = /^\/v1\/agent\/service\/deregister\/(.+)$/.exec(url.pathname);
      if (m) {
        const id = decodeURIComponent(m[1]!);
        if (!registered.delete(id)) return new Response(`Unknown service ID "${id}"`, { status: 404 });
        return new Response("");
      }
      return new Response("not found", { status: 404 });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/ignored/path`, calls, registered, state, stop: () => server.stop(true) };
}

const agents: ReturnType<typeof fakeAgent>[] = [];
afterEach(() => {
  for (const a of agents.splice(0)) a.stop();
});

function setup() {
  const agent = fakeAgent();
  agents.push(agent);
  const lines: string[] = [];
  const sync = new ConsulSync({ registry: consulRegistry(agent.url), log: (l) => lines.push(l), retryMs: 20, maxRetryMs: 80 });
  return { agent, sync, lines };
}

describe("Consul registration (-c)", () => {
  it("registers gorb and each service as GORB did (PUT, Name/Address/Port), deregisters on delete; fwmark services are skipped", async () => {
    const { agent, sync } = setup();
    const r = rig();
    sync.start(r.core, { name: "gorb", address: "192.0.2.1", port: 4672 });
    await r.core.createService("web", { host: "192.0.2.10", port: 80 });
    await r.core.createService("web6", { host: "2001:db8::10", port: 443 });
    await r.core.createService("marked", { fwmark: 5 });
    await sync.settled();
    expect(agent.calls.map((c) => [c.method, c.path, c.body ? JSON.parse(c.body) : null])).toEqual([
      ["PUT", "/v1/agent/service/register", { Name: "gorb", Address: "192.0.2.1", Port: 4672 }],
      ["PUT", "/v1/agent/service/register", { Name: "web", Address: "192.0.2.10", Port: 80 }],
      ["PUT", "/v1/agent/service/register", { Name: "web6", Address: "2001:db8::10", Port: 443 }],
    ]);
    agent.calls.length = 0;
    await r.core.deleteService("web");
    await r.core.deleteService("marked");
    await sync.settled();
    expect(agent.calls.map((c) => [c.method, c.path])).toEqual([["PUT", "/v1/agent/service/deregister/web"]]);
    expect([...agent.registered.keys()].sort()).toEqual(["gorb", "web6"]);
    await sync.stop();
  });

  it("registers the services restored at start, and a PATCHed service again", async () => {
    const { agent, sync } = setup();
    const r = rig();
    await r.core.createService("web", { host: "192.0.2.10", port: 80 });
    sync.start(r.core);
    await r.core.updateService("web", { method: "rr" });
    await sync.settled();
    expect(agent.calls.map((c) => JSON.parse(c.body).Name)).toEqual(["web", "web"]);
    await sync.stop();
  });

  it("retries a refused call with back-off until the agent takes it, and logs each failure", async () => {
    const { agent, sync, lines } = setup();
    const r = rig();
    sync.start(r.core);
    agent.state.fail = 2;
    await r.core.createService("web", { host: "192.0.2.10", port: 80 });
    const deadline = Date.now() + 3000;
    while (!agent.registered.has("web") && Date.now() < deadline) await Bun.sleep(10);
    expect(agent.registered.has("web")).toBe(true);
    expect(agent.calls).toHaveLength(3);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^gorb: WARNING: could not register \[web\] \(192\.0\.2\.10:80\) in Consul: .*HTTP 500.*; retrying in 0\.0 s$/);
    await sync.stop();
  });

  it("a delete while a registration is being retried wins: the service ends deregistered", async () => {
    const { agent, sync } = setup();
    const r = rig();
    sync.start(r.core);
    agent.state.fail = 1;
    await r.core.createService("web", { host: "192.0.2.10", port: 80 });
    await r.core.deleteService("web");
    await Bun.sleep(300);
    await sync.settled();
    expect(agent.registered.has("web")).toBe(false);
    const last = agent.calls.at(-1)!;
    expect([last.method, last.path]).toEqual(["PUT", "/v1/agent/service/deregister/web"]);
    await sync.stop();
  });

  it("an agent that is down: the failure is logged, nothing throws into core, stop() cancels the retries", async () => {
    const { sync, lines } = setup();
    const down = new ConsulSync({ registry: consulRegistry("http://127.0.0.1:1"), log: (l) => lines.push(l), retryMs: 20 });
    const r = rig();
    down.start(r.core);
    await r.core.createService("web", { host: "192.0.2.10", port: 80 });
    await down.settled();
    expect(lines[0]).toMatch(/^gorb: WARNING: could not register \[web\]/);
    await down.stop();
    const count = lines.length;
    await Bun.sleep(100);
    expect(lines.length).toBe(count);
    await sync.stop();
  });
});
