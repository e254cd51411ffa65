/** @module Linux errno numbers gorb meets (asm-generic/errno*.h), their names, and reading errno through bun:ffi. */
import { read, type Pointer } from "bun:ffi";

export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ERANGE: 34,
  EMSGSIZE: 90,
  EPROTONOSUPPORT: 93,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENETUNREACH: 101,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOBUFS: 105,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTDOWN: 112,
  EHOSTUNREACH: 113,
  EINPROGRESS: 115,
} as const;
export type ErrnoName = keyof typeof Errno;

/**
 * A reader of errno, from libc's `__errno_location` (whichever dlopen of libc the caller has):
 * the address is looked up once, which holds because gorb calls C only from its one JavaScript
 * thread. Null when libc gives no usable address (null, or one beyond a safe integer).
 */
export function errnoReader(errnoLocation: () => Pointer | bigint | null): (() => number) | null {
  const at = errnoLocation();
  if (at === null || typeof at !== "number") return null;
  return () => read.i32(at, 0);
}

const NAMES = new Map<number, ErrnoName>((Object.entries(Errno) as [ErrnoName, number][]).map(([name, n]) => [n, name]));

/** "EEXIST", or "errno 42" for one not in the table. */
export function errnoName(errno: number): string {
  return NAMES.get(errno) ?? `errno ${errno}`;
}

/**
 * What an errno means on any netlink request, whatever the family: the sentences the IPVS and the
 * interface-address translations share (each handles its own errnos first, then falls back here).
 */
export function describeNetlinkErrno(errno: number): string {
  switch (errno) {
    case Errno.ENOMEM:
      return "the kernel is out of memory";
    case Errno.ENOBUFS:
      return "the netlink receive buffer overflowed; replies were lost";
    case Errno.ETIMEDOUT:
      return "the kernel did not answer in time";
    default:
      return `the kernel answered ${errnoName(errno)}`;
  }
}
