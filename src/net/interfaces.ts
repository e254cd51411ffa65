/** @module The contract for addresses on an interface (GORB's `-vipi`) and its shared input checks. Pure. */
import { addressToBytes, bytesToAddress, familyOf } from "../ipvs/address.ts";
import type { Family } from "../ipvs/types.ts";
import { InterfaceError, Errno, type InterfaceOp } from "./errors.ts";

/** One address on an interface, as `ip -o addr` shows it; `address` in canonical form. */
export interface InterfaceAddress {
  readonly address: string;
  readonly prefix: number;
  readonly family: Family;
}

/**
 * Addresses on network interfaces. Every method throws InterfaceError: errno ENODEV ("no such
 * interface eth7"), EPERM ("permission denied: needs CAP_NET_ADMIN"), EINVAL for a bad name,
 * address or prefix. Addresses may be given in any spelling; they are compared canonically.
 */
export interface InterfaceAddresses {
  readonly kind: "kernel" | "memory";
  /** Every address on the interface (IPv4 and IPv6, link-local included), in the kernel's order. */
  list(ifname: string): Promise<InterfaceAddress[]>;
  /**
   * Adds `address/prefix`. "present" when the address is already on the interface, with any
   * prefix length: it is then someone else's, and the caller must not remove it later. (The
   * kernel refuses a second IPv6 copy whatever its prefix, but would add a second IPv4 one with
   * another mask; "present" spares the interface that duplicate.)
   */
  add(ifname: string, address: string, prefix: number): Promise<"added" | "present">;
  /** Removes exactly `address/prefix`; "absent" when that address with that prefix is not there. */
  remove(ifname: string, address: string, prefix: number): Promise<"removed" | "absent">;
  /** Whether the interface exists; false (no error) for a name no interface can have. */
  exists(ifname: string): Promise<boolean>;
  /** Releases the kernel socket; a no-op in memory. */
  close(): void;
}

/** The prefix of a VIP: /32 for IPv4, /128 for IPv6 (GORB used /32 for both, which breaks IPv6). */
export function hostPrefix(address: string): number {
  const family = familyOf(address);
  if (!family) throw new InterfaceError(Errno.EINVAL, "add", undefined, `not an IP address: ${JSON.stringify(address)}`);
  return family === "inet" ? 32 : 128;
}

/** The kernel's limit (IFNAMSIZ 16, with the NUL). */
const MAX_NAME_BYTES = 15;

/** Why `ifname` cannot name an interface (the kernel's dev_valid_name), or undefined when it can. */
export function invalidInterfaceName(ifname: string): string | undefined {
  if (ifname === "") return "an interface name is required";
  if (Buffer.byteLength(ifname) > MAX_NAME_BYTES) return `interface name ${JSON.stringify(ifname)} is longer than ${MAX_NAME_BYTES} bytes`;
  if (ifname === "." || ifname === "..") return `${JSON.stringify(ifname)} is not an interface name`;
  // ':' would be an IPv4 alias label (eth0:1), which is no interface of its own.
  if (/[/:\s\0]/.test(ifname)) return `interface name ${JSON.stringify(ifname)} contains '/', ':', a space or a NUL`;
  return undefined;
}

/** Throws InterfaceError EINVAL unless `ifname` can name an interface. */
export function checkInterfaceName(ifname: string, op: InterfaceOp): void {
  const problem = invalidInterfaceName(ifname);
  if (problem) throw new InterfaceError(Errno.EINVAL, op, ifname, problem);
}

/** An address and prefix checked and in canonical form, with its bytes for the kernel. */
export interface CheckedAddress extends InterfaceAddress {
  readonly bytes: Uint8Array;
}

/** Validates `address/prefix` (prefix 0-32 for IPv4, 0-128 for IPv6); throws InterfaceError EINVAL. */
export function checkAddress(address: string, prefix: number, op: InterfaceOp, ifname: string): CheckedAddress {
  const family = familyOf(address);
  if (!family) throw new InterfaceError(Errno.EINVAL, op, ifname, `not an IP address: ${JSON.stringify(address)}`);
  const max = family === "inet" ? 32 : 128;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    throw new InterfaceError(Errno.EINVAL, op, ifname, `prefix ${prefix} is out of range for ${family === "inet" ? "IPv4" : "IPv6"} (0-${max})`);
  }
  const bytes = addressToBytes(address);
  return { address: bytesToAddress(bytes, family), prefix, family, bytes };
}
