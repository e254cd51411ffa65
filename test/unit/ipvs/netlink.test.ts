import { describe, expect, test } from "bun:test";
import { Attributes, AttributeError } from "../../../src/ipvs/netlink/attributes.ts";
import { MessageWriter } from "../../../src/ipvs/netlink/writer.ts";
import { forEachMessage, readErrorReply, genlPayload } from "../../../src/ipvs/netlink/messages.ts";
import { NLMSG_ERROR, NLM_F_ACK_TLVS, NLM_F_CAPPED } from "../../../src/ipvs/netlink/constants.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("MessageWriter", () => {
  test("writes a genl header, padded attributes and a nested attribute", () => {
    const w = new MessageWriter(8);
    const m = w.beginGenl(0x20, 0x5, 7, 1, 1);
    w.u16(1, 2);
    w.string(6, "wrr");
    const nest = w.beginNested(2);
    w.u16be(4, 80);
    w.endNested(nest);
    w.endMessage(m);
    expect(hex(w.bytes())).toBe(
      [
        "30000000", "2000", "0500", "07000000", "00000000", // nlmsghdr: len 48, type 0x20, flags 5, seq 7
        "01010000", // genl: cmd 1, version 1
        "0600", "0100", "0200", "0000", // u16 attr 1 = 2, padded
        "0800", "0600", "77727200", // "wrr\0"
        "0c00", "0280", "0600", "0400", "0050", "0000", // nested 2 { port 80 big-endian }
      ].join(""),
    );
  });

  test("grows past its initial size", () => {
    const w = new MessageWriter(4);
    for (let i = 0; i < 1000; i++) w.u32(1, i);
    expect(w.length).toBe(8000);
  });
});

function bytesOf(build: (w: MessageWriter) => void): DataView {
  const w = new MessageWriter();
  build(w);
  const b = w.bytes().slice();
  return new DataView(b.buffer);
}

describe("Attributes", () => {
  test("reads typed values and nested sets", () => {
    const v = bytesOf((w) => {
      w.u8(1, 9).u16(2, 513).u16be(3, 8080).u32(4, 0xdeadbeef).u32be(5, 0xffffff00).u32pair(6, 3, 0xffffffff);
      w.string(7, "sh");
      const n = w.beginNested(8);
      w.u32(1, 42);
      w.endNested(n);
    });
    const a = new Attributes(v, 0, v.byteLength, "test");
    expect(a.u8(1, "a")).toBe(9);
    expect(a.u16(2, "b")).toBe(513);
    expect(a.u16be(3, "c")).toBe(8080);
    expect(a.u32(4, "d")).toBe(0xdeadbeef);
    expect(a.u32be(5, "e")).toBe(0xffffff00);
    expect(a.u32pair(6, "f")).toEqual([3, 0xffffffff]);
    expect(a.string(7)).toBe("sh");
    expect(a.nested(8, "inner")?.u32(1, "x")).toBe(42);
    expect(a.has(9)).toBe(false);
    expect(a.u32(9, "absent")).toBeUndefined();
    expect(a.error).toBeUndefined();
  });

  test("a length beyond the buffer is remembered as the first error", () => {
    const v = new DataView(new Uint8Array([0x20, 0x00, 0x01, 0x00, 1, 2, 3, 4]).buffer);
    const a = new Attributes(v, 0, 8, "service");
    expect(a.error).toBeInstanceOf(AttributeError);
    expect(a.error?.message).toContain("service: attribute 1 has length 32");
  });

  test("a value shorter than its type is an error, not a wrong number", () => {
    const v = bytesOf((w) => w.u16(4, 1));
    const a = new Attributes(v, 0, v.byteLength, "destination");
    expect(a.u32(4, "WEIGHT")).toBeUndefined();
    expect(a.error?.message).toBe("destination: WEIGHT is 2 bytes, expected 4");
  });

  test("u64 reads values past 2^32", () => {
    const b = new Uint8Array(12);
    const dv = new DataView(b.buffer);
    dv.setUint16(0, 12, true);
    dv.setUint16(2, 4, true);
    dv.setBigUint64(4, 5_000_000_000n, true);
    expect(new Attributes(dv, 0, 12, "stats").u64(4, "INBYTES")).toBe(5_000_000_000);
  });
});

describe("messages", () => {
  /** An NLMSG_ERROR reply as the kernel builds it with NETLINK_CAP_ACK: errno, capped request header, TLVs. */
  function errorMessage(errno: number, flags: number, tlvText?: string): DataView {
    const tlv = new MessageWriter();
    if (tlvText) tlv.string(1, tlvText);
    const length = 16 + 4 + 16 + tlv.length;
    const b = new Uint8Array(length);
    const v = new DataView(b.buffer);
    v.setUint32(0, length, true);
    v.setUint16(4, NLMSG_ERROR, true);
    v.setUint16(6, flags, true);
    v.setUint32(8, 99, true);
    v.setInt32(16, -errno, true);
    v.setUint32(20, 16, true); // the original request's nlmsghdr (length only; the rest is zero)
    b.set(tlv.bytes(), 36);
    return v;
  }

  test("an ack, an errno, and the kernel's extended-ack text", () => {
    const ack = errorMessage(0, NLM_F_CAPPED);
    forEachMessage(ack, ack.byteLength, (h) => expect(readErrorReply(ack, h)).toEqual({ errno: 0 }));
    const err = errorMessage(17, NLM_F_CAPPED | NLM_F_ACK_TLVS, "Attribute failed policy validation");
    const seen: unknown[] = [];
    forEachMessage(err, err.byteLength, (h) => {
      expect(h.seq).toBe(99);
      seen.push(readErrorReply(err, h));
    });
    expect(seen).toEqual([{ errno: 17, message: "Attribute failed policy validation" }]);
  });

  test("a truncated message throws instead of reading past the reply", () => {
    const v = new DataView(new Uint8Array([0xff, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).buffer);
    expect(() => forEachMessage(v, 16, () => {})).toThrow(AttributeError);
  });

  test("a genl message too short for its header is refused", () => {
    const v = new DataView(new Uint8Array([16, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).buffer);
    forEachMessage(v, 16, (h) => expect(() => genlPayload(v, h)).toThrow(AttributeError));
  });
});
