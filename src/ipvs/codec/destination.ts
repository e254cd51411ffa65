/**
 * @module Destination ↔ IPVS_DEST_ATTR_* attributes. Ports (and the GUE tunnel port) are
 * network order; the forwarding method is the low 3 bits of the connection flags.
 */
import { compileAlone } from "../jit.ts";
import { CmdAttr, ConnFlag, DestAttr, TunnelEncapFlag, TunnelType } from "../constants.ts";
import { addressAt, writeAddressWords } from "../address.ts";
import { NLA_HDRLEN } from "../netlink/constants.ts";
import { attrType, payloadLength, readU16, readU16be, readU32, readU8 } from "../netlink/tlv.ts";
import { be16Word, nestWord, nlaWord, type MessageWriter } from "../netlink/writer.ts";
import type { Destination, DestinationEntry, DestinationKey, Family, ForwardMethod, TunnelKind, TunnelOptions } from "../types.ts";
import { FAMILY_NUMBER, familyName } from "./service.ts";
import { statsOf } from "./stats.ts";

const FORWARD_NUMBER: Record<ForwardMethod, number> = {
  masq: ConnFlag.MASQ,
  local: ConnFlag.LOCALNODE,
  tunnel: ConnFlag.TUNNEL,
  route: ConnFlag.DROUTE,
  bypass: ConnFlag.BYPASS,
};
/** Forwarding methods by number (the low bits of the connection flags). */
const FORWARD_NAME: (ForwardMethod | undefined)[] = [];
for (const [name, n] of Object.entries(FORWARD_NUMBER) as [ForwardMethod, number][]) FORWARD_NAME[n] = name;
const TUNNEL_NUMBER: Record<TunnelKind, number> = { ipip: TunnelType.IPIP, gue: TunnelType.GUE, gre: TunnelType.GRE };
const TUNNEL_NAME = new Map<number, TunnelKind>(
  (Object.entries(TUNNEL_NUMBER) as [TunnelKind, number][]).map(([k, v]) => [v, k]),
);
const CHECKSUM_BITS: Record<TunnelOptions["checksum"], number> = {
  none: TunnelEncapFlag.NOCSUM,
  csum: TunnelEncapFlag.CSUM,
  remcsum: TunnelEncapFlag.REMCSUM,
};

function checksumName(bits: number): TunnelOptions["checksum"] {
  if (bits & TunnelEncapFlag.REMCSUM) return "remcsum";
  if (bits & TunnelEncapFlag.CSUM) return "csum";
  return "none";
}

// Attribute headers as words (see MessageWriter.words).
/** A nest's header is this plus its length in bytes. */
const NEST_DEST = nestWord(CmdAttr.DEST, 0);
const W_ADDR4 = nlaWord(DestAttr.ADDR, 4);
const W_ADDR6 = nlaWord(DestAttr.ADDR, 16);
const W_PORT = nlaWord(DestAttr.PORT, 2);
const W_ADDR_FAMILY = nlaWord(DestAttr.ADDR_FAMILY, 2);
const W_FWD_METHOD = nlaWord(DestAttr.FWD_METHOD, 4);
const W_WEIGHT = nlaWord(DestAttr.WEIGHT, 4);
const W_U_THRESH = nlaWord(DestAttr.U_THRESH, 4);
const W_L_THRESH = nlaWord(DestAttr.L_THRESH, 4);
const W_TUN_TYPE = nlaWord(DestAttr.TUN_TYPE, 1);
const W_TUN_PORT = nlaWord(DestAttr.TUN_PORT, 2);
const W_TUN_FLAGS = nlaWord(DestAttr.TUN_FLAGS, 2);
/** The most a destination nest takes: header, key (16-byte ADDR), four u32s, three tunnel attributes. */
const DEST_BYTES = 4 + 36 + 32 + 24;

/** Writes a destination key's attributes at word `i` (room reserved); returns the word after them. */
function destinationKeyWords(words: Int32Array, i: number, key: DestinationKey): number {
  const n = writeAddressWords(key.address, words, i + 1);
  words[i] = n === 1 ? W_ADDR4 : W_ADDR6;
  i += 1 + n;
  words[i++] = W_PORT;
  words[i++] = be16Word(key.port);
  words[i++] = W_ADDR_FAMILY;
  words[i++] = FAMILY_NUMBER[key.family];
  return i;
}

/** CmdAttr.DEST { address, port, family }: what DEL_DEST needs. */
export function writeDestinationKeyNest(w: MessageWriter, key: DestinationKey): void {
  const nest = w.reserve(DEST_BYTES);
  const words = w.words;
  const end = destinationKeyWords(words, nest + 1, key);
  words[nest] = NEST_DEST + ((end - nest) << 2);
  w.length = end << 2;
}

/** CmdAttr.DEST with everything NEW_DEST and SET_DEST require (method, weight, both thresholds). */
export function writeDestination(w: MessageWriter, d: Destination): void {
  const nest = w.reserve(DEST_BYTES);
  const words = w.words;
  let i = destinationKeyWords(words, nest + 1, d);
  words[i++] = W_FWD_METHOD;
  words[i++] = FORWARD_NUMBER[d.forward];
  // The kernel reads the weight as a signed int: a negative one is sent as such and refused (ERANGE).
  words[i++] = W_WEIGHT;
  words[i++] = d.weight | 0;
  words[i++] = W_U_THRESH;
  words[i++] = d.upperThreshold;
  words[i++] = W_L_THRESH;
  words[i++] = d.lowerThreshold;
  if (d.forward === "tunnel" && d.tunnel) {
    words[i++] = W_TUN_TYPE;
    words[i++] = TUNNEL_NUMBER[d.tunnel.type] & 0xff;
    words[i++] = W_TUN_PORT;
    words[i++] = be16Word(d.tunnel.port);
    words[i++] = W_TUN_FLAGS;
    words[i++] = CHECKSUM_BITS[d.tunnel.checksum] & 0xffff;
  }
  words[nest] = NEST_DEST + ((i - nest) << 2);
  w.length = i << 2;
}

const SET = "destination";

/**
 * Reads a destination from a GET_DEST dump: the payload [start, end) of its CmdAttr.DEST, walked
 * once. `serviceFamily` is its family on kernels without ADDR_FAMILY.
 */
export function decodeDestination(words: Int32Array, start: number, end: number, serviceFamily: Family): DestinationEntry {
  let familyNumber: number | undefined;
  let addrAt = -1;
  let addrLength = 0;
  let port = -1;
  let method = 0;
  let weight = 0;
  let upperThreshold = 0;
  let lowerThreshold = 0;
  let activeConnections = 0;
  let inactiveConnections = 0;
  let persistentConnections = 0;
  let tunnelType = 0;
  let tunnelPort = 0;
  let tunnelFlags = 0;
  let stats64 = -1;
  let stats32 = -1;
  let at = start;
  while (at + NLA_HDRLEN <= end) {
    const n = payloadLength(words, at, end, SET);
    const p = at + NLA_HDRLEN;
    switch (attrType(words, at)) {
      case DestAttr.ADDR: addrAt = p; addrLength = n; break;
      case DestAttr.PORT: port = readU16be(words, p, n, SET, "PORT"); break;
      case DestAttr.ADDR_FAMILY: familyNumber = readU16(words, p, n, SET, "ADDR_FAMILY"); break;
      case DestAttr.FWD_METHOD: method = readU32(words, p, n, SET, "FWD_METHOD"); break;
      case DestAttr.WEIGHT: weight = readU32(words, p, n, SET, "WEIGHT") | 0; break;
      case DestAttr.U_THRESH: upperThreshold = readU32(words, p, n, SET, "U_THRESH"); break;
      case DestAttr.L_THRESH: lowerThreshold = readU32(words, p, n, SET, "L_THRESH"); break;
      case DestAttr.ACTIVE_CONNS: activeConnections = readU32(words, p, n, SET, "ACTIVE_CONNS"); break;
      case DestAttr.INACT_CONNS: inactiveConnections = readU32(words, p, n, SET, "INACT_CONNS"); break;
      case DestAttr.PERSIST_CONNS: persistentConnections = readU32(words, p, n, SET, "PERSIST_CONNS"); break;
      case DestAttr.TUN_TYPE: tunnelType = readU8(words, p, n, SET, "TUN_TYPE"); break;
      case DestAttr.TUN_PORT: tunnelPort = readU16be(words, p, n, SET, "TUN_PORT"); break;
      case DestAttr.TUN_FLAGS: tunnelFlags = readU16(words, p, n, SET, "TUN_FLAGS"); break;
      case DestAttr.STATS64: stats64 = at; break;
      case DestAttr.STATS: stats32 = at; break;
    }
    at = p + ((n + 3) & ~3);
  }
  const family = familyName(familyNumber) ?? serviceFamily;
  if (addrAt < 0 || port < 0) throw new TypeError("destination: address or port missing");
  const forward = FORWARD_NAME[method & ConnFlag.FWD_MASK] ?? "masq";
  const stats = statsOf(words, stats64, stats32, "destination stats64", "destination stats");
  const entry: DestinationEntry = {
    family,
    address: addressAt(words, addrAt, addrLength, family),
    port,
    forward,
    weight,
    upperThreshold,
    lowerThreshold,
    activeConnections,
    inactiveConnections,
    persistentConnections,
    stats,
  };
  // Tunnel settings are dumped for every destination but mean something only when tunnelling.
  if (forward !== "tunnel") return entry;
  const tunnel: TunnelOptions = { type: TUNNEL_NAME.get(tunnelType) ?? "ipip", port: tunnelPort, checksum: checksumName(tunnelFlags) };
  return { ...entry, tunnel };
}

compileAlone(destinationKeyWords, writeDestinationKeyNest, writeDestination, decodeDestination);
