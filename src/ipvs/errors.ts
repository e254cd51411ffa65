/**
 * @module Kernel errno → an IpvsError a person can act on. Translated once, here; the API maps
 * the `errno` to an HTTP status elsewhere.
 */
import type { IpvsOperation } from "./types.ts";

import { describeNetlinkErrno, Errno, errnoName } from "../../ffi/errno.ts";

export { Errno, errnoName, type ErrnoName } from "../../ffi/errno.ts";

/** What the errno means for this kind of operation (IPVS reuses errnos with op-specific meaning). */
export function describeErrno(errno: number, op?: IpvsOperation["op"] | "get" | "connect"): string {
  const onDestination = op?.endsWith("destination") ?? false;
  switch (errno) {
    case Errno.EEXIST:
      return onDestination ? "the destination already exists in this virtual service" : "the virtual service already exists";
    case Errno.ESRCH:
      return "the virtual service does not exist";
    case Errno.ENOENT:
      if (onDestination) return "the destination does not exist in this virtual service";
      if (op === "add-service" || op === "update-service")
        return "the scheduler or persistence engine is unknown (no such ip_vs_<name> module)";
      if (op === "connect") return "the ip_vs kernel module is not loaded (modprobe ip_vs)";
      return "no such object";
    case Errno.ERANGE:
      return "a value is out of range (weight must be ≥ 0, lower threshold ≤ upper threshold)";
    case Errno.EINVAL:
      return "the kernel rejected the request as invalid (missing attribute, bad address, netmask or tunnel settings)";
    case Errno.EPERM:
    case Errno.EACCES:
      return "permission denied: programming IPVS needs CAP_NET_ADMIN (run as root or grant the capability)";
    case Errno.EAFNOSUPPORT:
      return "the address family is not supported (is IPv6 enabled in this kernel?)";
    case Errno.EPROTONOSUPPORT:
      return "the protocol is not supported by IPVS (tcp, udp or sctp)";
    case Errno.EOPNOTSUPP:
      return "the operation is not supported by this kernel";
    case Errno.EBUSY:
      return "the object is busy (a sync daemon already runs in that role?)";
    case Errno.ENODEV:
      return "no such network interface";
    case Errno.EMSGSIZE:
      return "the netlink message is too large";
    default:
      return describeNetlinkErrno(errno);
  }
}

/** A failed IPVS operation: errno, its name, a readable sentence, and the kernel's own text if it sent one. */
export class IpvsError extends Error {
  override readonly name = "IpvsError";
  readonly code: string;
  constructor(
    readonly errno: number,
    readonly op?: IpvsOperation["op"] | "get" | "connect",
    readonly kernelMessage?: string,
  ) {
    super(describeErrno(errno, op) + (kernelMessage ? ` (kernel: ${kernelMessage})` : ""));
    this.code = errnoName(errno);
  }
}

/** The IPVS driver could not be opened at all (library, module, privilege). */
export class IpvsUnavailableError extends Error {
  override readonly name = "IpvsUnavailableError";
}
