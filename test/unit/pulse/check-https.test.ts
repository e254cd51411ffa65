import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { createServer, type Server } from "node:https";
import type { TLSSocket } from "node:tls";
import { runCheck } from "../../../src/pulse/checks/index.ts";
import { normalizePulseSpec, type PulseSpecInput } from "../../../src/pulse/spec.ts";
import { closedPort } from "./servers.ts";
import { testCert } from "./tls-cert.ts";

const https = (args: PulseSpecInput["args"] = {}) => normalizePulseSpec({ type: "https", interval: "2s", timeout: "2s", args });

describe.each(["127.0.0.1", "::1"] as const)("https check on %s", (host) => {
  const seen: { servername: string | false | null; host: string | undefined; path: string | undefined }[] = [];
  let server: Server;
  let port = 0;

  beforeAll(async () => {
    const { cert, key } = testCert();
    server = createServer({ cert, key }, (req, res) => {
      seen.push({ servername: (req.socket as TLSSocket).servername, host: req.headers.host, path: req.url });
      res.statusCode = req.url === "/ready" ? 200 : 404;
      res.end("body");
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => server.close());

  it("is up against a self-signed certificate when verification is off (the default)", async () => {
    expect(await runCheck({ host, port }, https({ path: "/ready" }))).toMatchObject({ ok: true });
    expect(seen.at(-1)!.path).toBe("/ready");
  });

  it("is down when verification is on and the certificate is self-signed", async () => {
    const result = await runCheck({ host, port }, https({ path: "/ready", tls_verify: true }));
    expect(result.ok).toBe(false);
    expect(result.error!.toLowerCase()).toMatch(/cert|self.signed|verify|unable/);
  });

  it("presents args.sni as the TLS server name", async () => {
    expect((await runCheck({ host, port }, https({ path: "/ready", sni: "pulse.test" }))).ok).toBe(true);
    expect(seen.at(-1)!.servername).toBe("pulse.test");
  });

  it("derives the server name from the Host header when no sni is given", async () => {
    expect((await runCheck({ host, port }, https({ path: "/ready", host_header: "pulse.test:8443" }))).ok).toBe(true);
    expect(seen.at(-1)).toMatchObject({ servername: "pulse.test", host: "pulse.test:8443" });
  });

  it("compares the status like http", async () => {
    const result = await runCheck({ host, port }, https({ path: "/missing" }));
    expect(result.error).toContain("status 404");
  });

  it("is down once the server is gone", async () => {
    expect((await runCheck({ host, port: closedPort(host) }, https())).ok).toBe(false);
  });
});
