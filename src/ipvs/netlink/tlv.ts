/**
 * @module Flat attribute reading for the hot decoders (dumps of thousands of services and
 * destinations): a decoder walks one level of TLVs itself, switching on the type, and reads each
 * value with one call that checks its length. No per-message objects or tables, which matters
 * most before the JIT has warmed up. `Attributes` remains for the rarely used replies. Pure.
 *
 * The reply is read as host-order 32-bit words (signed, so the JIT sees only small integers) (offsets stay in bytes): netlink aligns every
 * message and attribute to 4 bytes, so an attribute header is one word (length low, type high)
 * and a value one word or two. Typed-array reads are inline even in the JIT's first tier, where a
 * DataView read is a call. Little-endian hosts only, as Bun is.
 */
import { AttributeError } from "./attributes.ts";
import { NLA_HDRLEN, NLA_TYPE_MASK } from "./constants.ts";
import { compileAlone, noFtl } from "../jit.ts";

const decoder = new TextDecoder();

/**
 * The payload length of the attribute at `at`, checked against `end` (throws AttributeError with
 * the set's name when it overruns). The next attribute starts at `at + NLA_HDRLEN + align4(length)`.
 */
export function payloadLength(words: Int32Array, at: number, end: number, set: string): number {
  const len = words[at >> 2]! & 0xffff;
  if (len < NLA_HDRLEN || at + len > end) {
    throw new AttributeError(`${set}: attribute ${attrType(words, at)} has length ${len}, beyond the ${end - at} bytes left`);
  }
  return len - NLA_HDRLEN;
}

/** The type of the attribute at `at`, without its nested/byte-order flags. */
export function attrType(words: Int32Array, at: number): number {
  return (words[at >> 2]! >>> 16) & NLA_TYPE_MASK;
}

/** The offset of the last attribute of `type` in [start, end) (its header), or -1. */
export function findAttr(words: Int32Array, start: number, end: number, type: number, set: string): number {
  let found = -1;
  let at = start;
  while (at + NLA_HDRLEN <= end) {
    const n = payloadLength(words, at, end, set);
    if (attrType(words, at) === type) found = at;
    at += NLA_HDRLEN + ((n + 3) & ~3);
  }
  return found;
}

/** The error for a value shorter than its type. */
export function tooShort(set: string, name: string, got: number, want: number): AttributeError {
  return new AttributeError(`${set}: ${name} is ${got} bytes, expected ${want}`);
}

// Readers of the payload at `p` (4-aligned) of `n` bytes: they throw when it is shorter than its
// type. A short value's word holds padding beside it, masked off.
export function readU8(words: Int32Array, p: number, n: number, set: string, name: string): number {
  if (n < 1) throw tooShort(set, name, n, 1);
  return words[p >> 2]! & 0xff;
}
export function readU16(words: Int32Array, p: number, n: number, set: string, name: string): number {
  if (n < 2) throw tooShort(set, name, n, 2);
  return words[p >> 2]! & 0xffff;
}
export function readU16be(words: Int32Array, p: number, n: number, set: string, name: string): number {
  if (n < 2) throw tooShort(set, name, n, 2);
  const w = words[p >> 2]!;
  return ((w & 0xff) << 8) | ((w >>> 8) & 0xff);
}
export function readU32(words: Int32Array, p: number, n: number, set: string, name: string): number {
  if (n < 4) throw tooShort(set, name, n, 4);
  return words[p >> 2]! >>> 0;
}
/** A u64 as a number (exact up to 2^53, plenty for counters). */
export function readU64(words: Int32Array, p: number, n: number, set: string, name: string): number {
  if (n < 8) throw tooShort(set, name, n, 8);
  return (words[p >> 2]! >>> 0) + (words[(p >> 2) + 1]! >>> 0) * 0x1_0000_0000;
}

/** A string payload up to its NUL (or its end). ASCII, the usual case, needs no decoder. */
export function readString(words: Int32Array, p: number, n: number): string {
  let text = "";
  for (let k = 0; k < n; k++) {
    const c = (words[(p + k) >> 2]! >>> (8 * ((p + k) & 3))) & 0xff;
    if (c === 0) return text;
    if (c > 0x7f) {
      const bytes = new Uint8Array(words.buffer, words.byteOffset + p, n);
      const nul = bytes.indexOf(0);
      return decoder.decode(nul >= 0 ? bytes.subarray(0, nul) : bytes);
    }
    text += String.fromCharCode(c);
  }
  return text;
}

noFtl(payloadLength, attrType, readU8, readU16, readU16be, readU32, readU64);
compileAlone(findAttr, tooShort, readString);
