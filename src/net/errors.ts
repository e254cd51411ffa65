/** @module Errors of interface-address operations: kernel errno → a sentence a person can act on. Pure. */

import { describeNetlinkErrno, Errno, errnoName } from "../../ffi/errno.ts";

export { Errno, errnoName } from "../../ffi/errno.ts";

export type InterfaceOp = "list" | "add" | "remove" | "exists" | "open";

/** What `errno` means for `op` on `ifname` (the kernel reuses errnos, so the op matters). */
export function describeInterfaceErrno(errno: number, op: InterfaceOp, ifname?: string, family?: "inet" | "inet6"): string {
  const on = ifname ? ` ${ifname}` : "";
  switch (errno) {
    case Errno.ENODEV:
      return `no such interface${on}`;
    case Errno.EPERM:
      return "permission denied: needs CAP_NET_ADMIN (run as root or grant the capability)";
    case Errno.EACCES:
      // ipv6_add_addr answers EACCES when the interface has IPv6 turned off, not for privilege.
      if (family === "inet6" && op === "add") return `IPv6 is disabled on${on || " the interface"} (net.ipv6.conf.${ifname ?? "IFACE"}.disable_ipv6=1)`;
      return "permission denied: needs CAP_NET_ADMIN (run as root or grant the capability)";
    case Errno.EOPNOTSUPP:
    case Errno.EAFNOSUPPORT:
      return family === "inet6" ? "this kernel does not support IPv6 addresses (is IPv6 enabled?)" : "the operation is not supported by this kernel";
    case Errno.EEXIST:
      return `the address is already on${on || " the interface"}`;
    case Errno.EADDRNOTAVAIL:
      return `the address is not on${on || " the interface"}`;
    case Errno.EINVAL:
    case Errno.ERANGE:
      return "the kernel rejected the request as invalid";
    case Errno.EAGAIN:
      return "the kernel did not answer in time";
    default:
      return describeNetlinkErrno(errno);
  }
}

/**
 * A failed interface-address operation. `message` is the sentence (from `describeInterfaceErrno`
 * unless a more precise one is given), plus the kernel's extended-ack text when it sent one.
 */
export class InterfaceError extends Error {
  override readonly name = "InterfaceError";
  /** The errno's name ("ENODEV"). */
  readonly code: string;
  constructor(
    readonly errno: number,
    readonly op: InterfaceOp,
    readonly ifname?: string,
    message?: string,
    readonly kernelMessage?: string,
  ) {
    super((message ?? describeInterfaceErrno(errno, op, ifname)) + (kernelMessage ? ` (kernel: ${kernelMessage})` : ""));
    this.code = errnoName(errno);
  }
}
