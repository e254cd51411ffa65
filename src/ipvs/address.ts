/**
 * @module IP address text ↔ bytes, and canonical forms (RFC 5952 for IPv6), so every layer
 * compares addresses the same way. Pure.
 */
import type { Family } from "./types.ts";
import { compileAlone } from "./jit.ts";

/** The family of an address, or undefined when the text is none (no DNS names, no zone ids). */
export function familyOf(address: string): Family | undefined {
  if (parseIpv4(address) !== undefined) return "inet";
  if (parseIpv6(address, SCRATCH16)) return "inet6";
  return undefined;
}

const SCRATCH16 = new Uint8Array(16);

/**
 * RFC 4291 text → 16 bytes, without regex or node:net (this sits on the codec's hot path, where
 * loading node:net alone cost more than encoding 11,000 operations under emulation).
 */
function parseIpv6(text: string, out: Uint8Array): boolean {
  const groups: number[] = [];
  let gap = -1;
  let i = 0;
  const n = text.length;
  if (n < 2) return false;
  if (text.charCodeAt(0) === 58 /* : */) {
    if (text.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
    if (i === n) return fill(groups, gap, out);
  }
  while (i < n) {
    // An embedded IPv4 tail (::ffff:192.0.2.1) supplies the last two groups.
    const rest = text.indexOf(":", i);
    const word = rest < 0 ? text.slice(i) : text.slice(i, rest);
    if (rest < 0 && word.includes(".")) {
      const v4 = parseIpv4(word);
      if (v4 === undefined || groups.length > 6) return false;
      groups.push(((v4 & 0xff) << 8) | ((v4 >>> 8) & 0xff), (((v4 >>> 16) & 0xff) << 8) | (v4 >>> 24));
      break;
    }
    if (word.length === 0 || word.length > 4) return false;
    let value = 0;
    for (let k = 0; k < word.length; k++) {
      const c = word.charCodeAt(k);
      const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (d < 0) return false;
      value = value * 16 + d;
    }
    groups.push(value);
    if (groups.length > 8) return false;
    if (rest < 0) break;
    i = rest + 1;
    if (i < n && text.charCodeAt(i) === 58) {
      if (gap >= 0) return false; // a second "::"
      gap = groups.length;
      i++;
      if (i === n) break;
    } else if (i === n) {
      return false; // a trailing single ":"
    }
  }
  return fill(groups, gap, out);
}

function fill(groups: number[], gap: number, out: Uint8Array): boolean {
  if (gap < 0 ? groups.length !== 8 : groups.length > 7) return false;
  const missing = 8 - groups.length;
  let g = 0;
  for (let k = 0; k < 8; k++) {
    const value = gap >= 0 && k >= gap && k < gap + missing ? 0 : groups[g++]!;
    out[2 * k] = value >> 8;
    out[2 * k + 1] = value & 0xff;
  }
  return true;
}

/**
 * Dotted-quad → the address as a little-endian int32 word (its bytes in memory are the address
 * in network order), without regex or split: the codec's hot path. Undefined if malformed.
 */
function parseIpv4(address: string): number | undefined {
  let part = 0;
  let value = 0;
  let digits = 0;
  let word = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || part === 3) return undefined;
      word |= value << (8 * part++);
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3 && !(digits === 1 && value === 0)) {
      value = value * 10 + (c - 48);
      if (value > 255) return undefined;
      digits++;
    } else {
      return undefined;
    }
  }
  if (digits === 0 || part !== 3) return undefined;
  return word | (value << 24);
}

function wordToBytes(word: number, out: Uint8Array, at: number): void {
  out[at] = word & 0xff;
  out[at + 1] = (word >>> 8) & 0xff;
  out[at + 2] = (word >>> 16) & 0xff;
  out[at + 3] = word >>> 24;
}

/**
 * Recently encoded addresses → their words. Before the JIT has warmed up, parsing text a char at
 * a time costs about ten times a Map lookup, and bulk loads repeat addresses (VIPs, backends).
 * Bounded: emptied when full.
 */
const V4_WORDS = new Map<string, number>();
const V6_WORDS = new Map<string, Int32Array>();
const CACHE_MAX = 4096;

/**
 * Writes an address's bytes as little-endian words at `words[at]` (1 word for IPv4, 4 for IPv6;
 * netlink's 4-byte alignment makes whole words safe) and returns how many. Throws on text that
 * is no address, as addressToBytes does.
 */
export function writeAddressWords(address: string, words: Int32Array, at: number): number {
  let v4 = V4_WORDS.get(address);
  if (v4 === undefined) {
    v4 = parseIpv4(address);
    if (v4 !== undefined) {
      if (V4_WORDS.size >= CACHE_MAX) V4_WORDS.clear();
      V4_WORDS.set(address, v4);
    }
  }
  if (v4 !== undefined) {
    words[at] = v4;
    return 1;
  }
  const v6 = V6_WORDS.get(address) ?? ipv6Words(address);
  words.set(v6, at);
  return 4;
}

function ipv6Words(address: string): Int32Array {
  if (!parseIpv6(address, SCRATCH16)) throw new TypeError(`not an IP address: ${JSON.stringify(address)}`);
  const b = SCRATCH16;
  const v6 = new Int32Array(4);
  for (let k = 0; k < 4; k++) v6[k] = b[4 * k]! | (b[4 * k + 1]! << 8) | (b[4 * k + 2]! << 16) | (b[4 * k + 3]! << 24);
  if (V6_WORDS.size >= CACHE_MAX) V6_WORDS.clear();
  V6_WORDS.set(address, v6);
  return v6;
}

/** Address bytes: 4 for IPv4, 16 for IPv6. Throws on text that is no address. */
export function addressToBytes(address: string): Uint8Array {
  const word = parseIpv4(address);
  if (word !== undefined) {
    const v4 = new Uint8Array(4);
    wordToBytes(word, v4, 0);
    return v4;
  }
  const v6 = new Uint8Array(16);
  if (parseIpv6(address, v6)) return v6;
  throw new TypeError(`not an IP address: ${JSON.stringify(address)}`);
}

/** Text of 4 or 16 address bytes; IPv6 in RFC 5952 canonical form. */
export function bytesToAddress(bytes: Uint8Array, family: Family): string {
  if (family === "inet") return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  // Longest run of two or more zero groups becomes "::" (first one on ties).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

/** IPv4 words already spelled: dumps repeat backend addresses, and a hit also shares the string. */
const V4_TEXT = new Map<number, string>();

/**
 * The text of the `n`-byte address at byte `p` (4-aligned) of `words` (a dump reply), as
 * bytesToAddress spells it.
 */
export function addressAt(words: Int32Array, p: number, n: number, family: Family): string {
  if (family === "inet" && n >= 4) {
    const word = words[p >> 2]!;
    let text = V4_TEXT.get(word);
    if (text === undefined) {
      text = `${word & 0xff}.${(word >>> 8) & 0xff}.${(word >>> 16) & 0xff}.${word >>> 24}`;
      if (V4_TEXT.size >= CACHE_MAX) V4_TEXT.clear();
      V4_TEXT.set(word, text);
    }
    return text;
  }
  return bytesToAddress(new Uint8Array(words.buffer, words.byteOffset + p, n), family);
}

/** The canonical spelling of an address, or undefined when the text is not one. */
export function canonicalAddress(address: string): string | undefined {
  const family = familyOf(address);
  if (!family) return undefined;
  return bytesToAddress(addressToBytes(address), family);
}

/** IPv4 prefix length → the mask as a host-order u32 (24 → 0xffffff00). */
export function prefixToIpv4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** IPv4 mask (host-order u32) → prefix length; a non-contiguous mask counts its leading ones. */
export function ipv4MaskToPrefix(mask: number): number {
  let prefix = 0;
  while (prefix < 32 && (mask & (0x80000000 >>> prefix)) !== 0) prefix++;
  return prefix;
}

compileAlone(writeAddressWords, parseIpv4, parseIpv6, ipv6Words, addressAt, bytesToAddress);
