/**
 * @module KernelInterfaceAddresses: InterfaceAddresses over rtnetlink, through one libnl
 * NETLINK_ROUTE socket (ffi/). Messages are encoded in TypeScript (rtnetlink.ts). Each method does
 * its socket I/O synchronously, with no await inside, so concurrent calls never interleave.
 */
import { RouteSocket, SocketError, type SocketOptions } from "../../ffi/netlink-socket.ts";
import { Attributes } from "../ipvs/netlink/attributes.ts";
import { NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLM_F_DUMP_INTR } from "../ipvs/netlink/constants.ts";
import { forEachMessage, readErrorReply, type MessageHeader } from "../ipvs/netlink/messages.ts";
import { MessageWriter } from "../ipvs/netlink/writer.ts";
import { Errno, InterfaceError, describeInterfaceErrno, type InterfaceOp } from "./errors.ts";
import {
  checkAddress,
  checkInterfaceName,
  invalidInterfaceName,
  type CheckedAddress,
  type InterfaceAddress,
  type InterfaceAddresses,
} from "./interfaces.ts";
import { RTM_DELADDR, RTM_NEWADDR, readAddress, readLinkIndex, writeAddressChange, writeAddressDump, writeGetLink } from "./rtnetlink.ts";

/** A dump the kernel marks interrupted (addresses changed meanwhile) is retried this many times. */
const DUMP_ATTEMPTS = 3;

interface Reply {
  /** 0, or the positive errno of the kernel's answer. */
  readonly errno: number;
  readonly kernelMessage?: string;
  /** A dump changed while it was read (NLM_F_DUMP_INTR). */
  readonly interrupted: boolean;
}

export class KernelInterfaceAddresses implements InterfaceAddresses {
  readonly kind = "kernel" as const;
  private seq = (Math.random() * 0x7fffffff) >>> 0;
  private readonly writer = new MessageWriter(1024);
  // Dump replies come in datagrams of up to 32 KiB (the kernel's dump allocation cap).
  private readonly rx = new Uint8Array(64 * 1024);
  private readonly rxView = new DataView(this.rx.buffer);
  private readonly attrs = new Attributes(this.rxView, 0, 0, "address");

  constructor(private readonly socket: RouteSocket) {}

  async list(ifname: string): Promise<InterfaceAddress[]> {
    checkInterfaceName(ifname, "list");
    return this.dump(this.indexOf(ifname, "list"), ifname, "list");
  }

  async add(ifname: string, address: string, prefix: number): Promise<"added" | "present"> {
    checkInterfaceName(ifname, "add");
    const checked = checkAddress(address, prefix, "add", ifname);
    const index = this.indexOf(ifname, "add");
    if (this.dump(index, ifname, "add").some((a) => a.address === checked.address)) return "present";
    const reply = this.change(RTM_NEWADDR, index, checked, ifname);
    // EEXIST: added by someone else since the dump, or the kernel's own rule that an IPv6
    // address exists once per interface whatever its prefix. Either way it is not ours.
    if (reply.errno === Errno.EEXIST) return "present";
    if (reply.errno !== 0) throw this.failure(reply, "add", ifname, checked);
    return "added";
  }

  async remove(ifname: string, address: string, prefix: number): Promise<"removed" | "absent"> {
    checkInterfaceName(ifname, "remove");
    const checked = checkAddress(address, prefix, "remove", ifname);
    const index = this.indexOf(ifname, "remove");
    const reply = this.change(RTM_DELADDR, index, checked, ifname);
    if (reply.errno === Errno.EADDRNOTAVAIL) return "absent";
    if (reply.errno !== 0) throw this.failure(reply, "remove", ifname, checked);
    return "removed";
  }

  async exists(ifname: string): Promise<boolean> {
    if (invalidInterfaceName(ifname)) return false;
    try {
      this.indexOf(ifname, "exists");
      return true;
    } catch (e) {
      if (e instanceof InterfaceError && e.errno === Errno.ENODEV) return false;
      throw e;
    }
  }

  close(): void {
    this.socket.close();
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq;
  }

  /** The interface's index, looked up on every call: an interface recreated gets a new one. */
  private indexOf(ifname: string, op: InterfaceOp): number {
    const seq = this.nextSeq();
    this.writer.reset();
    writeGetLink(this.writer, seq, ifname);
    let index: number | undefined;
    const reply = this.exchange(seq, op, ifname, (h) => (index ??= readLinkIndex(this.rxView, h)));
    if (reply.errno !== 0) throw this.failure(reply, op, ifname);
    if (index === undefined) throw new InterfaceError(Errno.EIO, op, ifname, `the kernel sent no link for ${ifname}`);
    return index;
  }

  private dump(index: number, ifname: string, op: InterfaceOp): InterfaceAddress[] {
    for (let attempt = 1; ; attempt++) {
      const seq = this.nextSeq();
      this.writer.reset();
      writeAddressDump(this.writer, seq, index);
      const out: InterfaceAddress[] = [];
      const reply = this.exchange(seq, op, ifname, (h) => {
        const found = readAddress(this.rxView, h, index, this.attrs);
        if (found) out.push(found);
      });
      if (reply.errno !== 0) throw this.failure(reply, op, ifname);
      if (!reply.interrupted || attempt === DUMP_ATTEMPTS) return out;
    }
  }

  private change(type: typeof RTM_NEWADDR | typeof RTM_DELADDR, index: number, address: CheckedAddress, ifname: string): Reply {
    const seq = this.nextSeq();
    this.writer.reset();
    writeAddressChange(this.writer, seq, type, { index, family: address.family, prefix: address.prefix, bytes: address.bytes });
    return this.exchange(seq, type === RTM_NEWADDR ? "add" : "remove", ifname, () => {});
  }

  /**
   * Sends what the writer holds and reads replies to `seq` until its ack, error or end of dump;
   * other messages go to `visit`. A socket failure (including the receive timeout) throws.
   */
  private exchange(seq: number, op: InterfaceOp, ifname: string, visit: (h: MessageHeader) => void): Reply {
    try {
      this.socket.send(this.writer.buffer(), this.writer.length);
      let result: Reply | undefined;
      let interrupted = false;
      while (!result) {
        const n = this.socket.receive(this.rx);
        forEachMessage(this.rxView, n, (h) => {
          if (h.seq !== seq || result) return;
          if (h.flags & NLM_F_DUMP_INTR) interrupted = true;
          if (h.type === NLMSG_ERROR) {
            const reply = readErrorReply(this.rxView, h);
            result = reply.message ? { errno: reply.errno, kernelMessage: reply.message, interrupted } : { errno: reply.errno, interrupted };
          } else if (h.type === NLMSG_DONE) {
            // A dump's end carries an error code too (a dump that failed part-way).
            const errno = h.length >= NLMSG_HDRLEN + 4 ? -this.rxView.getInt32(h.offset + NLMSG_HDRLEN, true) | 0 : 0;
            result = { errno, interrupted };
          } else {
            visit(h);
          }
        });
      }
      return result;
    } catch (e) {
      if (e instanceof SocketError) {
        const errno = e.errno === Errno.EAGAIN ? Errno.ETIMEDOUT : e.errno;
        throw new InterfaceError(errno, op, ifname, `${describeInterfaceErrno(errno, op, ifname)} (${e.message})`);
      }
      throw e;
    }
  }

  private failure(reply: Reply, op: InterfaceOp, ifname: string, address?: CheckedAddress): InterfaceError {
    const message = describeInterfaceErrno(reply.errno, op, ifname, address?.family);
    return new InterfaceError(reply.errno, op, ifname, message, reply.kernelMessage);
  }
}

/**
 * Opens a NETLINK_ROUTE socket for interface addresses. Throws NativeLibraryError when libnl-3
 * is missing (naming the Debian package), InterfaceError (op "open") when the socket fails.
 */
export function openKernelInterfaces(options: SocketOptions = {}): KernelInterfaceAddresses {
  try {
    return new KernelInterfaceAddresses(RouteSocket.open({ receiveTimeoutMs: 5_000, ...options }));
  } catch (e) {
    if (e instanceof SocketError) throw new InterfaceError(e.errno, "open", undefined, `cannot open a NETLINK_ROUTE socket: ${e.message}`);
    throw e;
  }
}
