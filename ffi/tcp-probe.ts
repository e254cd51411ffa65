/**
 * @module libc's socket calls for the TCP health-check prober (src/pulse/checks/tcp-prober.ts):
 * a non-blocking connect that resets on close, poll and epoll to learn the outcome, SO_ERROR
 * to read it, inet_pton to build addresses. Linux only: `tcpProbeLibc()` is null elsewhere or
 * when bun:ffi cannot load libc, and the check falls back to Bun.connect.
 */
import { dlopen, FFIType } from "bun:ffi";
import { isIPv4, isIPv6 } from "node:net";
import { Errno, errnoReader } from "./errno.ts";

export const AF_INET = 2;
export const AF_INET6 = 10;
const SOCK_STREAM = 1;
// Same values on x86-64 and arm64 (the generic ABI); other architectures are not targeted.
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_ERROR = 4;
const SO_LINGER = 13;
const EPOLL_CTL_ADD = 1;

export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;

/** struct pollfd: int fd; short events; short revents. */
export const POLLFD_SIZE = 8;
/** struct epoll_event is packed on x86-64 (12 bytes, data at 4), naturally aligned elsewhere (16, data at 8). */
export const EPOLL_EVENT_SIZE = process.arch === "x64" ? 12 : 16;
export const EPOLL_DATA_OFFSET = process.arch === "x64" ? 4 : 8;

const { i32, u32, u64, ptr } = FFIType;

function load() {
  return dlopen("libc.so.6", {
    socket: { args: [i32, i32, i32], returns: i32 },
    setsockopt: { args: [i32, i32, i32, ptr, u32], returns: i32 },
    getsockopt: { args: [i32, i32, i32, ptr, ptr], returns: i32 },
    connect: { args: [i32, ptr, u32], returns: i32 },
    close: { args: [i32], returns: i32 },
    poll: { args: [ptr, u64, i32], returns: i32 },
    epoll_create1: { args: [i32], returns: i32 },
    epoll_ctl: { args: [i32, i32, i32, ptr], returns: i32 },
    epoll_wait: { args: [i32, ptr, i32, i32], returns: i32 },
    inet_pton: { args: [i32, ptr, ptr], returns: i32 },
    __errno_location: { args: [], returns: ptr },
  }).symbols;
}
type Symbols = ReturnType<typeof load>;

/** struct sockaddr_in (16 bytes) or sockaddr_in6 (28 bytes), built once per backend. */
export type SocketAddress = Uint8Array;

/** AF_INET or AF_INET6, from the address's size. */
export function addressFamily(address: SocketAddress): number {
  return address.byteLength === 16 ? AF_INET : AF_INET6;
}

/** The calls the prober makes, each returning what libc returns (−1 = see `errno()`). */
export class TcpProbeLibc {
  readonly #c: Symbols;
  /** Reads errno after a failing call. */
  readonly #errno: () => number;
  // { l_onoff: 1, l_linger: 0 }: close() sends RST and the socket skips TIME_WAIT.
  readonly #linger = new Int32Array([1, 0]);
  // A sockaddr with family AF_UNSPEC: connect() with it dissolves the association (below).
  readonly #unspec = new Uint8Array(16);
  readonly #soError = new Int32Array(1);
  readonly #soErrorLength = new Uint32Array(1);
  readonly #event = new Uint8Array(EPOLL_EVENT_SIZE);
  readonly #eventView = new DataView(this.#event.buffer);
  /** inet_pton's output: 4 or 16 address bytes. */
  readonly #pton = new Uint8Array(16);

  constructor(symbols: Symbols) {
    this.#c = symbols;
    const errno = errnoReader(symbols.__errno_location);
    if (errno === null) throw new Error("__errno_location returned no usable pointer");
    this.#errno = errno;
  }

  errno(): number {
    return this.#errno();
  }

  /** A non-blocking close-on-exec TCP socket whose close resets the connection. */
  socket(family: number): number {
    const fd = this.#c.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0 && this.#c.setsockopt(fd, SOL_SOCKET, SO_LINGER, this.#linger, 8) !== 0) {
      const e = this.errno();
      this.#c.close(fd);
      return -e;
    }
    return fd < 0 ? -this.errno() : fd;
  }

  /** 0 = connected, else the errno (EINPROGRESS: pending). */
  connect(fd: number, address: SocketAddress): number {
    return this.#c.connect(fd, address, address.byteLength) === 0 ? 0 : this.errno();
  }

  /**
   * Resets the connection (RST when established, nothing in flight otherwise) and returns the
   * socket to its unconnected state, ready for another connect: cheaper than close + socket.
   */
  disconnect(fd: number): boolean {
    return this.#c.connect(fd, this.#unspec, 16) === 0;
  }

  close(fd: number): void {
    this.#c.close(fd);
  }

  /** The socket's pending error (0 = none); reading it clears it. */
  socketError(fd: number): number {
    this.#soErrorLength[0] = 4;
    if (this.#c.getsockopt(fd, SOL_SOCKET, SO_ERROR, this.#soError, this.#soErrorLength) !== 0) return this.errno();
    return this.#soError[0]!;
  }

  /** poll(2) without waiting over the first `count` entries of `pollfds`. */
  pollNow(pollfds: Uint8Array, count: number): number {
    return this.#c.poll(pollfds, count, 0);
  }

  epollCreate(): number {
    return this.#c.epoll_create1(SOCK_CLOEXEC);
  }

  /** Watches `fd` for writability (connected) or error; the event's data is the fd. */
  epollAdd(epfd: number, fd: number): number {
    this.#eventView.setUint32(0, POLLOUT, true);
    this.#eventView.setUint32(EPOLL_DATA_OFFSET, fd, true);
    return this.#c.epoll_ctl(epfd, EPOLL_CTL_ADD, fd, this.#event) === 0 ? 0 : this.errno();
  }

  /** epoll_wait without waiting; `events` holds `max` struct epoll_event. */
  epollNow(epfd: number, events: Uint8Array, max: number): number {
    return this.#c.epoll_wait(epfd, events, max, 0);
  }

  /** The sockaddr for an IP literal, or null for anything else (a name, an IPv6 zone). */
  socketAddress(host: string, port: number): SocketAddress | null {
    const v4 = isIPv4(host);
    if (!v4 && !isIPv6(host)) return null;
    const family = v4 ? AF_INET : AF_INET6;
    if (this.#c.inet_pton(family, Buffer.from(`${host}\0`), this.#pton) !== 1) return null;
    // Plain index writes: touching .buffer would give each backend's address its own ArrayBuffer.
    const bytes = new Uint8Array(v4 ? 16 : 28);
    bytes[0] = family; // sa_family_t, little-endian
    bytes[2] = port >> 8; // sin_port, network order
    bytes[3] = port & 0xff;
    bytes.set(this.#pton.subarray(0, v4 ? 4 : 16), v4 ? 4 : 8);
    return bytes;
  }
}

let loaded: TcpProbeLibc | null | undefined;

/** The bindings, or null when this is not Linux or libc cannot be loaded through bun:ffi. */
export function tcpProbeLibc(): TcpProbeLibc | null {
  if (loaded === undefined) {
    try {
      loaded = process.platform === "linux" ? new TcpProbeLibc(load()) : null;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}
