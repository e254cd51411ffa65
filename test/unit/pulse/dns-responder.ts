/** @module A tiny UDP DNS responder for the dns check tests (node:dgram), with a behaviour per name. */
import { createSocket, type Socket } from "node:dgram";

/** Reads the id, name and type of a one-question query. */
export function parseQuery(msg: Buffer): { id: number; name: string; qtype: number; questionEnd: number } {
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
export function respond(query: Buffer, id: number, rcode: number, answer: Buffer | null): Buffer {
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
export function responder(type: "udp4" | "udp6", address: string) {
  const queries: { name: string; qtype: number }[] = [];
  let socket: Socket = createSocket(type);
  const onMessage = (msg: Buffer, peer: { port: number; address: string }) => {
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
  };
  return {
    queries,
    /** Binds (again, after stop) on `port`, 0 for any; resolves to the port. */
    start: (port = 0) =>
      new Promise<number>((resolve) => {
        socket = createSocket(type);
        socket.on("message", onMessage);
        socket.bind(port, address, () => resolve(socket.address().port));
      }),
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
