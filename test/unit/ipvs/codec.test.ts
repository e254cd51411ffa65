import { describe, expect, test } from "bun:test";
import { AF_INET, AF_INET6, CmdAttr, DestAttr, IPPROTO_TCP, IPPROTO_UDP, StatsAttr, SvcAttr } from "../../../src/ipvs/constants.ts";
import { addressAt, addressToBytes, prefixToIpv4Mask, writeAddressWords } from "../../../src/ipvs/address.ts";
import { AttributeError } from "../../../src/ipvs/netlink/attributes.ts";
import { MessageWriter } from "../../../src/ipvs/netlink/writer.ts";
import { findAttr, readString, readU16be, readU32, readU64 } from "../../../src/ipvs/netlink/tlv.ts";
import { encodeOperation } from "../../../src/ipvs/codec/operation.ts";
import { decodeService, flagBits } from "../../../src/ipvs/codec/service.ts";
import { decodeDestination } from "../../../src/ipvs/codec/destination.ts";
import type { Destination, IpvsOperation, Service, ServiceKey } from "../../../src/ipvs/types.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

// The attribute-by-attribute encoding the word-level encoders replaced, kept as the reference
// their bytes must equal (written with MessageWriter's generic primitives).
function referenceKey(w: MessageWriter, key: ServiceKey): void {
  w.u16(SvcAttr.AF, key.family === "inet" ? AF_INET : AF_INET6);
  if ("fwmark" in key) {
    w.u32(SvcAttr.FWMARK, key.fwmark);
  } else {
    w.u16(SvcAttr.PROTOCOL, key.protocol === "tcp" ? IPPROTO_TCP : IPPROTO_UDP);
    w.bytesAttr(SvcAttr.ADDR, addressToBytes(key.address));
    w.u16be(SvcAttr.PORT, key.port);
  }
}
function referenceKeyNest(w: MessageWriter, key: ServiceKey): void {
  const nest = w.beginNested(CmdAttr.SERVICE);
  referenceKey(w, key);
  w.endNested(nest);
}
function referenceService(w: MessageWriter, s: Service): void {
  const nest = w.beginNested(CmdAttr.SERVICE);
  referenceKey(w, s.key);
  w.string(SvcAttr.SCHED_NAME, s.scheduler);
  if (s.persistenceEngine) w.string(SvcAttr.PE_NAME, s.persistenceEngine);
  w.u32pair(SvcAttr.FLAGS, flagBits(s), 0xffffffff);
  w.u32(SvcAttr.TIMEOUT, s.timeout);
  if (s.key.family === "inet") w.u32be(SvcAttr.NETMASK, prefixToIpv4Mask(s.netmask));
  else w.u32(SvcAttr.NETMASK, s.netmask);
  w.endNested(nest);
}
function referenceDestination(w: MessageWriter, d: Destination, full: boolean): void {
  const nest = w.beginNested(CmdAttr.DEST);
  w.bytesAttr(DestAttr.ADDR, addressToBytes(d.address));
  w.u16be(DestAttr.PORT, d.port);
  w.u16(DestAttr.ADDR_FAMILY, d.family === "inet" ? AF_INET : AF_INET6);
  if (full) {
    const methods = { masq: 0, local: 1, tunnel: 2, route: 3, bypass: 4 } as const;
    w.u32(DestAttr.FWD_METHOD, methods[d.forward]);
    w.u32(DestAttr.WEIGHT, d.weight | 0);
    w.u32(DestAttr.U_THRESH, d.upperThreshold);
    w.u32(DestAttr.L_THRESH, d.lowerThreshold);
    if (d.forward === "tunnel" && d.tunnel) {
      w.u8(DestAttr.TUN_TYPE, { ipip: 0, gue: 1, gre: 2 }[d.tunnel.type]);
      w.u16be(DestAttr.TUN_PORT, d.tunnel.port);
      w.u16(DestAttr.TUN_FLAGS, { none: 0, csum: 1, remcsum: 2 }[d.tunnel.checksum]);
    }
  }
  w.endNested(nest);
}

const v4key: ServiceKey = { family: "inet", protocol: "tcp", address: "192.0.2.200", port: 443 };
const v6key: ServiceKey = { family: "inet6", protocol: "udp", address: "2001:db8::1", port: 53 };
const markKey: ServiceKey = { family: "inet", fwmark: 0x8000_0001 };
const dest: Destination = { family: "inet", address: "198.51.100.250", port: 65535, forward: "masq", weight: 100, upperThreshold: 0, lowerThreshold: 7 };
const dest6: Destination = { family: "inet6", address: "2001:db8::ff00:1", port: 8080, forward: "route", weight: -1, upperThreshold: 0xffffffff, lowerThreshold: 0 };
const tunnel: Destination = { ...dest, forward: "tunnel", tunnel: { type: "gue", port: 6080, checksum: "remcsum" } };

const services: Service[] = [
  { key: v4key, scheduler: "wrr", flags: [], timeout: 0, netmask: 32, persistenceEngine: "" },
  { key: v4key, scheduler: "sh", flags: ["sched1", "sched2"], timeout: 300, netmask: 24, persistenceEngine: "sip" },
  { key: v6key, scheduler: "mh", flags: ["one-packet"], timeout: 0, netmask: 64, persistenceEngine: "" },
  { key: markKey, scheduler: "rr", flags: [], timeout: 0, netmask: 0, persistenceEngine: "" },
];

describe("word-level request encoding", () => {
  const cases: [string, IpvsOperation, (w: MessageWriter) => void][] = [
    ...services.map((service): [string, IpvsOperation, (w: MessageWriter) => void] => [
      `add-service ${service.scheduler}`,
      { op: "add-service", service },
      (w) => referenceService(w, service),
    ]),
    ["delete-service v6", { op: "delete-service", key: v6key }, (w) => referenceKeyNest(w, v6key)],
    ...[dest, dest6, tunnel].map((d): [string, IpvsOperation, (w: MessageWriter) => void] => [
      `add-destination ${d.address} ${d.forward}`,
      { op: "add-destination", service: v4key, destination: d },
      (w) => {
        referenceKeyNest(w, v4key);
        referenceDestination(w, d, true);
      },
    ]),
    [
      "delete-destination on a fwmark service",
      { op: "delete-destination", service: markKey, destination: dest6 },
      (w) => {
        referenceKeyNest(w, markKey);
        referenceDestination(w, dest6, false);
      },
    ],
  ];
  test.each(cases)("%s: the same bytes as attribute by attribute", (_name, op, reference) => {
    const fast = new MessageWriter(8); // tiny, so the word writes must grow it
    encodeOperation(fast, 0x21, 9, 0, op);
    const slow = new MessageWriter();
    const start = slow.beginGenl(0x21, 1, 9, encodedCmd(fast), 1);
    reference(slow);
    slow.endMessage(start);
    expect(hex(fast.bytes())).toBe(hex(slow.bytes()));
  });

  test("a batch of many operations grows the buffer and keeps every message intact", () => {
    const w = new MessageWriter(16);
    const starts: number[] = [];
    for (let i = 0; i < 500; i++) starts.push(encodeOperation(w, 0x21, i, 0, { op: "add-destination", service: v6key, destination: dest6 }));
    const view = new DataView(w.buffer().buffer);
    for (let i = 1; i < starts.length; i++) expect(view.getUint32(starts[i - 1]!, true)).toBe(starts[i]! - starts[i - 1]!);
    expect(view.getUint32(starts[499]! + 8, true)).toBe(499);
  });

  test("an address that is none is refused, as before", () => {
    const op: IpvsOperation = { op: "delete-service", key: { ...v4key, address: "example.com" } };
    expect(() => encodeOperation(new MessageWriter(), 1, 1, 0, op)).toThrow(TypeError);
  });
});

function encodedCmd(w: MessageWriter): number {
  return w.bytes()[16]!;
}

/** One dump reply's payload, written with the generic primitives: what the kernel sends. */
function reply(build: (w: MessageWriter) => void): { words: Int32Array; start: number; end: number } {
  const w = new MessageWriter();
  build(w);
  const bytes = w.bytes().slice();
  return { words: new Int32Array(bytes.buffer), start: 0, end: bytes.length };
}

function u64attr(w: MessageWriter, type: number, value: number): void {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(value), true);
  w.bytesAttr(type, b);
}

function stats64(w: MessageWriter, type: number): void {
  const n = w.beginNested(type);
  u64attr(w, StatsAttr.CONNS, 3);
  u64attr(w, StatsAttr.INPKTS, 5_000_000_000);
  u64attr(w, StatsAttr.OUTBYTES, 2 ** 40);
  u64attr(w, StatsAttr.CPS, 1);
  w.endNested(n);
}

describe("flat dump decoding", () => {
  test("a destination with 64-bit statistics and tunnel settings", () => {
    const r = reply((w) => {
      w.bytesAttr(DestAttr.ADDR, addressToBytes("198.51.100.250"));
      w.u16be(DestAttr.PORT, 8080);
      w.u32(DestAttr.FWD_METHOD, 2 | 0x100);
      w.u32(DestAttr.WEIGHT, 0xffffffff);
      w.u32(DestAttr.U_THRESH, 0x8000_0000);
      w.u32(DestAttr.L_THRESH, 2);
      w.u32(DestAttr.ACTIVE_CONNS, 4);
      w.u32(DestAttr.INACT_CONNS, 5);
      w.u32(DestAttr.PERSIST_CONNS, 6);
      w.u16(DestAttr.ADDR_FAMILY, AF_INET);
      stats64(w, DestAttr.STATS64);
      w.u8(DestAttr.TUN_TYPE, 1);
      w.u16be(DestAttr.TUN_PORT, 6080);
      w.u16(DestAttr.TUN_FLAGS, 1);
    });
    const d = decodeDestination(r.words, r.start, r.end, "inet6");
    expect(d).toEqual({
      family: "inet",
      address: "198.51.100.250",
      port: 8080,
      forward: "tunnel",
      weight: -1,
      upperThreshold: 0x8000_0000,
      lowerThreshold: 2,
      activeConnections: 4,
      inactiveConnections: 5,
      persistentConnections: 6,
      stats: {
        connections: 3,
        packetsIn: 5_000_000_000,
        packetsOut: 0,
        bytesIn: 0,
        bytesOut: 2 ** 40,
        connectionsPerSecond: 1,
        packetsInPerSecond: 0,
        packetsOutPerSecond: 0,
        bytesInPerSecond: 0,
        bytesOutPerSecond: 0,
      },
      tunnel: { type: "gue", port: 6080, checksum: "csum" },
    });
  });

  test("an IPv6 destination without ADDR_FAMILY takes its service's family; old 32-bit stats", () => {
    const r = reply((w) => {
      w.bytesAttr(DestAttr.ADDR, addressToBytes("2001:db8::7"));
      w.u16be(DestAttr.PORT, 80);
      const n = w.beginNested(DestAttr.STATS);
      w.u32(StatsAttr.CONNS, 0xffff_fff0);
      u64attr(w, StatsAttr.INBYTES, 7);
      w.endNested(n);
    });
    const d = decodeDestination(r.words, r.start, r.end, "inet6");
    expect(d.address).toBe("2001:db8::7");
    expect(d.forward).toBe("masq");
    expect(d.stats.connections).toBe(0xffff_fff0);
    expect(d.stats.bytesIn).toBe(7);
    expect("tunnel" in d).toBe(false);
  });

  test("a service: key, scheduler, flags without HASHED, persistence, IPv4 netmask as a prefix", () => {
    const r = reply((w) => {
      w.u16(SvcAttr.AF, AF_INET);
      w.u16(SvcAttr.PROTOCOL, IPPROTO_TCP);
      w.bytesAttr(SvcAttr.ADDR, addressToBytes("192.0.2.1"));
      w.u16be(SvcAttr.PORT, 80);
      w.string(SvcAttr.SCHED_NAME, "wrr");
      w.u32pair(SvcAttr.FLAGS, 0x1 | 0x2 | 0x8, 0xffffffff);
      w.u32(SvcAttr.TIMEOUT, 300);
      w.u32be(SvcAttr.NETMASK, 0xffffff00);
      w.string(SvcAttr.PE_NAME, "sip");
      stats64(w, SvcAttr.STATS64);
    });
    const s = decodeService(r.words, r.start, r.end);
    expect(s.key).toEqual({ family: "inet", protocol: "tcp", address: "192.0.2.1", port: 80 });
    expect(s).toMatchObject({ scheduler: "wrr", flags: ["sched1"], timeout: 300, netmask: 24, persistenceEngine: "sip" });
    expect(s.stats.packetsIn).toBe(5_000_000_000);
  });

  test("a fwmark service, IPv6 netmask as a prefix length, no statistics", () => {
    const r = reply((w) => {
      w.u16(SvcAttr.AF, AF_INET6);
      w.u32(SvcAttr.FWMARK, 7);
      w.string(SvcAttr.SCHED_NAME, "rr");
      w.u32pair(SvcAttr.FLAGS, 0x2, 0xffffffff);
      w.u32(SvcAttr.TIMEOUT, 300);
      w.u32(SvcAttr.NETMASK, 64);
    });
    const s = decodeService(r.words, r.start, r.end);
    expect(s).toMatchObject({ key: { family: "inet6", fwmark: 7 }, flags: [], timeout: 0, netmask: 64 });
    expect(s.stats.connections).toBe(0);
  });

  test("malformed replies are errors, not wrong numbers", () => {
    const short = reply((w) => {
      w.bytesAttr(DestAttr.ADDR, addressToBytes("192.0.2.1"));
      w.u16be(DestAttr.PORT, 80);
      w.u16(DestAttr.WEIGHT, 1);
    });
    expect(() => decodeDestination(short.words, short.start, short.end, "inet")).toThrow("destination: WEIGHT is 2 bytes, expected 4");
    const overrun = reply((w) => w.u32(DestAttr.WEIGHT, 1));
    expect(() => decodeDestination(overrun.words, overrun.start, overrun.end - 4, "inet")).toThrow(AttributeError);
    const noPort = reply((w) => w.bytesAttr(DestAttr.ADDR, addressToBytes("192.0.2.1")));
    expect(() => decodeDestination(noPort.words, noPort.start, noPort.end, "inet")).toThrow(TypeError);
    const badFamily = reply((w) => w.u16(SvcAttr.AF, 99));
    expect(() => decodeService(badFamily.words, badFamily.start, badFamily.end)).toThrow("unknown address family 99");
  });
});

describe("flat attribute readers", () => {
  test("values above 2^31 and 2^32, big-endian ports, strings", () => {
    const r = reply((w) => {
      w.u32(1, 0xfedc_ba98);
      u64attr(w, 2, 2 ** 52 + 3);
      w.u16be(3, 0xabcd);
      w.string(4, "lblcr");
      w.string(5, "é");
      const n = w.beginNested(6);
      w.u32(1, 1);
      w.endNested(n);
    });
    const at = (type: number) => findAttr(r.words, r.start, r.end, type, "test") + 4;
    expect(readU32(r.words, at(1), 4, "test", "a")).toBe(0xfedc_ba98);
    expect(readU64(r.words, at(2), 8, "test", "b")).toBe(2 ** 52 + 3);
    expect(readU16be(r.words, at(3), 2, "test", "c")).toBe(0xabcd);
    expect(readString(r.words, at(4), 6)).toBe("lblcr");
    expect(readString(r.words, at(5), 3)).toBe("é");
    expect(findAttr(r.words, r.start, r.end, 6, "test")).toBeGreaterThan(0);
    expect(findAttr(r.words, r.start, r.end, 7, "test")).toBe(-1);
  });
});

describe("address words", () => {
  test("IPv4 and IPv6 as words, and back to text", () => {
    const words = new Int32Array(8);
    expect(writeAddressWords("203.0.113.255", words, 1)).toBe(1);
    expect([...new Uint8Array(words.buffer, 4, 4)]).toEqual([203, 0, 113, 255]);
    expect(addressAt(words, 4, 4, "inet")).toBe("203.0.113.255");
    expect(writeAddressWords("2001:db8::1:2", words, 2)).toBe(4);
    expect(writeAddressWords("2001:db8::1:2", words, 2)).toBe(4); // cached
    expect(addressAt(words, 8, 16, "inet6")).toBe("2001:db8::1:2");
    expect(() => writeAddressWords("10.0.0", words, 0)).toThrow("not an IP address");
  });
});
