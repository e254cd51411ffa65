/** rtnetlink encoding and decoding, byte for byte (the kernel tier checks the kernel agrees). */
import { describe, expect, test } from "bun:test";
import { Attributes } from "../../../src/ipvs/netlink/attributes.ts";
import { forEachMessage, type MessageHeader } from "../../../src/ipvs/netlink/messages.ts";
import { MessageWriter } from "../../../src/ipvs/netlink/writer.ts";
import {
  IFA_ADDRESS,
  IFA_LOCAL,
  IFINFOMSG_LEN,
  RTM_DELADDR,
  RTM_NEWADDR,
  RTM_NEWLINK,
  readAddress,
  readLinkIndex,
  writeAddressChange,
  writeAddressDump,
  writeGetLink,
} from "../../../src/net/rtnetlink.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const v4 = Uint8Array.of(192, 0, 2, 10);
const v6 = Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10);

describe("MessageWriter plain messages", () => {
  test("beginMessage writes a bare nlmsghdr; raw appends a struct padded to 4 bytes", () => {
    const w = new MessageWriter(4);
    const m = w.beginMessage(0x1234, 0x0105, 9);
    w.raw(Uint8Array.of(1, 2, 3, 4, 5));
    w.u8(1, 7);
    w.endMessage(m);
    expect(hex(w.bytes())).toBe(
      ["20000000", "3412", "0501", "09000000", "00000000", "0102030405000000", "0500", "0100", "07000000"].join(""),
    );
  });

  test("generic-netlink messages are unchanged", () => {
    const w = new MessageWriter();
    w.endMessage(w.beginGenl(0x20, 0x5, 7, 1, 1));
    expect(hex(w.bytes())).toBe("140000002000050007000000000000000101" + "0000");
  });
});

describe("requests", () => {
  test("RTM_NEWADDR of an IPv4 /32: create+excl+ack, IFA_LOCAL and IFA_ADDRESS", () => {
    const w = new MessageWriter();
    writeAddressChange(w, 7, RTM_NEWADDR, { index: 5, family: "inet", prefix: 32, bytes: v4 });
    expect(hex(w.bytes())).toBe(
      [
        "28000000", "1400", "0506", "07000000", "00000000", // len 40, RTM_NEWADDR, REQUEST|ACK|EXCL|CREATE, seq 7
        "02", "20", "00", "00", "05000000", // ifaddrmsg: AF_INET, /32, no flags, scope universe, index 5
        "0800", "0200", "c000020a", // IFA_LOCAL
        "0800", "0100", "c000020a", // IFA_ADDRESS
      ].join(""),
    );
  });

  test("RTM_NEWADDR of an IPv6 /128 skips DAD (IFA_F_NODAD)", () => {
    const w = new MessageWriter();
    writeAddressChange(w, 1, RTM_NEWADDR, { index: 300, family: "inet6", prefix: 128, bytes: v6 });
    const b = w.bytes();
    expect(b.length).toBe(64);
    expect(hex(b.subarray(16, 24))).toBe("0a800200" + "2c010000");
    expect(hex(b.subarray(24, 44))).toBe("1400" + "0200" + hex(v6));
    expect(hex(b.subarray(44, 64))).toBe("1400" + "0100" + hex(v6));
  });

  test("RTM_DELADDR asks only for an ack, with no DAD flag", () => {
    const w = new MessageWriter();
    writeAddressChange(w, 2, RTM_DELADDR, { index: 5, family: "inet6", prefix: 128, bytes: v6 });
    expect(hex(w.bytes().subarray(4, 8))).toBe("1500" + "0500");
    expect(hex(w.bytes().subarray(16, 24))).toBe("0a800000" + "05000000");
  });

  test("RTM_GETLINK by name, without statistics", () => {
    const w = new MessageWriter();
    writeGetLink(w, 3, "eth0");
    expect(hex(w.bytes())).toBe(
      [
        "34000000", "1200", "0500", "03000000", "00000000", // len 52, RTM_GETLINK, REQUEST|ACK
        "00".repeat(IFINFOMSG_LEN), // ifinfomsg: any family, index 0 (look up by name)
        "0900", "0300", "6574683000", "000000", // IFLA_IFNAME "eth0\0", padded
        "0800", "1d00", "08000000", // IFLA_EXT_MASK = RTEXT_FILTER_SKIP_STATS
      ].join(""),
    );
  });

  test("RTM_GETADDR dump of one interface (strict checking wants the other fields zero)", () => {
    const w = new MessageWriter();
    writeAddressDump(w, 4, 9);
    expect(hex(w.bytes())).toBe(["18000000", "1600", "0103", "04000000", "00000000", "00000000", "09000000"].join(""));
  });
});

/** A reply datagram of RTM_NEWADDR messages. */
function addressReply(entries: { family: number; prefix: number; index: number; attrs: [number, Uint8Array][] }[]): DataView {
  const w = new MessageWriter();
  for (const e of entries) {
    const m = w.beginMessage(RTM_NEWADDR, 0x2, 1);
    const ifa = new Uint8Array(8);
    new DataView(ifa.buffer).setUint32(4, e.index, true);
    ifa[0] = e.family;
    ifa[1] = e.prefix;
    w.raw(ifa);
    for (const [type, value] of e.attrs) w.bytesAttr(type, value);
    w.endMessage(m);
  }
  return new DataView(w.bytes().slice().buffer);
}

function decodeAll(view: DataView, index: number) {
  const attrs = new Attributes(view, 0, 0, "address");
  const out: unknown[] = [];
  forEachMessage(view, view.byteLength, (h) => out.push(readAddress(view, h, index, attrs)));
  return out;
}

describe("replies", () => {
  test("an IPv4 address is IFA_LOCAL (IFA_ADDRESS is the peer on point-to-point links)", () => {
    const view = addressReply([{ family: 2, prefix: 32, index: 5, attrs: [[IFA_ADDRESS, Uint8Array.of(10, 0, 0, 1)], [IFA_LOCAL, v4]] }]);
    expect(decodeAll(view, 5)).toEqual([{ address: "192.0.2.10", prefix: 32, family: "inet" }]);
  });

  test("an IPv6 address is IFA_ADDRESS, in canonical form", () => {
    const view = addressReply([{ family: 10, prefix: 64, index: 5, attrs: [[IFA_ADDRESS, v6]] }]);
    expect(decodeAll(view, 5)).toEqual([{ address: "2001:db8::10", prefix: 64, family: "inet6" }]);
  });

  test("other interfaces, other families and malformed addresses are skipped", () => {
    const view = addressReply([
      { family: 2, prefix: 8, index: 1, attrs: [[IFA_LOCAL, Uint8Array.of(127, 0, 0, 1)]] },
      { family: 17, prefix: 0, index: 5, attrs: [[IFA_ADDRESS, Uint8Array.of(1, 2, 3, 4, 5, 6)]] },
      { family: 2, prefix: 32, index: 5, attrs: [[IFA_LOCAL, Uint8Array.of(1, 2, 3)]] },
      { family: 10, prefix: 128, index: 5, attrs: [] },
    ]);
    expect(decodeAll(view, 5)).toEqual([undefined, undefined, undefined, undefined]);
  });

  test("the index of an RTM_NEWLINK", () => {
    const w = new MessageWriter();
    const m = w.beginMessage(RTM_NEWLINK, 0, 1);
    const ifi = new Uint8Array(IFINFOMSG_LEN);
    new DataView(ifi.buffer).setInt32(4, 42, true);
    w.raw(ifi);
    w.endMessage(m);
    const view = new DataView(w.bytes().slice().buffer);
    const headers: MessageHeader[] = [];
    forEachMessage(view, view.byteLength, (h) => headers.push(h));
    expect(readLinkIndex(view, headers[0]!)).toBe(42);
    expect(readLinkIndex(view, { ...headers[0]!, type: RTM_NEWADDR })).toBeUndefined();
  });
});
