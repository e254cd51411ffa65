import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { createSocket, type Socket } from "node:dgram";
import { encodeQuery, judgeResponse } from "../../../src/pulse/checks/dns-message.ts";
import { runCheck } from "../../../src/pulse/checks/index.ts";
import { normalizePulseSpec } from "../../../src/pulse/spec.ts";

const dns = (name: string, record?: string, port?: number) =>
  normalizePulseSpec({ type: "dns", interval: "2s", timeout: "300ms", args: { name, ...(record ? { record } : {}), ...(port ? { port } : {}) } });

/** Reads the id, name and type of a one-question query. */
function parseQuery(msg: Buffer): { id: number; name: string; qtype: number; questionEnd: number } {
  const labels: string[] = [];
  let at = 12;
  while (msg[at]! !== 0) {
    const len = msg[at]!;
    labels.push(msg.subarray(at + 1, at + 1 + len).toString("latin1"));
    at += 1 + len;
  }
  at++;
  return { id: msg.readUInt16BE(0), name: labels.join("."), qtype: msg.readUInt16BE(at), questionEnd: at + 4 };
}

/** Builds a response: copies the question, sets QR/RA, rcode and optional answers (one record). */
function respond(query: Buffer, id: number, rcode: number, answer: Buffer | null): Buffer {
  const { qtype, questionEnd } = parseQuery(query);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x8180 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answer ? 1 : 0, 6);
  const parts = [header, query.subarray(12, questionEnd)];
  if (answer) {
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question
    rr.writeUInt16BE(qtype, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(30, 6);
    rr.writeUInt16BE(answer.length, 10);
    parts.push(rr, answer);
  }
  return Buffer.concat(parts);
}

/** A tiny authoritative server for *.test names, with a behaviour per name. */
function responder(type: "udp4" | "udp6", address: string) {
  const queries: { name: string; qtype: number }[] = [];
  const socket: Socket = createSocket(type);
  socket.on("message", (msg, peer) => {
    const q = parseQuery(msg);
    queries.push({ name: q.name, qtype: q.qtype });
    const send = (b: Buffer) => socket.send(b, peer.port, peer.address);
    const address = q.qtype === 28 ? Buffer.alloc(16, 0).fill(1, 15) : Buffer.from([127, 0, 0, 1]);
    switch (q.name) {
      case "ok.test": return send(respond(msg, q.id, 0, address));
      case "empty.test": return send(respond(msg, q.id, 0, null));
      case "noisy.test":
        send(respond(msg, (q.id + 1) & 0xffff, 0, address)); // a stray reply with the wrong id
        return send(respond(msg, q.id, 0, address));
      case "silent.test": return;
      default: return send(respond(msg, q.id, 3, null)); // NXDOMAIN
    }
  });
  return {
    queries,
    start: () => new Promise<number>((resolve) => socket.bind(0, address, () => resolve(socket.address().port))),
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

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
