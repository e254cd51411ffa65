/**
 * @module KernelIpvs: the Ipvs interface over the kernel's IPVS generic-netlink family, through
 * one libnl socket (ffi/). Requests are encoded here in TypeScript; batches go out many messages
 * per send with an ack asked only on the last one: netlink answers each failure anyway, with its
 * sequence number, so every operation keeps its own result (see docs/ipvs-driver.md).
 */
import { GenlSocket, FamilyNotFoundError, SocketError } from "../../ffi/netlink-socket.ts";
import { NativeLibraryError } from "../../ffi/libnl.ts";
import { BaseIpvs } from "./base-ipvs.ts";
import { Cmd, CmdAttr, IPVS_GENL_NAME, IPVS_GENL_VERSION } from "./constants.ts";
import { Errno, IpvsError, IpvsUnavailableError } from "./errors.ts";
import type { OperationResult } from "./ipvs.ts";
import { Attributes } from "./netlink/attributes.ts";
import { NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST } from "./netlink/constants.ts";
import { forEachMessage, genlPayload, readErrorReply } from "./netlink/messages.ts";
import { MessageWriter } from "./netlink/writer.ts";
import { encodeOperation } from "./codec/operation.ts";
import { decodeService, writeServiceKeyNest } from "./codec/service.ts";
import { decodeDestination } from "./codec/destination.ts";
import { decodeDaemon, decodeInfo, decodeTimeouts } from "./codec/config.ts";
import type { DestinationEntry, IpvsInfo, IpvsOperation, ServiceEntry, ServiceKey, SyncDaemon, Timeouts } from "./types.ts";

/** Requests per send. Netlink handles each inside sendmsg, so a larger window gains nothing. */
const CHUNK = 256;
const OK: OperationResult = Object.freeze({ ok: true });

type Visit = (attrs: Attributes) => void;

export interface KernelIpvsOptions {
  receiveBuffer?: number;
  receiveTimeoutMs?: number;
}

export class KernelIpvs extends BaseIpvs {
  readonly kind = "kernel" as const;
  private seq = (Math.random() * 0x7fffffff) >>> 0;
  private readonly writer = new MessageWriter(64 * 1024);
  private readonly rx = new Uint8Array(256 * 1024);
  private readonly rxView = new DataView(this.rx.buffer);
  /** Reused for every reply message: decoders copy out what they keep before the next one. */
  private readonly reply = new Attributes(this.rxView, 0, 0, "reply");

  constructor(private readonly socket: GenlSocket) {
    super();
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
    const results: OperationResult[] = new Array<OperationResult>(operations.length).fill(OK);
    const w = this.writer;
    const family = this.socket.familyId;
    for (let from = 0; from < operations.length; from += CHUNK) {
      const to = Math.min(from + CHUNK, operations.length);
      w.reset();
      const firstSeq = (this.seq + 1) >>> 0;
      let last = 0;
      for (let i = from; i < to; i++) last = encodeOperation(w, family, this.nextSeq(), 0, operations[i]!);
      w.setFlags(last, NLM_F_REQUEST | NLM_F_ACK);
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
    const view = this.rxView;
    const span = (lastSeq - firstSeq) >>> 0;
    for (;;) {
      const n = this.receive(operations[from]!.op);
      let at = 0;
      while (at + NLMSG_HDRLEN <= n) {
        const length = view.getUint32(at, true);
        if (length < NLMSG_HDRLEN || at + length > n) throw new IpvsError(Errno.EIO, operations[from]!.op, "truncated netlink reply");
        const seq = view.getUint32(at + 8, true);
        const offset = (seq - firstSeq) >>> 0;
        if (view.getUint16(at + 4, true) === NLMSG_ERROR && offset <= span) {
          if (view.getInt32(at + NLMSG_HDRLEN, true) !== 0) {
            const reply = readErrorReply(view, {
              offset: at,
              length,
              type: NLMSG_ERROR,
              flags: view.getUint16(at + 6, true),
              seq,
              pid: view.getUint32(at + 12, true),
            });
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
   * Sends one GET request and calls `visit` with the attributes of each reply message. A dump
   * ends with NLMSG_DONE; a plain request with its ack.
   */
  private request(cmd: number, dump: boolean, writeAttrs: ((w: MessageWriter) => void) | undefined, visit: Visit): void {
    const w = this.writer;
    w.reset();
    const seq = this.nextSeq();
    const start = w.beginGenl(this.socket.familyId, NLM_F_REQUEST | NLM_F_ACK | (dump ? NLM_F_DUMP : 0), seq, cmd, IPVS_GENL_VERSION);
    writeAttrs?.(w);
    w.endMessage(start);
    this.sendWritten("get");
    let done = false;
    let failure: IpvsError | undefined;
    while (!done) {
      const n = this.receive("get");
      forEachMessage(this.rxView, n, (h) => {
        if (h.seq !== seq || done) return;
        if (h.type === NLMSG_DONE) {
          done = true;
        } else if (h.type === NLMSG_ERROR) {
          const reply = readErrorReply(this.rxView, h);
          if (reply.errno !== 0) failure = new IpvsError(reply.errno, "get", reply.message);
          done = true;
        } else if (!failure) {
          const { attrsStart, end } = genlPayload(this.rxView, h);
          visit(this.reply.reset(this.rxView, attrsStart, end, "reply"));
        }
      });
    }
    if (failure) throw failure;
  }

  async info(): Promise<IpvsInfo> {
    let info: IpvsInfo | undefined;
    this.request(Cmd.GET_INFO, false, undefined, (a) => (info = decodeInfo(a)));
    if (!info) throw new IpvsError(Errno.EIO, "get", "no GET_INFO reply");
    return info;
  }

  async services(): Promise<ServiceEntry[]> {
    const out: ServiceEntry[] = [];
    this.request(Cmd.GET_SERVICE, true, undefined, (a) => {
      const nested = a.nested(CmdAttr.SERVICE, "service");
      if (nested) out.push(decodeService(nested));
    });
    return out;
  }

  async service(key: ServiceKey): Promise<ServiceEntry> {
    let found: ServiceEntry | undefined;
    this.request(Cmd.GET_SERVICE, false, (w) => writeServiceKeyNest(w, key), (a) => {
      const nested = a.nested(CmdAttr.SERVICE, "service");
      if (nested) found = decodeService(nested);
    });
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
    this.request(Cmd.GET_DEST, true, (w) => writeServiceKeyNest(w, key), (a) => {
      const nested = a.nested(CmdAttr.DEST, "destination");
      if (nested) out.push(decodeDestination(nested, key.family));
    });
    return out;
  }

  override async table() {
    const services = await this.services();
    return services.map((service) => ({ service, destinations: this.dumpDestinations(service.key) }));
  }

  async timeouts(): Promise<Timeouts> {
    let timeouts: Timeouts | undefined;
    this.request(Cmd.GET_CONFIG, false, undefined, (a) => (timeouts = decodeTimeouts(a)));
    if (!timeouts) throw new IpvsError(Errno.EIO, "get", "no GET_CONFIG reply");
    return timeouts;
  }

  async daemons(): Promise<SyncDaemon[]> {
    const out: SyncDaemon[] = [];
    this.request(Cmd.GET_DAEMON, true, undefined, (a) => {
      const nested = a.nested(CmdAttr.DAEMON, "daemon");
      if (nested) out.push(decodeDaemon(nested));
    });
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

