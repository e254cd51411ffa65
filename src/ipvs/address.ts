/**
 * @module IP address text ↔ bytes, and canonical forms (RFC 5952 for IPv6), so every layer
 * compares addresses the same way. Pure.
 */
import type { Family } from "./types.ts";

/** The family of an address, or undefined when the text is none (no DNS names, no zone ids). */
export function familyOf(address: string): Family | undefined {
  if (parseIpv4(address, SCRATCH4)) return "inet";
  if (parseIpv6(address, SCRATCH16)) return "inet6";
  return undefined;
}

const SCRATCH4 = new Uint8Array(4);
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
      const v4 = new Uint8Array(4);
      if (!parseIpv4(word, v4) || groups.length > 6) return false;
      groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
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

/** Dotted-quad → bytes without regex or split (the codec's hot path); false if malformed. */
function parseIpv4(address: string, out: Uint8Array): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || part === 3) return false;
      out[part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3 && !(digits === 1 && value === 0)) {
      value = value * 10 + (c - 48);
      if (value > 255) return false;
      digits++;
    } else {
      return false;
    }
  }
  if (digits === 0 || part !== 3) return false;
  out[3] = value;
  return true;
}

/** Address bytes: 4 for IPv4, 16 for IPv6. Throws on text that is no address. */
export function addressToBytes(address: string): Uint8Array {
  const v4 = new Uint8Array(4);
  if (parseIpv4(address, v4)) return v4;
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
