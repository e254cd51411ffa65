/**
 * @module A unix datagram socket to receive sd_notify messages on, as systemd's $NOTIFY_SOCKET
 * does: bound to a path or an abstract "@name", read without blocking the event loop.
 */
import { dlopen, FFIType, ptr, read } from "bun:ffi";
import { notifySocketAddress } from "../../ffi/sd-notify.ts";

const { i32, u32, u64, ptr: pointer } = FFIType;
const libc = dlopen("libc.so.6", {
  socket: { args: [i32, i32, i32], returns: i32 },
  bind: { args: [i32, pointer, u32], returns: i32 },
  recv: { args: [i32, pointer, u64, i32], returns: i32 },
  close: { args: [i32], returns: i32 },
  __errno_location: { args: [], returns: pointer },
}).symbols;

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;

export class DatagramListener {
  private readonly buffer = new Uint8Array(4096);
  private constructor(
    private fd: number,
    readonly name: string,
  ) {}

  /** Binds `name` (an absolute path, or "@name" for the abstract namespace). */
  static bind(name: string): DatagramListener {
    const fd = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new Error("socket failed");
    const { address, length } = notifySocketAddress(name);
    if (libc.bind(fd, ptr(address), length) !== 0) {
      libc.close(fd);
      throw new Error(`bind ${name} failed: errno ${read.i32(libc.__errno_location()!, 0)}`);
    }
    return new DatagramListener(fd, name);
  }

  /** The next datagram as text; rejects after `timeoutMs` without one. */
  async receive(timeoutMs = 2000): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const n = libc.recv(this.fd, ptr(this.buffer), this.buffer.length, MSG_DONTWAIT);
      if (n >= 0) return new TextDecoder().decode(this.buffer.subarray(0, n));
      const errno = read.i32(libc.__errno_location()!, 0);
      if (errno !== EAGAIN) throw new Error(`recv failed: errno ${errno}`);
      if (performance.now() > deadline) throw new Error(`no datagram on ${this.name} within ${timeoutMs} ms`);
      await Bun.sleep(5);
    }
  }

  /** Every datagram waiting now. */
  drain(): string[] {
    const out: string[] = [];
    for (;;) {
      const n = libc.recv(this.fd, ptr(this.buffer), this.buffer.length, MSG_DONTWAIT);
      if (n < 0) return out;
      out.push(new TextDecoder().decode(this.buffer.subarray(0, n)));
    }
  }

  close(): void {
    if (this.fd >= 0) libc.close(this.fd);
    this.fd = -1;
  }
}
