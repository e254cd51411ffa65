import { describe, expect, test } from "bun:test";
import { isIP } from "node:net";
import {
  addressToBytes,
  bytesToAddress,
  canonicalAddress,
  familyOf,
  ipv4MaskToPrefix,
  prefixToIpv4Mask,
} from "../../../src/ipvs/address.ts";

describe("address", () => {
  test.each([
    ["192.0.2.1", "192.0.2.1"],
    ["2001:db8::1", "2001:db8::1"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["::", "::"],
    ["::1", "::1"],
    ["fe80::", "fe80::"],
    ["::ffff:192.0.2.1", "::ffff:c000:201"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2:3:4:5:6"],
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
  ])("%s is canonically %s", (input, canonical) => {
    expect(canonicalAddress(input)).toBe(canonical);
  });

  test("non-addresses are refused", () => {
    expect(canonicalAddress("example.com")).toBeUndefined();
    expect(canonicalAddress("256.1.1.1")).toBeUndefined();
    expect(familyOf("1::2::3")).toBeUndefined();
    expect(() => addressToBytes("nope")).toThrow(TypeError);
  });

  test("bytes round-trip", () => {
    expect([...addressToBytes("198.51.100.7")]).toEqual([198, 51, 100, 7]);
    const v6 = addressToBytes("2001:db8::a:b");
    expect(v6.length).toBe(16);
    expect(bytesToAddress(v6, "inet6")).toBe("2001:db8::a:b");
  });

  test("IPv4 masks and prefixes", () => {
    expect(prefixToIpv4Mask(24)).toBe(0xffffff00);
    expect(prefixToIpv4Mask(32)).toBe(0xffffffff);
    expect(prefixToIpv4Mask(0)).toBe(0);
    expect(ipv4MaskToPrefix(0xffffff00)).toBe(24);
    expect(ipv4MaskToPrefix(0xffffffff)).toBe(32);
    expect(ipv4MaskToPrefix(0)).toBe(0);
  });

  test("agrees with node:net on which texts are addresses", () => {
    const samples = [
      "1.2.3.4", "01.2.3.4", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1..2.3", "", ":", "::", ":::", "1::", "::1:2",
      "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1::2::3", "12345::", "g::1",
      "::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4", "1:", ":1", "1:2:3:4:5:6:7:8:",
      "fe80::1", "FE80::ABCD", "2001:db8::", "2001:db8:::1", " ::1", "::1 ",
    ];
    for (const text of samples) {
      const expected = isIP(text) === 4 ? "inet" : isIP(text) === 6 ? "inet6" : undefined;
      expect([text, familyOf(text)]).toEqual([text, expected]);
    }
  });

  test("IPv6 bytes agree with a reference for random addresses", () => {
    for (let i = 0; i < 200; i++) {
      const groups = Array.from({ length: 8 }, () => (Math.random() < 0.4 ? 0 : Math.floor(Math.random() * 65536)));
      const full = groups.map((g) => g.toString(16)).join(":");
      const bytes = addressToBytes(full);
      expect([...bytes]).toEqual(groups.flatMap((g) => [g >> 8, g & 0xff]));
      expect(addressToBytes(bytesToAddress(bytes, "inet6"))).toEqual(bytes);
    }
  });
});
