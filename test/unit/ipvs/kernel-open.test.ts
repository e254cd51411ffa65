/**
 * The kernel driver's failure paths on this host, whose kernel has no IPVS: the errors must say
 * what to do. (Its success paths run in the kernel tier.)
 */
import { expect, test } from "bun:test";
import { FFIType } from "bun:ffi";
import { NativeLibraryError, openLibrary } from "../../../ffi/libnl.ts";
import { openKernelIpvs } from "../../../src/ipvs/kernel-ipvs.ts";
import { IpvsUnavailableError } from "../../../src/ipvs/errors.ts";

test("a missing library names the Debian package to install", () => {
  const open = () => openLibrary("libgorb-no-such-lib.so.9", "libgorb-nothing9", { f: { args: [], returns: FFIType.i32 } });
  expect(open).toThrow(NativeLibraryError);
  expect(open).toThrow("install the Debian package libgorb-nothing9 (apt-get install libgorb-nothing9)");
});

test("a kernel without IPVS: the ip_vs module is not loaded", async () => {
  const hasIpvs = await Bun.file("/proc/net/ip_vs").exists();
  if (hasIpvs) return; // this host has IPVS: nothing to see here, the kernel tier covers it
  const error = await openKernelIpvs().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(IpvsUnavailableError);
  expect((error as Error).message).toBe("the ip_vs kernel module is not loaded (modprobe ip_vs)");
});
