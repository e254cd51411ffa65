/**
 * @module KernelIpvs: the Ipvs interface over the kernel's IPVS generic-netlink family, through
 * one libnl socket (ffi/). Requests are encoded here in TypeScript; batches go out many messages
 * per send with an ack asked only on the last one: netlink answers each failure anyway, with its
 * sequence number, so every operation keeps its own result (see docs/ipvs-driver.md).
 */
import { GenlSocket, FamilyNotFoundError, SocketError } from "../../ffi/netlink-socket.ts";
import { NativeLibraryError } from "../../ffi/libnl.ts";
import { BaseIpvs } from "./base-ipvs.ts";
import { compileMethodsAlone } from "./jit.ts";
import { Cmd, CmdAttr, IPVS_GENL_NAME, IPVS_GENL_VERSION } from "./constants.ts";
import { Errno, IpvsError, IpvsUnavailableError } from "./errors.ts";
import type { OperationResult, ServiceTable } from "./ipvs.ts";
import { Attributes } from "./netlink/attributes.ts";
import { NLA_HDRLEN, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST } from "./netlink/constants.ts";
import { genlAttrsStart, headerAt, overrun, readErrorReply } from "./netlink/messages.ts";
import { findAttr } from "./netlink/tlv.ts";
import { MessageWriter } from "./netlink/writer.ts";
import { encodeOperation } from "./codec/operation.ts";
import { decodeService, writeServiceKeyNest } from "./codec/service.ts";
import { decodeDestination } from "./codec/destination.ts";
import { decodeDaemon, decodeInfo, decodeTimeouts } from "./codec/config.ts";
import type { DestinationEntry, IpvsInfo, IpvsOperation, ServiceEntry, ServiceKey, SyncDaemon, Timeouts } from "./types.ts";

/** Requests per send. Netlink handles each inside sendmsg, so a larger window gains nothing. */
const CHUNK = 256;
const OK: OperationResult = Object.freeze({ ok: true });

/** Decodes the attributes [start, end) of one reply message. */
type Decode<T, C> = (words: Int32Array, start: number, end: number, context: C) => T;

export interface KernelIpvsOptions {
  receiveBuffer?: number;
  receiveTimeoutMs?: number;
}

export class KernelIpvs extends BaseIpvs {
  readonly kind = "kernel" as const;
  private seq = (Math.random() * 0x7fffffff) >>> 0;
  private readonly writer = new MessageWriter(64 * 1024);
  /** One datagram: the socket's receive length (small on purpose, see GenlSocket.open). */
  private readonly rx: Uint8Array;
  private readonly rxView: DataView;
  /** The receive buffer as words: the hot loops read headers and values with typed-array loads. */
  private readonly rxWords: Int32Array;
  /** Reused for every reply message: decoders copy out what they keep before the next one. */
  private readonly reply: Attributes;

  constructor(private readonly socket: GenlSocket) {
    super();
    this.rx = new Uint8Array(socket.datagramSize);
    this.rxView = new DataView(this.rx.buffer);
    this.rxWords = new Int32Array(this.rx.buffer);
    this.reply = new Attributes(this.rxView, 0, 0, "reply");
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq;
  }

  private receive(op: IpvsOperation["op"] | "get"): number {
    try {
      return this.socket.receive(this.rx);
    } catch (e) {
      throw socketToIpvsError(e, op);
    }
  }

  private sendWritten(op: IpvsOperation["op"] | "get"): void {
    try {
      this.socket.send(this.writer.buffer(), this.writer.length);
    } catch (e) {
      throw socketToIpvsError(e, op);
    }
  }

  async apply(operations: readonly IpvsOperation[]): Promise<OperationResult[]> {
    const count = operations.length;
    const results: OperationResult[] = [];
    for (let i = 0; i < count; i++) results.push(OK);
    const w = this.writer;
    const family = this.socket.familyId;
    for (let from = 0; from < count; from += CHUNK) {
      const to = from + CHUNK < count ? from + CHUNK : count;
      w.reset();
      const firstSeq = (this.seq + 1) >>> 0;
      for (let i = from; i < to; i++) encodeOperation(w, family, this.nextSeq(), i === to - 1 ? NLM_F_ACK : 0, operations[i]!);
      const lastSeq = this.seq;
      try {
        this.sendWritten(operations[from]!.op);
        this.collectAcks(operations, results, from, firstSeq, lastSeq);
      } catch (e) {
        // The socket failed mid-chunk: what was not acknowledged is unknown, so report it as failed.
        const error = e instanceof IpvsError ? e : new IpvsError(Errno.EIO, operations[from]!.op);
        for (let i = from; i < operations.length; i++) if (results[i] === OK) results[i] = { ok: false, error };
        return results;
      }
    }
    return results;
  }

  /**
   * Reads acks until the one for `lastSeq`; failures before it land on their own operation. A
   * plain loop over the datagram (no header objects): this runs once per operation in bulk loads.
   */
  private collectAcks(
    operations: readonly IpvsOperation[],
    results: OperationResult[],
    from: number,
    firstSeq: number,
    lastSeq: number,
  ): void {
    const words = this.rxWords;
    const span = (lastSeq - firstSeq) >>> 0;
    for (;;) {
      const n = this.receive(operations[from]!.op);
      let at = 0;
      while (at + NLMSG_HDRLEN <= n) {
        const length = words[at >> 2]!;
        if (length < NLMSG_HDRLEN || at + length > n) throw new IpvsError(Errno.EIO, operations[from]!.op, "truncated netlink reply");
        const seq = words[(at >> 2) + 2]! >>> 0;
        const offset = (seq - firstSeq) >>> 0;
        if ((words[(at >> 2) + 1]! & 0xffff) === NLMSG_ERROR && offset <= span) {
          if (words[(at >> 2) + 4] !== 0) {
            const reply = readErrorReply(this.rxView, headerAt(this.rxView, at));
            const index = from + offset;
            results[index] = { ok: false, error: new IpvsError(reply.errno, operations[index]!.op, reply.message) };
          }
          if (seq === lastSeq) return;
        }
        at += (length + 3) & ~3;
      }
    }
  }

  /**
   * Sends one GET request (naming `key`'s service when given) and decodes each reply message into
   * `out`: the payload of its `nest` attribute (messages without it are skipped), or with nest
   * -1 all its attributes. A dump ends with NLMSG_DONE; a plain request with its ack. One flat
   * loop, no per-message objects: a table dump runs this once per service.
   */
  private request<T, C>(
    cmd: number,
    dump: boolean,
    key: ServiceKey | undefined,
    nest: number,
    decode: Decode<T, C>,
    context: C,
    out: T[],
  ): void {
    const w = this.writer;
    w.reset();
    const seq = this.nextSeq();
    const start = w.beginGenl(this.socket.familyId, NLM_F_REQUEST | NLM_F_ACK | (dump ? NLM_F_DUMP : 0), seq, cmd, IPVS_GENL_VERSION);
    if (key) writeServiceKeyNest(w, key);
    w.endMessage(start);
    this.sendWritten("get");
    const words = this.rxWords;
    for (;;) {
      const n = this.receive("get");
      let at = 0;
      while (at + NLMSG_HDRLEN <= n) {
        const length = words[at >> 2]!;
        if (length < NLMSG_HDRLEN || at + length > n) throw overrun(length, at, n);
        if (words[(at >> 2) + 2]! >>> 0 === seq) {
          const type = words[(at >> 2) + 1]! & 0xffff;
          if (type === NLMSG_DONE) return;
          if (type === NLMSG_ERROR) {
            const reply = readErrorReply(this.rxView, headerAt(this.rxView, at));
            if (reply.errno !== 0) throw new IpvsError(reply.errno, "get", reply.message);
            return;
          }
          const attrs = genlAttrsStart(at, length);
          const end = at + length;
          if (nest < 0) {
            out.push(decode(words, attrs, end, context));
          } else {
            const found = findAttr(words, attrs, end, nest, "reply");
            if (found >= 0) out.push(decode(words, found + NLA_HDRLEN, found + (words[found >> 2]! & 0xffff), context));
          }
        }
        at += (length + 3) & ~3;
      }
    }
  }

  /** Decodes with one of the Attributes-based decoders (replies too rare to need a flat one). */
  private viaAttributes<T>(decode: (a: Attributes) => T, set: string): Decode<T, undefined> {
    return (_words, start, end) => decode(this.reply.reset(this.rxView, start, end, set));
  }

  async info(): Promise<IpvsInfo> {
    const out: IpvsInfo[] = [];
    this.request(Cmd.GET_INFO, false, undefined, -1, this.viaAttributes(decodeInfo, "info"), undefined, out);
    if (!out[0]) throw new IpvsError(Errno.EIO, "get", "no GET_INFO reply");
    return out[0];
  }

  async services(): Promise<ServiceEntry[]> {
    const out: ServiceEntry[] = [];
    this.request(Cmd.GET_SERVICE, true, undefined, CmdAttr.SERVICE, decodeService, undefined, out);
    return out;
  }

  async service(key: ServiceKey): Promise<ServiceEntry> {
    const out: ServiceEntry[] = [];
    this.request(Cmd.GET_SERVICE, false, key, CmdAttr.SERVICE, decodeService, undefined, out);
    const found = out[out.length - 1];
    if (!found) throw new IpvsError(Errno.ESRCH, "get");
    return found;
  }

  async destinations(key: ServiceKey): Promise<DestinationEntry[]> {
    const out = this.dumpDestinations(key);
    // The kernel answers an empty dump for a missing service; say so, as MemoryIpvs does.
    if (out.length === 0) await this.service(key);
    return out;
  }

  private dumpDestinations(key: ServiceKey): DestinationEntry[] {
    const out: DestinationEntry[] = [];
    this.request(Cmd.GET_DEST, true, key, CmdAttr.DEST, decodeDestination, key.family, out);
    return out;
  }

  override async table() {
    const services = await this.services();
    const tables: ServiceTable[] = new Array<ServiceTable>(services.length);
    for (let i = 0; i < services.length; i++) {
      const service = services[i]!;
      tables[i] = { service, destinations: this.dumpDestinations(service.key) };
    }
    return tables;
  }

  async timeouts(): Promise<Timeouts> {
    const out: Timeouts[] = [];
    this.request(Cmd.GET_CONFIG, false, undefined, -1, this.viaAttributes(decodeTimeouts, "config"), undefined, out);
    if (!out[0]) throw new IpvsError(Errno.EIO, "get", "no GET_CONFIG reply");
    return out[0];
  }

  async daemons(): Promise<SyncDaemon[]> {
    const out: SyncDaemon[] = [];
    this.request(Cmd.GET_DAEMON, true, undefined, CmdAttr.DAEMON, this.viaAttributes(decodeDaemon, "daemon"), undefined, out);
    return out;
  }

  close(): void {
    this.socket.close();
  }
}

function socketToIpvsError(e: unknown, op: IpvsOperation["op"] | "get"): IpvsError {
  if (e instanceof SocketError) return new IpvsError(e.errno === 11 ? Errno.ETIMEDOUT : e.errno, op, e.message);
  if (e instanceof IpvsError) return e;
  return new IpvsError(Errno.EIO, op, String(e));
}

/**
 * Opens the kernel's IPVS. Fails with IpvsUnavailableError and a sentence saying what to do:
 * a missing libnl package, the ip_vs module not loaded, or no CAP_NET_ADMIN.
 */
export async function openKernelIpvs(options: KernelIpvsOptions = {}): Promise<KernelIpvs> {
  let socket: GenlSocket;
  try {
    socket = GenlSocket.open(IPVS_GENL_NAME, options);
  } catch (e) {
    if (e instanceof FamilyNotFoundError) throw new IpvsUnavailableError("the ip_vs kernel module is not loaded (modprobe ip_vs)");
    if (e instanceof NativeLibraryError) throw new IpvsUnavailableError(e.message);
    throw new IpvsUnavailableError(`cannot open a generic netlink socket: ${e instanceof Error ? e.message : String(e)}`);
  }
  const ipvs = new KernelIpvs(socket);
  try {
    await ipvs.info();
  } catch (e) {
    ipvs.close();
    if (e instanceof IpvsError && (e.errno === Errno.EPERM || e.errno === Errno.EACCES)) {
      throw new IpvsUnavailableError("permission denied: programming IPVS needs CAP_NET_ADMIN (run as root or grant the capability)");
    }
    throw new IpvsUnavailableError(`IPVS did not answer: ${e instanceof Error ? e.message : String(e)}`);
  }
  return ipvs;
}


compileMethodsAlone(KernelIpvs.prototype);
