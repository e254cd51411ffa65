/**
 * @module Writes netlink messages and their attributes into one growable buffer, with no
 * allocation per attribute, so a batch of thousands of IPVS commands is one pass of DataView writes.
 *
 *   nlmsghdr (16)         genlmsghdr (4)        attributes (4-aligned TLVs)
 *   +----+----+----+----+ +---+---+---+ +--------+--------+---------+-----+
 *   |len |type|flag|seq |pid| cmd|ver|res| |nla_len |nla_type| payload | pad |...
 *   +----+----+----+----+ +---+---+---+ +--------+--------+---------+-----+
 *   u32   u16  u16  u32 u32  u8  u8  u16    u16      u16
 */
import { NLA_F_NESTED, NLA_HDRLEN, NLMSG_HDRLEN, GENL_HDRLEN, align4 } from "./constants.ts";
import { compileAlone, noFtl } from "../jit.ts";

// Word-level encoding assumes a little-endian host, as netlink's host order is there: Bun runs
// only on x64 and arm64.

/** An attribute header as one word: its length (header included) low, its type high. */
export function nlaWord(type: number, payloadBytes: number): number {
  return ((type & 0xffff) << 16) | ((NLA_HDRLEN + payloadBytes) & 0xffff);
}

/** A nested attribute's header, once its total length in bytes is known. */
export function nestWord(type: number, totalBytes: number): number {
  return nlaWord(type | NLA_F_NESTED, totalBytes - NLA_HDRLEN);
}

/** A u16 in network byte order, as the word that holds it and its padding (IPVS ports). */
export function be16Word(value: number): number {
  return ((value & 0xff) << 8) | ((value >> 8) & 0xff);
}

/** A u32 in network byte order (the IPv4 netmask), as a word. */
export function be32Word(value: number): number {
  return ((value & 0xff) << 24) | ((value & 0xff00) << 8) | ((value >>> 8) & 0xff00) | (value >>> 24);
}

const encoder = new TextEncoder();

export class MessageWriter {
  private buf: Uint8Array;
  private view: DataView;
  /**
   * The same buffer as host-order 32-bit words, for hot encoders: netlink aligns every header
   * and attribute to 4 bytes, so one word store writes an attribute header, or a u16/u32 value
   * with its padding. Signed, so every value stays a small integer to the JIT (a u32 above 2^31
   * would be a double); the bytes are the same. Replaced when the buffer grows: read it after
   * `reserve`.
   */
  words: Int32Array;
  /** Write position: the length of what has been written (a multiple of 4 between messages). */
  length = 0;
  private capacity: number;

  constructor(initialSize = 64 * 1024) {
    this.buf = new Uint8Array((initialSize + 3) & ~3 || 4);
    this.view = new DataView(this.buf.buffer);
    this.words = new Int32Array(this.buf.buffer);
    this.capacity = this.buf.length;
  }

  /** What has been written, as a view into the writer's buffer (valid until the next write). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** The whole underlying buffer (what has been written is its first `length` bytes). */
  buffer(): Uint8Array {
    return this.buf;
  }

  reset(): void {
    this.length = 0;
  }

  private ensure(extra: number): void {
    // `capacity`, not buf.length: a typed array's length is a slow read before the JIT warms up.
    if (this.length + extra <= this.capacity) return;
    let size = this.buf.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
    this.words = new Int32Array(next.buffer);
    this.capacity = size;
  }

  /**
   * Makes room for up to `bytes` more bytes and returns the write position as a word index;
   * the caller writes `words` from there and sets `length` to where it stopped (× 4).
   */
  reserve(bytes: number): number {
    if (this.length + bytes > this.capacity) this.ensure(bytes);
    return this.length >> 2;
  }

  /** Starts a generic-netlink message; returns its offset for `endMessage`. */
  beginGenl(family: number, flags: number, seq: number, cmd: number, version: number): number {
    const i = this.reserve(NLMSG_HDRLEN + GENL_HDRLEN);
    const words = this.words;
    words[i] = 0;
    words[i + 1] = (family & 0xffff) | ((flags & 0xffff) << 16);
    words[i + 2] = seq;
    words[i + 3] = 0;
    words[i + 4] = (cmd & 0xff) | ((version & 0xff) << 8);
    this.length += NLMSG_HDRLEN + GENL_HDRLEN;
    return i << 2;
  }

  /**
   * Starts a plain netlink message (rtnetlink: RTM_NEWADDR, ...), header only: the family's fixed
   * struct (ifaddrmsg, ifinfomsg) follows with `raw`. Returns its offset for `endMessage`.
   */
  beginMessage(type: number, flags: number, seq: number): number {
    this.ensure(NLMSG_HDRLEN);
    const start = this.length;
    const v = this.view;
    v.setUint32(start, 0, true);
    v.setUint16(start + 4, type, true);
    v.setUint16(start + 6, flags, true);
    v.setUint32(start + 8, seq, true);
    v.setUint32(start + 12, 0, true);
    this.length += NLMSG_HDRLEN;
    return start;
  }

  /** Appends bytes as they are (a fixed header struct), zero-padded to 4 bytes as netlink aligns. */
  raw(bytes: Uint8Array): this {
    const total = align4(bytes.length);
    this.ensure(total);
    this.buf.set(bytes, this.length);
    this.buf.fill(0, this.length + bytes.length, this.length + total);
    this.length += total;
    return this;
  }

  endMessage(start: number): void {
    this.words[start >> 2] = this.length - start;
  }

  /** Changes the flags of a message already written (to ask for an ack on the last of a chunk). */
  setFlags(start: number, flags: number): void {
    this.view.setUint16(start + 6, flags, true);
  }

  /** Reserves an attribute header and payload; returns the payload offset. It may grow the buffer,
   *  so callers read `this.view` only after calling it. */
  private header(type: number, payload: number): number {
    const total = align4(4 + payload);
    this.ensure(total);
    const at = this.length;
    this.view.setUint16(at, 4 + payload, true);
    this.view.setUint16(at + 2, type, true);
    // Zero the padding so the bytes are deterministic (golden tests compare them).
    for (let i = 4 + payload; i < total; i++) this.buf[at + i] = 0;
    this.length += total;
    return at + 4;
  }

  u8(type: number, value: number): this {
    const at = this.header(type, 1);
    this.view.setUint8(at, value);
    return this;
  }
  u16(type: number, value: number): this {
    const at = this.header(type, 2);
    this.view.setUint16(at, value, true);
    return this;
  }
  /** A u16 in network byte order (IPVS ports). */
  u16be(type: number, value: number): this {
    const at = this.header(type, 2);
    this.view.setUint16(at, value, false);
    return this;
  }
  u32(type: number, value: number): this {
    const at = this.header(type, 4);
    this.view.setUint32(at, value >>> 0, true);
    return this;
  }
  /** A u32 in network byte order (IPv4 netmask). */
  u32be(type: number, value: number): this {
    const at = this.header(type, 4);
    this.view.setUint32(at, value >>> 0, false);
    return this;
  }
  /** Two host-order u32s (struct ip_vs_flags { flags, mask }). */
  u32pair(type: number, a: number, b: number): this {
    const at = this.header(type, 8);
    this.view.setUint32(at, a >>> 0, true);
    this.view.setUint32(at + 4, b >>> 0, true);
    return this;
  }
  bytesAttr(type: number, value: Uint8Array): this {
    const at = this.header(type, value.length);
    this.buf.set(value, at);
    return this;
  }
  /** A NUL-terminated string (NLA_NUL_STRING). */
  string(type: number, value: string): this {
    // Scheduler and interface names are ASCII: copy their chars, sparing an encoder and an array.
    let ascii = true;
    for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0x7f) ascii = false;
    if (!ascii) return this.bytesAttr(type, encoder.encode(`${value}\0`));
    const at = this.header(type, value.length + 1);
    const buf = this.buf;
    for (let i = 0; i < value.length; i++) buf[at + i] = value.charCodeAt(i);
    buf[at + value.length] = 0;
    return this;
  }

  /** Opens a nested attribute; close it with `endNested`. */
  beginNested(type: number): number {
    this.ensure(4);
    const at = this.length;
    this.view.setUint16(at + 2, type | NLA_F_NESTED, true);
    this.length += 4;
    return at;
  }
  endNested(at: number): void {
    this.view.setUint16(at, this.length - at, true);
  }
}

// reserve() and endMessage() are tiny and called per message: inlinable.
noFtl(nlaWord, nestWord, be16Word, be32Word, MessageWriter.prototype.reserve, MessageWriter.prototype.endMessage);
compileAlone(MessageWriter.prototype.beginGenl, MessageWriter.prototype.string);
