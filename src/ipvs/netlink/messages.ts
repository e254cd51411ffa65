/**
 * @module Splits a receive buffer into netlink messages and reads error/ack replies, including
 * the kernel's extended-ack text. Pure.
 */
import {
  GENL_HDRLEN,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLMSGERR_ATTR_MSG,
  align4,
} from "./constants.ts";
import { Attributes, AttributeError } from "./attributes.ts";

export interface MessageHeader {
  /** Offset of the nlmsghdr in the buffer. */
  readonly offset: number;
  readonly length: number;
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
}

/** The length of the message at `at`, checked against `end`: throws AttributeError when it overruns. */
export function messageLength(view: DataView, at: number, end: number): number {
  const length = view.getUint32(at, true);
  if (length < NLMSG_HDRLEN || at + length > end) throw overrun(length, at, end);
  return length;
}

/** The error for a message of `length` at `at` that does not fit in an `end`-byte reply. */
export function overrun(length: number, at: number, end: number): AttributeError {
  return new AttributeError(`netlink message of length ${length} at offset ${at} overruns the ${end}-byte reply`);
}

/** The header of the message at `at` (its length already checked), as an object. */
export function headerAt(view: DataView, at: number): MessageHeader {
  return {
    offset: at,
    length: view.getUint32(at, true),
    type: view.getUint16(at + 4, true),
    flags: view.getUint16(at + 6, true),
    seq: view.getUint32(at + 8, true),
    pid: view.getUint32(at + 12, true),
  };
}

/** Calls `visit` for each message in `view[0, end)`; throws AttributeError on a truncated one. */
export function forEachMessage(view: DataView, end: number, visit: (header: MessageHeader) => void): void {
  let at = 0;
  while (at + NLMSG_HDRLEN <= end) {
    const length = messageLength(view, at, end);
    visit(headerAt(view, at));
    at += align4(length);
  }
}

export interface ErrorReply {
  /** 0 for a success ack, else the positive errno. */
  readonly errno: number;
  /** The kernel's extended-ack text, when it sent one. */
  readonly message?: string;
}

/** Reads an NLMSG_ERROR message (an ack when errno is 0). */
export function readErrorReply(view: DataView, header: MessageHeader): ErrorReply {
  if (header.type !== NLMSG_ERROR) throw new AttributeError(`message type ${header.type} is not an error reply`);
  const payload = header.offset + NLMSG_HDRLEN;
  const errno = -view.getInt32(payload, true) | 0;
  if (!(header.flags & NLM_F_ACK_TLVS)) return { errno };
  // After the errno comes the original request: its header only when capped, else all of it.
  const originalLength = header.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : view.getUint32(payload + 4, true);
  const tlvStart = payload + 4 + align4(originalLength);
  const end = header.offset + header.length;
  if (tlvStart >= end) return { errno };
  const attrs = new Attributes(view, tlvStart, end, "extended ack");
  const message = attrs.string(NLMSGERR_ATTR_MSG);
  return message ? { errno, message } : { errno };
}

/** Offsets of a generic-netlink message's command and attributes. */
export function genlPayload(view: DataView, header: MessageHeader): { cmd: number; attrsStart: number; end: number } {
  const attrsStart = genlAttrsStart(header.offset, header.length);
  return { cmd: view.getUint8(header.offset + NLMSG_HDRLEN), attrsStart, end: header.offset + header.length };
}

/** Where the attributes of the generic-netlink message at `at` of `length` bytes start. */
export function genlAttrsStart(at: number, length: number): number {
  if (length < NLMSG_HDRLEN + GENL_HDRLEN) {
    throw new AttributeError(`generic netlink message of ${length} bytes has no genl header`);
  }
  return at + NLMSG_HDRLEN + GENL_HDRLEN;
}
