import { afterAll, describe, expect, it } from "bun:test";
import { createServer, type Socket } from "node:net";
import { runCheck } from "../../../src/pulse/checks/index.ts";
import { normalizePulseSpec, type PulseSpecInput } from "../../../src/pulse/spec.ts";
import { closedPort, waitFor } from "./servers.ts";

const http = (args: PulseSpecInput["args"] = {}, extra: PulseSpecInput = {}) =>
  normalizePulseSpec({ type: "http", interval: "2s", timeout: "500ms", args, ...extra });

/** A Bun.serve app recording what each check sent. */
function app(hostname: "127.0.0.1" | "::1") {
  const seen: { method: string; path: string; host: string | null; check: string | null }[] = [];
  const server = Bun.serve({
    hostname,
    port: 0,
    fetch(req) {
      const url = new URL(req.url);
      seen.push({ method: req.method, path: url.pathname + url.search, host: req.headers.get("host"), check: req.headers.get("x-check") });
      switch (url.pathname) {
        case "/": return new Response("ok");
        case "/health": return url.searchParams.get("deep") === "1" ? new Response("deep") : new Response("shallow", { status: 418 });
        case "/no-content": return new Response(null, { status: 204 });
        case "/down": return new Response("maintenance", { status: 503 });
        case "/moved": return Response.redirect(`http://${url.host}/`, 302);
        case "/post-only": return new Response(null, { status: req.method === "POST" ? 200 : 405 });
        case "/vhost": return new Response(null, { status: req.headers.get("host") === "svc.example" ? 200 : 404 });
        case "/big": return new Response(new Uint8Array(1 << 20));
        case "/hang": return new Promise<Response>(() => {});
        default: return new Response("no", { status: 404 });
      }
    },
  });
  return { server, seen, port: server.port! };
}

describe.each(["127.0.0.1", "::1"] as const)("http check on %s", (host) => {
  const { server, seen, port } = app(host);
  afterAll(() => server.stop(true));
  const target = { host, port };

  it("is up on 200 for GET / by default, with the address as Host", async () => {
    const result = await runCheck(target, http());
    expect(result).toMatchObject({ ok: true });
    expect(seen.at(-1)).toEqual({ method: "GET", path: "/", host: host === "::1" ? `[::1]:${port}` : `127.0.0.1:${port}`, check: null });
  });

  it("sends the path with its query", async () => {
    expect((await runCheck(target, http({ path: "/health?deep=1" }))).ok).toBe(true);
    expect(seen.at(-1)!.path).toBe("/health?deep=1");
    expect((await runCheck(target, http({ path: "/health" }))).ok).toBe(false);
  });

  it("matches the expected status: one code, a list or a range", async () => {
    expect((await runCheck(target, http({ path: "/no-content" }))).ok).toBe(false);
    expect((await runCheck(target, http({ path: "/no-content", expect: [200, 204] }))).ok).toBe(true);
    expect((await runCheck(target, http({ path: "/no-content", expect: "200-299" }))).ok).toBe(true);
    expect((await runCheck(target, http({ path: "/down", expect: "503" }))).ok).toBe(true);
    const down = await runCheck(target, http({ path: "/down" }));
    expect(down.ok).toBe(false);
    expect(down.error).toContain("status 503, expected 200");
  });

  it("does not follow redirects unless asked", async () => {
    const moved = await runCheck(target, http({ path: "/moved" }));
    expect(moved.error).toContain("status 302");
    expect((await runCheck(target, http({ path: "/moved", expect: 302 }))).ok).toBe(true);
    expect((await runCheck(target, http({ path: "/moved", follow_redirects: true }))).ok).toBe(true);
  });

  it("uses the method, Host header and extra headers given", async () => {
    expect((await runCheck(target, http({ path: "/post-only" }))).ok).toBe(false);
    expect((await runCheck(target, http({ path: "/post-only", method: "post" }))).ok).toBe(true);
    expect((await runCheck(target, http({ path: "/vhost", host_header: "svc.example", headers: { "X-Check": "gorb" } }))).ok).toBe(true);
    expect(seen.at(-1)).toMatchObject({ host: "svc.example", check: "gorb" });
  });

  it("reads past a large body and succeeds", async () => {
    expect((await runCheck(target, http({ path: "/big" }))).ok).toBe(true);
  });

  it("times out a backend that never answers", async () => {
    const result = await runCheck(target, http({ path: "/hang" }, { timeout: "200ms" }));
    expect(result).toMatchObject({ ok: false, error: "timed out after 200ms" });
  });

  it("checks another endpoint through the host/port override", async () => {
    const elsewhere = http({ host: host === "::1" ? "[::1]" : host, port: String(port) });
    expect((await runCheck({ host, port: closedPort(host) }, elsewhere)).ok).toBe(true);
  });

  it("is down with the connection error once the server is gone", async () => {
    const result = await runCheck({ host, port: closedPort(host) }, http());
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/GET http:\/\/.*: .+/);
  });
});

describe("http check connection hygiene", () => {
  it("consumes and closes every response (GORB leaked a socket per check)", async () => {
    const open = new Set<Socket>();
    let accepted = 0;
    const body = "x".repeat(100_000);
    const raw = createServer((socket) => {
      accepted++;
      open.add(socket);
      socket.on("close", () => open.delete(socket));
      socket.on("error", () => {});
      socket.once("data", () => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n${body}`));
    });
    await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
    const port = (raw.address() as { port: number }).port;
    try {
      for (let i = 0; i < 20; i++) expect((await runCheck({ host: "127.0.0.1", port }, http())).ok).toBe(true);
      expect(accepted).toBe(20); // a fresh connection per check: it proves the backend still accepts
      expect(await waitFor(() => open.size === 0)).toBe(true);
    } finally {
      raw.close();
    }
  });
});
