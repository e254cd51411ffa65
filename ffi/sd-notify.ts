/**
 * @module Sends one sd_notify datagram (systemd's readiness protocol) to a unix socket: through
 * libsystemd's sd_notify when it is installed and reads the same $NOTIFY_SOCKET, else through
 * libc socket(AF_UNIX, SOCK_DGRAM) + sendto. Bun has no unix-datagram API of its own.
 */
import { CString, dlopen, FFIType, ptr } from "bun:ffi";
import { errnoReader } from "./errno.ts";

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const MSG_NOSIGNAL = 0x4000;
const EINTR = 4;
/** sizeof(struct sockaddr_un): sa_family_t then sun_path[108]. */
const SOCKADDR_UN_SIZE = 110;
const SUN_PATH_OFFSET = 2;

export type NotifyBackend = "libsystemd" | "libc";

/** A notification that could not be sent: the errno and what was tried. */
export class NotifyError extends Error {
  override readonly name = "NotifyError";
  constructor(
    message: string,
    readonly errno?: number,
  ) {
    super(message);
  }
}

/**
 * struct sockaddr_un for $NOTIFY_SOCKET, and the length to pass with it: an absolute path, or
 * "@name" for an abstract socket (a leading NUL, and the length counts only the name's bytes, as
 * sd_notify does). Throws NotifyError for anything else (a relative path, "vsock:…", too long).
 */
export function notifySocketAddress(socket: string): { address: Uint8Array; length: number } {
  const abstract = socket.startsWith("@");
  if (!abstract && !socket.startsWith("/")) {
    throw new NotifyError(`NOTIFY_SOCKET=${socket}: only an absolute path or an abstract "@name" is supported`);
  }
  const name = new TextEncoder().encode(abstract ? socket.slice(1) : socket);
  // A path needs its NUL within sun_path; an abstract name does not.
  if (name.length + 1 > SOCKADDR_UN_SIZE - SUN_PATH_OFFSET) throw new NotifyError(`NOTIFY_SOCKET=${socket}: longer than a unix socket address allows`);
  const address = new Uint8Array(SOCKADDR_UN_SIZE);
  new DataView(address.buffer).setUint16(0, AF_UNIX, true);
  address.set(name, SUN_PATH_OFFSET + (abstract ? 1 : 0));
  return { address, length: SUN_PATH_OFFSET + name.length + 1 };
}

const { i32, u32, u64, ptr: pointer } = FFIType;

let libc: ReturnType<typeof loadLibc> | undefined;
function loadLibc() {
  return dlopen("libc.so.6", {
    socket: { args: [i32, i32, i32], returns: i32 },
    // ssize_t read as i32: a notification is a few bytes, and -1 keeps its sign.
    sendto: { args: [i32, pointer, u64, i32, pointer, u32], returns: i32 },
    close: { args: [i32], returns: i32 },
    getenv: { args: [pointer], returns: pointer },
    clock_gettime: { args: [i32, pointer], returns: i32 },
    __errno_location: { args: [], returns: pointer },
  }).symbols;
}
function c() {
  libc ??= loadLibc();
  return libc;
}

/** undefined when libsystemd0 is not installed: the libc path then does the same. */
let libsystemd: { sd_notify: (unset: number, state: Uint8Array) => number } | null | undefined;
function systemd() {
  if (libsystemd === undefined) {
    try {
      const lib = dlopen("libsystemd.so.0", { sd_notify: { args: [i32, pointer], returns: i32 } });
      libsystemd = { sd_notify: (unset, state) => lib.symbols.sd_notify(unset, ptr(state)) };
    } catch {
      libsystemd = null;
    }
  }
  return libsystemd ?? undefined;
}

/** Whether libsystemd.so.0 (Debian package libsystemd0) could be loaded. */
export function libsystemdAvailable(): boolean {
  return systemd() !== undefined;
}

let readErrno: (() => number) | undefined;

function errno(): number {
  readErrno ??= errnoReader(c().__errno_location) ?? (() => 0);
  return readErrno();
}

/** The process's C environment value, which is what libsystemd reads (Bun's process.env writes do not reach it). */
function cEnvironment(name: string): string | undefined {
  const value = c().getenv(ptr(Buffer.from(`${name}\0`)));
  return value ? new CString(value).toString() : undefined;
}

/**
 * The backend for `socket`: libsystemd only when it is installed and the C environment names the
 * same socket (it reads $NOTIFY_SOCKET itself), else libc.
 */
export function chooseBackend(socket: string): NotifyBackend {
  return systemd() && cEnvironment("NOTIFY_SOCKET") === socket ? "libsystemd" : "libc";
}

/** Sends `state` ("READY=1", …) to `socket` as one datagram; throws NotifyError. */
export function sendNotify(socket: string, state: string, backend: NotifyBackend = chooseBackend(socket)): void {
  const bytes = Buffer.from(`${state}\0`);
  if (backend === "libsystemd") {
    const sd = systemd();
    if (!sd) throw new NotifyError("libsystemd.so.0 is not installed (apt-get install libsystemd0)");
    const rc = sd.sd_notify(0, bytes);
    if (rc < 0) throw new NotifyError(`sd_notify to ${socket} failed: errno ${-rc}`, -rc);
    if (rc === 0) throw new NotifyError("sd_notify found no NOTIFY_SOCKET in the environment");
    return;
  }
  const { address, length } = notifySocketAddress(socket);
  const libc = c();
  const fd = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new NotifyError(`socket(AF_UNIX, SOCK_DGRAM) failed: errno ${errno()}`, errno());
  try {
    const size = bytes.length - 1; // the datagram carries no NUL
    for (;;) {
      const n = libc.sendto(fd, ptr(bytes), size, MSG_NOSIGNAL, ptr(address), length);
      if (n === size) return;
      const e = n < 0 ? errno() : 0;
      if (e === EINTR) continue;
      throw new NotifyError(`sendto ${socket} failed: errno ${e}`, e);
    }
  } finally {
    libc.close(fd);
  }
}

/** CLOCK_MONOTONIC in microseconds, for RELOADING=1's MONOTONIC_USEC (systemd compares it to its own clock). */
export function monotonicMicros(): bigint {
  const ts = new BigInt64Array(2);
  const CLOCK_MONOTONIC = 1;
  if (c().clock_gettime(CLOCK_MONOTONIC, ptr(ts)) !== 0) throw new NotifyError("clock_gettime(CLOCK_MONOTONIC) failed", errno());
  return ts[0]! * 1_000_000n + ts[1]! / 1000n;
}
