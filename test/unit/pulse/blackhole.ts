/**
 * @module A loopback TCP listener that never accepts, for timeout tests: once its backlog is
 * full the kernel drops further SYNs, so a connect hangs like one to a dead host. Linux only
 * (libc via bun:ffi); `openBlackhole()` returns null where that is unavailable.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import { connect, type Socket } from "node:net";

export interface Blackhole {
  readonly port: number;
  /** Accepts what its queue holds: a SYN retransmitted after this is answered (a late connect). */
  drain(): void;
  close(): void;
}

const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;

export async function openBlackhole(): Promise<Blackhole | null> {
  if (process.platform !== "linux") return null;
  let libc;
  try {
    libc = dlopen("libc.so.6", {
      socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      bind: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
      listen: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      accept: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
      getsockname: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
      close: { args: [FFIType.i32], returns: FFIType.i32 },
    });
  } catch {
    return null;
  }
  const { socket, bind, listen, accept, getsockname, close } = libc.symbols;
  // Non-blocking: drain() accepts until the queue is empty.
  const fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  const addr = new Uint8Array(16);
  new DataView(addr.buffer).setUint16(0, AF_INET, true);
  addr.set([127, 0, 0, 1], 4);
  const len = new Uint32Array([16]);
  if (fd < 0 || bind(fd, ptr(addr), 16) !== 0 || listen(fd, 0) !== 0 || getsockname(fd, ptr(addr), ptr(len)) !== 0) {
    if (fd >= 0) close(fd);
    libc.close();
    return null;
  }
  const port = new DataView(addr.buffer).getUint16(2, false);
  // Fill the accept queue (backlog 0 holds one connection) so the next SYNs are dropped.
  const fillers: Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const s = connect({ host: "127.0.0.1", port });
    s.on("error", () => {});
    fillers.push(s);
  }
  await Bun.sleep(50);
  const accepted: number[] = [];
  return {
    port,
    drain() {
      for (let c = accept(fd, null, null); c >= 0; c = accept(fd, null, null)) accepted.push(c);
    },
    close() {
      for (const c of accepted) close(c);
      for (const s of fillers) s.destroy();
      close(fd);
      libc.close();
    },
  };
}
