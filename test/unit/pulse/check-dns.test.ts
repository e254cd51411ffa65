import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { encodeQuery, judgeResponse } from "../../../src/pulse/checks/dns-message.ts";
import { runCheck } from "../../../src/pulse/checks/index.ts";
import { normalizePulseSpec } from "../../../src/pulse/spec.ts";
import { respond, responder } from "./dns-responder.ts";

const dns = (name: string, record?: string, port?: number) =>
  normalizePulseSpec({ type: "dns", interval: "2s", timeout: "300ms", args: { name, ...(record ? { record } : {}), ...(port ? { port } : {}) } });

describe.each([["udp4", "127.0.0.1"], ["udp6", "::1"]] as const)("dns check over %s", (type, host) => {
  const server = responder(type, host);
  let port = 0;
  beforeAll(async () => void (port = await server.start()));
  afterAll(() => server.stop());

  it("is up when the name has an answer", async () => {
    expect(await runCheck({ host, port }, dns("ok.test"))).toMatchObject({ ok: true });
    expect(server.queries.at(-1)).toEqual({ name: "ok.test", qtype: 1 });
  });

  it("asks for the configured record type", async () => {
    expect((await runCheck({ host, port }, dns("ok.test", "AAAA"))).ok).toBe(true);
    expect(server.queries.at(-1)).toEqual({ name: "ok.test", qtype: 28 });
  });

  it("is down on NXDOMAIN and on an empty answer", async () => {
    expect(await runCheck({ host, port }, dns("missing.test"))).toMatchObject({ ok: false, error: `missing.test/A @${host === "::1" ? "[::1]" : host}:${port}: DNS NXDOMAIN` });
    expect((await runCheck({ host, port }, dns("empty.test"))).error).toContain("DNS answer section empty");
  });

  it("ignores a reply with another id and waits for its own", async () => {
    expect((await runCheck({ host, port }, dns("noisy.test"))).ok).toBe(true);
  });

  it("times out when the server stays silent", async () => {
    expect(await runCheck({ host, port }, dns("silent.test"))).toMatchObject({ ok: false, error: "timed out after 300ms" });
  });

  it("queries the override port", async () => {
    expect((await runCheck({ host, port: 9 }, dns("ok.test", "A", port))).ok).toBe(true);
  });
});

describe("dns check against a closed port", () => {
  it("is down with the ICMP-reported refusal, not a timeout", async () => {
    const server = responder("udp4", "127.0.0.1");
    const port = await server.start();
    await server.stop();
    const result = await runCheck({ host: "127.0.0.1", port }, dns("ok.test"));
    expect(result.ok).toBe(false);
    expect(result.error).toContain("ECONNREFUSED");
  });
});

describe("dns messages", () => {
  it("encodes a query with RD set and the name as labels", () => {
    const query = encodeQuery(0x1234, "a.bc.", 28);
    expect([...query]).toEqual([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, 97, 2, 98, 99, 0, 0, 28, 0, 1]);
    expect([...encodeQuery(1, ".", 1)].slice(12)).toEqual([0, 0, 1, 0, 1]);
  });

  it("judges responses: ignore others, answer, rcode, empty", () => {
    const query = Buffer.from(encodeQuery(7, "ok.test", 1));
    expect(judgeResponse(respond(query, 7, 0, Buffer.from([1, 2, 3, 4])), 7)).toBeNull();
    expect(judgeResponse(respond(query, 8, 0, Buffer.from([1, 2, 3, 4])), 7)).toBe("ignore");
    expect(judgeResponse(query, 7)).toBe("ignore"); // a query, not a response
    expect(judgeResponse(new Uint8Array(5), 7)).toBe("ignore");
    expect(judgeResponse(respond(query, 7, 2, null), 7)).toBe("DNS SERVFAIL");
    expect(judgeResponse(respond(query, 7, 9, null), 7)).toBe("DNS rcode 9");
    expect(judgeResponse(respond(query, 7, 0, null), 7)).toBe("DNS answer section empty");
  });
});
