/**
 * GenlSocket's receive length, against this host's kernel (generic netlink's own "nlctrl"
 * family needs no module and no privilege): a dump arrives whole in datagrams that fit
 * `datagramSize`, and a datagram longer than the buffer is an error, not a silently cut reply.
 */
import { afterEach, expect, test } from "bun:test";
import { GenlSocket, SocketError } from "../../../ffi/netlink-socket.ts";
import { Errno } from "../../../ffi/errno.ts";
import { MessageWriter } from "../../../src/ipvs/netlink/writer.ts";
import { Attributes } from "../../../src/ipvs/netlink/attributes.ts";
import { NLMSG_DONE, NLM_F_DUMP, NLM_F_REQUEST } from "../../../src/ipvs/netlink/constants.ts";
import { forEachMessage, genlPayload } from "../../../src/ipvs/netlink/messages.ts";

const CTRL_CMD_GETFAMILY = 3;
const CTRL_ATTR_FAMILY_NAME = 2;
const opened: GenlSocket[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

function openCtrl(): GenlSocket {
  const s = GenlSocket.open("nlctrl", { receiveTimeoutMs: 2000 });
  opened.push(s);
  return s;
}

/** Asks for a dump of every generic-netlink family (a message per family). */
function requestFamilyDump(s: GenlSocket, seq: number): void {
  const w = new MessageWriter(256);
  const start = w.beginGenl(s.familyId, NLM_F_REQUEST | NLM_F_DUMP, seq, CTRL_CMD_GETFAMILY, 1);
  w.endMessage(start);
  s.send(w.buffer(), w.length);
}

/**
 * Reads one datagram of the dump `seq`: the family names of its messages, and whether its
 * NLMSG_DONE has come.
 */
function readFamilies(datagram: Uint8Array, n: number, seq: number): { names: string[]; done: boolean } {
  const view = new DataView(datagram.buffer, datagram.byteOffset, n);
  const names: string[] = [];
  let done = false;
  forEachMessage(view, n, (header) => {
    if (header.seq !== seq) return;
    if (header.type === NLMSG_DONE) done = true;
    else {
      const { attrsStart, end } = genlPayload(view, header);
      const name = new Attributes(view, attrsStart, end, "ctrl").string(CTRL_ATTR_FAMILY_NAME);
      if (name !== undefined) names.push(name);
    }
  });
  return { names, done };
}

test("the receive length is min(page size, 8 KiB), and a dump arrives whole in datagrams that fit it", () => {
  const s = openCtrl();
  expect(s.datagramSize).toBe(Math.min(Number(Bun.spawnSync(["getconf", "PAGESIZE"]).stdout.toString()), 8192));
  requestFamilyDump(s, 7);
  const rx = new Uint8Array(s.datagramSize);
  const families: string[] = [];
  for (let done = false; !done; ) {
    const read = readFamilies(rx, s.receive(rx), 7); // receive throws EMSGSIZE if the kernel sent more than fits
    families.push(...read.names);
    done = read.done;
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
