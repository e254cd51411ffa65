/**
 * @module The native symbols gorb uses: libnl-3 and libnl-genl-3 (socket, connect, family
 * resolution) and a few libc calls (send, recv, setsockopt, errno) for the raw message I/O.
 * A missing library names the Debian package that provides it.
 */
import { dlopen, FFIType } from "bun:ffi";

export class NativeLibraryError extends Error {
  override readonly name = "NativeLibraryError";
}

/** dlopen with an error that names the Debian package when the library is missing. */
export function openLibrary<T extends Record<string, { args: readonly FFIType[]; returns: FFIType }>>(
  file: string,
  debianPackage: string,
  symbols: T,
) {
  try {
    return dlopen(file, symbols);
  } catch (cause) {
    const text = String(cause);
    // Only a missing file is a missing package; anything else (no JIT, a bad symbol) says itself.
    const missing = /cannot open shared object|no such file|not found/i.test(text);
    throw new NativeLibraryError(
      missing ? `cannot load ${file}: install the Debian package ${debianPackage} (apt-get install ${debianPackage})` : `cannot load ${file}: ${text}`,
    );
  }
}

const { ptr, i32, u32, void: voidType, u64 } = FFIType;

let cached: ReturnType<typeof load> | undefined;

function load() {
  const nl = openLibrary("libnl-3.so.200", "libnl-3-200", {
    nl_socket_alloc: { args: [], returns: ptr },
    nl_socket_free: { args: [ptr], returns: voidType },
    // For rtnetlink (NETLINK_ROUTE): a plain connect, no generic-netlink family to resolve.
    nl_connect: { args: [ptr, i32], returns: i32 },
    nl_socket_get_fd: { args: [ptr], returns: i32 },
    nl_socket_get_local_port: { args: [ptr], returns: u32 },
    nl_socket_set_buffer_size: { args: [ptr, i32, i32], returns: i32 },
    nl_socket_set_msg_buf_size: { args: [ptr, u64], returns: i32 },
    nl_geterror: { args: [i32], returns: ptr },
  });
  const genl = openLibrary("libnl-genl-3.so.200", "libnl-genl-3-200", {
    genl_connect: { args: [ptr], returns: i32 },
    genl_ctrl_resolve: { args: [ptr, ptr], returns: i32 },
  });
  const libc = openLibrary("libc.so.6", "libc6", {
    // ssize_t results are read as i32: sizes here stay far below 2 GiB and -1 keeps its sign.
    send: { args: [i32, ptr, u64, i32], returns: i32 },
    recv: { args: [i32, ptr, u64, i32], returns: i32 },
    setsockopt: { args: [i32, i32, i32, ptr, u32], returns: i32 },
    getpagesize: { args: [], returns: i32 },
    __errno_location: { args: [], returns: ptr },
  });
  return { nl: nl.symbols, genl: genl.symbols, libc: libc.symbols };
}

/** The loaded libraries (loaded once, on first use). */
export function libnl() {
  cached ??= load();
  return cached;
}
