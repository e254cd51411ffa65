/** The shared checks and error sentences of src/net. */
import { describe, expect, test } from "bun:test";
import { checkAddress, hostPrefix, invalidInterfaceName } from "../../../src/net/interfaces.ts";
import { Errno, InterfaceError, describeInterfaceErrno } from "../../../src/net/errors.ts";

test("hostPrefix: /32 for IPv4, /128 for IPv6 (GORB used /32 for both)", () => {
  expect(hostPrefix("192.0.2.1")).toBe(32);
  expect(hostPrefix("2001:db8::1")).toBe(128);
  expect(hostPrefix("::ffff:192.0.2.1")).toBe(128);
  expect(() => hostPrefix("example.com")).toThrow(InterfaceError);
});

test("interface names follow the kernel's rules", () => {
  for (const ok of ["eth0", "gorbtest0", "x".repeat(15), "br-lan.100", "wlp0s20f3"]) expect(invalidInterfaceName(ok)).toBeUndefined();
  for (const bad of ["", ".", "..", "a/b", "eth0:1", "a b", "tab\there", "x".repeat(16), "é".repeat(8)]) {
    expect(invalidInterfaceName(bad)).toBeString();
  }
});

test("checkAddress canonicalises and returns the bytes", () => {
  const a = checkAddress("2001:0db8::0001", 128, "add", "eth0");
  expect(a.address).toBe("2001:db8::1");
  expect(a.family).toBe("inet6");
  expect(a.bytes).toHaveLength(16);
  expect(checkAddress("192.0.2.1", 0, "add", "eth0").bytes).toEqual(Uint8Array.of(192, 0, 2, 1));
});

describe("errno sentences", () => {
  test("the ones the brief names", () => {
    expect(describeInterfaceErrno(Errno.ENODEV, "add", "eth7")).toBe("no such interface eth7");
    expect(describeInterfaceErrno(Errno.EPERM, "add", "eth0")).toStartWith("permission denied: needs CAP_NET_ADMIN");
  });

  test("EACCES on an IPv6 add is IPv6 turned off on the interface, not privilege", () => {
    expect(describeInterfaceErrno(Errno.EACCES, "add", "eth0", "inet6")).toBe("IPv6 is disabled on eth0 (net.ipv6.conf.eth0.disable_ipv6=1)");
    expect(describeInterfaceErrno(Errno.EACCES, "remove", "eth0", "inet")).toStartWith("permission denied");
  });

  test("the kernel's extended-ack text is appended; unknown errnos are named", () => {
    const e = new InterfaceError(Errno.EINVAL, "add", "eth0", undefined, "Invalid prefix length");
    expect(e.message).toBe("the kernel rejected the request as invalid (kernel: Invalid prefix length)");
    expect(e.code).toBe("EINVAL");
    expect(describeInterfaceErrno(200, "list")).toBe("the kernel answered errno 200");
  });
});
