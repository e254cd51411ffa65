/**
 * @module IP address text ↔ bytes, and canonical forms (RFC 5952 for IPv6), so every layer
 * compares addresses the same way. Pure.
 */
import { isIPv4, isIPv6 } from "node:net";
import type { Family } from "./types.ts";

export function familyOf(address: string): Family | undefined {
  if (isIPv4(address)) return "inet";
  if (isIPv6(address)) return "inet6";
  return undefined;
}

function ipv4Bytes(address: string, out: Uint8Array, offset: number): void {
  const parts = address.split(".");
  for (let i = 0; i < 4; i++) out[offset + i] = Number(parts[i]);
}

function ipv6Bytes(address: string, out: Uint8Array, offset: number): void {
  let text = address;
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  let tail: number[] = [];
  // An embedded IPv4 suffix (::ffff:192.0.2.1) supplies the last 4 bytes.
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".", lastColon)) {
    const v4 = new Uint8Array(4);
    ipv4Bytes(text.slice(lastColon + 1), v4, 0);
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    text = text.slice(0, lastColon + 1) + "0:0";
    tail.length = 2;
  }
  const [head = "", rest] = text.split("::") as [string, string | undefined];
  const headGroups = head ? head.split(":") : [];
  const restGroups = rest !== undefined && rest !== "" ? rest.split(":") : [];
  const groups: number[] = new Array(8).fill(0);
  headGroups.forEach((g, i) => (groups[i] = parseInt(g, 16)));
  restGroups.forEach((g, i) => (groups[8 - restGroups.length + i] = parseInt(g, 16)));
  if (tail.length === 2) {
    groups[6] = tail[0]!;
    groups[7] = tail[1]!;
  }
  for (let i = 0; i < 8; i++) {
    out[offset + 2 * i] = groups[i]! >> 8;
    out[offset + 2 * i + 1] = groups[i]! & 0xff;
  }
}

/** Dotted-quad → bytes without regex or split (the codec's hot path); false if malformed. */
function fastIpv4(address: string, out: Uint8Array): boolean {
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
    } else if (c >= 48 && c <= 57 && digits < 3) {
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
  if (fastIpv4(address, v4)) return v4;
  if (familyOf(address) === "inet6") {
    const out = new Uint8Array(16);
    ipv6Bytes(address, out, 0);
    return out;
  }
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
