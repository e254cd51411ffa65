/**
 * GenlSocket's receive length, against this host's kernel (generic netlink's own "nlctrl"
 * family needs no module and no privilege): every datagram of a multi-datagram dump fits in
 * `datagramSize`, and a datagram longer than the buffer is an error, not a silently cut reply.
 */
import { afterEach, expect, test } from "bun:test";
import { GenlSocket, SocketError } from "../../../ffi/netlink-socket.ts";
import { Errno } from "../../../ffi/errno.ts";
import { MessageWriter } from "../../../src/ipvs/netlink/writer.ts";
import { NLMSG_DONE, NLMSG_HDRLEN, NLM_F_DUMP, NLM_F_REQUEST } from "../../../src/ipvs/netlink/constants.ts";

const CTRL_CMD_GETFAMILY = 3;
const opened: GenlSocket[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

function openCtrl(): GenlSocket {
  const s = GenlSocket.open("nlctrl", { receiveTimeoutMs: 2000 });
  opened.push(s);
  return s;
}

/** Asks for a dump of every generic-netlink family (a few KiB per family). */
function requestFamilyDump(s: GenlSocket, seq: number): void {
  const w = new MessageWriter(256);
  const start = w.beginGenl(s.familyId, NLM_F_REQUEST | NLM_F_DUMP, seq, CTRL_CMD_GETFAMILY, 1);
  w.endMessage(start);
  s.send(w.buffer(), w.length);
}

const CTRL_ATTR_FAMILY_NAME = 2;

/** The family names in the CTRL_CMD_NEWFAMILY messages of `seq` in a datagram. */
function familyNames(datagram: Uint8Array, n: number, seq: number): string[] {
  const view = new DataView(datagram.buffer, datagram.byteOffset);
  const names: string[] = [];
  for (let at = 0; at + NLMSG_HDRLEN <= n; at += (view.getUint32(at, true) + 3) & ~3) {
    const length = view.getUint32(at, true);
    if (length < NLMSG_HDRLEN || view.getUint32(at + 8, true) !== seq || view.getUint16(at + 4, true) === NLMSG_DONE) break;
    // Attributes follow the 16-byte netlink header and the 4-byte genl header.
    for (let a = at + 20; a + 4 <= at + length; a += (view.getUint16(a, true) + 3) & ~3) {
      const len = view.getUint16(a, true);
      if (len < 4) break;
      if ((view.getUint16(a + 2, true) & 0x3fff) === CTRL_ATTR_FAMILY_NAME) names.push(new TextDecoder().decode(datagram.subarray(a + 4, a + len - 1)));
    }
  }
  return names;
}

/** Does `datagram` hold the NLMSG_DONE of `seq`? */
function hasDone(datagram: Uint8Array, n: number, seq: number): boolean {
  const view = new DataView(datagram.buffer, datagram.byteOffset);
  for (let at = 0; at + NLMSG_HDRLEN <= n; at += (view.getUint32(at, true) + 3) & ~3) {
    if (view.getUint32(at, true) < NLMSG_HDRLEN) return false;
    if (view.getUint16(at + 4, true) === NLMSG_DONE && view.getUint32(at + 8, true) === seq) return true;
  }
  return false;
}

test("the receive length is min(page size, 8 KiB), and a dump arrives whole in datagrams that fit it", () => {
  const s = openCtrl();
  expect(s.datagramSize).toBe(Math.min(Number(Bun.spawnSync(["getconf", "PAGESIZE"]).stdout.toString()), 8192));
  requestFamilyDump(s, 7);
  const rx = new Uint8Array(s.datagramSize);
  const families: string[] = [];
  for (;;) {
    const n = s.receive(rx); // throws EMSGSIZE if the kernel sent more than fits
    families.push(...familyNames(rx, n, 7));
    if (hasDone(rx, n, 7)) break;
  }
  // Many datagrams of it are in the kernel tier (a service with hundreds of destinations).
  expect(families).toContain("nlctrl");
});

test("a datagram longer than the buffer fails with EMSGSIZE instead of arriving cut short", () => {
  const s = openCtrl();
  requestFamilyDump(s, 8);
  const e = (() => {
    try {
      s.receive(new Uint8Array(64));
    } catch (x) {
      return x;
    }
  })();
  expect(e).toBeInstanceOf(SocketError);
  expect((e as SocketError).errno).toBe(Errno.EMSGSIZE);
  expect((e as SocketError).message).toContain("did not fit in 64 bytes");
});
