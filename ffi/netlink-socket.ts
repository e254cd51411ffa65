/**
 * @module Netlink sockets opened through libnl (generic netlink for IPVS, NETLINK_ROUTE for
 * interface addresses), with raw send/receive of message bytes.
 * The only place that touches pointers; everything above it sees Uint8Arrays.
 */
import { CString, ptr, type Pointer } from "bun:ffi";
import * as jsc from "bun:jsc";
import { Errno, errnoReader } from "./errno.ts";
import { libnl } from "./libnl.ts";

const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;
const SO_RCVTIMEO = 20;
const SO_SNDBUFFORCE = 32;
const SO_RCVBUFFORCE = 33;
const SOL_NETLINK = 270;
const NETLINK_CAP_ACK = 10;
const NETLINK_EXT_ACK = 11;
const NETLINK_GET_STRICT_CHK = 12;
const NETLINK_ROUTE = 0;
/** recv returns a datagram's whole length even when it did not fit, so truncation shows. */
const MSG_TRUNC = 0x20;
/** libnl's NLE_OBJ_NOTFOUND: the family is not registered (module not loaded). */
const NLE_OBJ_NOTFOUND = 12;

/** An errno from a socket call, with the call's name. */
export class SocketError extends Error {
  override readonly name = "SocketError";
  constructor(
    readonly call: string,
    readonly errno: number,
  ) {
    super(`${call} failed: errno ${errno}`);
  }
}

/** The generic-netlink family is not registered in this kernel. */
export class FamilyNotFoundError extends Error {
  override readonly name = "FamilyNotFoundError";
}

let readErrno: (() => number) | undefined;

function errno(): number {
  readErrno ??= errnoReader(libnl().libc.__errno_location) ?? (() => 0);
  return readErrno();
}

export interface SocketOptions {
  /** Receive buffer in bytes (forced past rmem_max when the process has CAP_NET_ADMIN). */
  receiveBuffer?: number;
  sendBuffer?: number;
  /** A receive that waits longer than this fails with EAGAIN, so a lost reply never hangs gorb. */
  receiveTimeoutMs?: number;
}

/** What both kinds of socket share: options, raw send/receive, close. */
abstract class NetlinkSocket {
  private readonly libc = libnl().libc;
  // The last buffer sent from and received into, with its address: gorb reuses one of each, so a
  // send or receive is one FFI call, not two (ptr() included). Keeping the buffer referenced
  // here keeps its memory where the address says.
  private sendBuffer: Uint8Array | undefined;
  private sendPointer: Pointer | undefined;
  private receiveBuffer: Uint8Array | undefined;
  private receivePointer: Pointer | undefined;

  protected constructor(
    private sock: Pointer | null,
    readonly fd: number,
    readonly localPort: number,
  ) {}

  protected setInt(level: number, option: number, value: number): boolean {
    const v = new Int32Array([value]);
    return libnl().libc.setsockopt(this.fd, level, option, ptr(v), 4) === 0;
  }

  protected configure(options: SocketOptions): void {
    // Error replies carry only the request's header, plus the kernel's explanation when it has one.
    this.setInt(SOL_NETLINK, NETLINK_CAP_ACK, 1);
    this.setInt(SOL_NETLINK, NETLINK_EXT_ACK, 1);
    const rcv = options.receiveBuffer ?? 4 * 1024 * 1024;
    const snd = options.sendBuffer ?? 1024 * 1024;
    if (!this.setInt(SOL_SOCKET, SO_RCVBUFFORCE, rcv)) this.setInt(SOL_SOCKET, SO_RCVBUF, rcv);
    if (!this.setInt(SOL_SOCKET, SO_SNDBUFFORCE, snd)) this.setInt(SOL_SOCKET, SO_SNDBUF, snd);
    const ms = options.receiveTimeoutMs ?? 10_000;
    const timeval = new BigInt64Array([BigInt(Math.floor(ms / 1000)), BigInt((ms % 1000) * 1000)]);
    libnl().libc.setsockopt(this.fd, SOL_SOCKET, SO_RCVTIMEO, ptr(timeval), 16);
  }

  /**
   * Sends the first `length` bytes of `buffer` as one datagram (any number of netlink messages);
   * throws SocketError. Taking the whole buffer and a length, not a subarray, spares a view per
   * send (15 µs each under emulation).
   */
  send(buffer: Uint8Array, length = buffer.length): void {
    if (buffer !== this.sendBuffer) {
      this.sendPointer = ptr(buffer);
      this.sendBuffer = buffer;
    }
    for (;;) {
      const n = this.libc.send(this.fd, this.sendPointer!, length, 0);
      if (n === length) return;
      const e = n < 0 ? errno() : 0;
      if (e === Errno.EINTR) continue;
      throw new SocketError("send", e || 5);
    }
  }

  /**
   * Receives one datagram into `buffer`; returns its length. Throws SocketError: EAGAIN on
   * timeout, EMSGSIZE for a datagram longer than the buffer (its tail is lost).
   */
  receive(buffer: Uint8Array): number {
    if (buffer !== this.receiveBuffer) {
      this.receivePointer = ptr(buffer);
      this.receiveBuffer = buffer;
    }
    for (;;) {
      const n = this.libc.recv(this.fd, this.receivePointer!, buffer.length, MSG_TRUNC);
      if (n > buffer.length) throw new SocketError(`recv (a ${n}-byte datagram did not fit in ${buffer.length} bytes)`, Errno.EMSGSIZE);
      if (n >= 0) return n;
      const e = errno();
      if (e === Errno.EINTR) continue;
      throw new SocketError(e === Errno.EAGAIN ? "recv (timed out)" : "recv", e);
    }
  }

  close(): void {
    if (this.sock) libnl().nl.nl_socket_free(this.sock);
    this.sock = null;
  }
}

// Sent and received in loops of thousands: compiled once each and never by the FTL tier, whose
// compiles cost more than they gain under emulation (see src/ipvs/jit.ts).
for (const f of [NetlinkSocket.prototype.send, NetlinkSocket.prototype.receive]) {
  jsc.noFTL(f);
  (jsc as unknown as { noInline?: (f: unknown) => void }).noInline?.(f);
}

export class GenlSocket extends NetlinkSocket {
  private constructor(
    sock: Pointer,
    fd: number,
    readonly familyId: number,
    localPort: number,
    /** The receive length to use: every datagram of this socket fits in it (see `open`). */
    readonly datagramSize: number,
  ) {
    super(sock, fd, localPort);
  }

  /**
   * Opens a socket, connects it and resolves `family` (e.g. "IPVS").
   *
   * Every receive on it, libnl's included, asks for `datagramSize` = min(page size, 8 KiB)
   * bytes. The kernel sizes a dump's buffers by the largest receive length a socket has used
   * (up to 32 KiB), else by NLMSG_GOODSIZE, which is below min(page size, 8 KiB); generic netlink
   * replies are at most NLMSG_GOODSIZE too. With 32 KiB buffers for replies of a few KiB, a
   * table dump (one GET_DEST dump per service) spent twice the kernel time: 0.2 s instead of
   * 0.1 s for 11,000 objects.
   */
  static open(family: string, options: SocketOptions = {}): GenlSocket {
    const { nl, genl, libc } = libnl();
    const sock = nl.nl_socket_alloc();
    if (!sock) throw new SocketError("nl_socket_alloc", 12);
    const datagramSize = Math.min(libc.getpagesize(), 8192);
    nl.nl_socket_set_msg_buf_size(sock, datagramSize);
    const rc = genl.genl_connect(sock);
    if (rc < 0) {
      nl.nl_socket_free(sock);
      throw new SocketError(`genl_connect (${libnlError(rc)})`, -rc);
    }
    const name = Buffer.from(`${family}\0`);
    const id = genl.genl_ctrl_resolve(sock, ptr(name));
    if (id < 0) {
      nl.nl_socket_free(sock);
      if (-id === NLE_OBJ_NOTFOUND) throw new FamilyNotFoundError(`generic netlink family ${family} is not registered`);
      throw new SocketError(`genl_ctrl_resolve(${family}) (${libnlError(id)})`, -id);
    }
    const socket = new GenlSocket(sock as Pointer, nl.nl_socket_get_fd(sock), id, Number(nl.nl_socket_get_local_port(sock)), datagramSize);
    socket.configure(options);
    return socket;
  }
}

/** An rtnetlink (NETLINK_ROUTE) socket: links, addresses, routes. */
export class RouteSocket extends NetlinkSocket {
  /** Opens and connects a socket. Reads need no privilege; changes need CAP_NET_ADMIN. */
  static open(options: SocketOptions = {}): RouteSocket {
    const { nl } = libnl();
    const sock = nl.nl_socket_alloc();
    if (!sock) throw new SocketError("nl_socket_alloc", 12);
    const rc = nl.nl_connect(sock, NETLINK_ROUTE);
    if (rc < 0) {
      nl.nl_socket_free(sock);
      throw new SocketError(`nl_connect (${libnlError(rc)})`, -rc);
    }
    const socket = new RouteSocket(sock as Pointer, nl.nl_socket_get_fd(sock), Number(nl.nl_socket_get_local_port(sock)));
    socket.configure({ receiveBuffer: 1024 * 1024, sendBuffer: 64 * 1024, ...options });
    // The kernel then filters dumps by the request's fields (an address dump by interface index)
    // instead of sending every address of the host; older kernels ignore it, and callers filter too.
    socket.setInt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1);
    return socket;
  }
}

function libnlError(code: number): string {
  const p = libnl().nl.nl_geterror(code);
  return p ? new CString(p).toString() : `libnl error ${code}`;
}
