/**
 * @module Service ↔ IPVS_SVC_ATTR_* attributes. Ports are network order, flags host order
 * ({flags, mask}), the IPv4 netmask network order and the IPv6 netmask a prefix length.
 */
import { compileAlone } from "../jit.ts";
import { AF_INET, AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, SvcAttr, SvcFlag, CmdAttr } from "../constants.ts";
import { addressAt, ipv4MaskToPrefix, prefixToIpv4Mask, writeAddressWords } from "../address.ts";
import { NLA_HDRLEN } from "../netlink/constants.ts";
import { attrType, payloadLength, readString, readU16, readU16be, readU32, tooShort } from "../netlink/tlv.ts";
import { be16Word, nestWord, be32Word, nlaWord, type MessageWriter } from "../netlink/writer.ts";
import { type Family, type Protocol, type Service, type ServiceEntry, type ServiceFlag, type ServiceKey } from "../types.ts";
import { statsOf } from "./stats.ts";

export const FAMILY_NUMBER: Record<Family, number> = { inet: AF_INET, inet6: AF_INET6 };
export const PROTOCOL_NUMBER: Record<Protocol, number> = { tcp: IPPROTO_TCP, udp: IPPROTO_UDP, sctp: IPPROTO_SCTP };

export function familyName(n: number | undefined): Family | undefined {
  return n === AF_INET ? "inet" : n === AF_INET6 ? "inet6" : undefined;
}
function protocolName(n: number | undefined): Protocol | undefined {
  return n === IPPROTO_TCP ? "tcp" : n === IPPROTO_UDP ? "udp" : n === IPPROTO_SCTP ? "sctp" : undefined;
}

type OptionFlag = Exclude<ServiceFlag, "persistent">;
const FLAG_BITS: ReadonlyArray<[OptionFlag, number]> = [
  ["one-packet", SvcFlag.ONEPACKET],
  ["sched1", SvcFlag.SCHED1],
  ["sched2", SvcFlag.SCHED2],
  ["sched3", SvcFlag.SCHED3],
];

export function flagBits(service: Service): number {
  let bits = service.timeout > 0 ? SvcFlag.PERSISTENT : 0;
  const flags = service.flags;
  // Indexed loops, no destructuring: this runs per service in bulk loads, mostly still cold.
  for (let f = 0; f < flags.length; f++) {
    for (let k = 0; k < FLAG_BITS.length; k++) if (FLAG_BITS[k]![0] === flags[f]) bits |= FLAG_BITS[k]![1];
  }
  return bits;
}

export function flagNames(bits: number): OptionFlag[] {
  const names: OptionFlag[] = [];
  for (let k = 0; k < FLAG_BITS.length; k++) if (bits & FLAG_BITS[k]![1]) names.push(FLAG_BITS[k]![0]);
  return names;
}

// Attribute headers as words (see MessageWriter.words): a service key is a handful of stores.
/** A nest's header is this plus its length in bytes. */
const NEST_SERVICE = nestWord(CmdAttr.SERVICE, 0);
const W_AF = nlaWord(SvcAttr.AF, 2);
const W_PROTOCOL = nlaWord(SvcAttr.PROTOCOL, 2);
const W_ADDR4 = nlaWord(SvcAttr.ADDR, 4);
const W_ADDR6 = nlaWord(SvcAttr.ADDR, 16);
const W_PORT = nlaWord(SvcAttr.PORT, 2);
const W_FWMARK = nlaWord(SvcAttr.FWMARK, 4);
const W_FLAGS = nlaWord(SvcAttr.FLAGS, 8);
const W_TIMEOUT = nlaWord(SvcAttr.TIMEOUT, 4);
const W_NETMASK = nlaWord(SvcAttr.NETMASK, 4);
/** The most a service key takes: AF, PROTOCOL, a 16-byte ADDR and PORT. */
const KEY_BYTES = 48;

/** Writes a key's attributes at word `i` (room already reserved); returns the word after them. */
function serviceKeyWords(words: Int32Array, i: number, key: ServiceKey): number {
  words[i++] = W_AF;
  words[i++] = FAMILY_NUMBER[key.family];
  if ("fwmark" in key) {
    words[i++] = W_FWMARK;
    words[i++] = key.fwmark;
    return i;
  }
  words[i++] = W_PROTOCOL;
  words[i++] = PROTOCOL_NUMBER[key.protocol];
  const n = writeAddressWords(key.address, words, i + 1);
  words[i] = n === 1 ? W_ADDR4 : W_ADDR6;
  i += 1 + n;
  words[i++] = W_PORT;
  words[i++] = be16Word(key.port);
  return i;
}

/** Writes the attributes that name a service (all that DEL_SERVICE and GET_DEST need). */
export function writeServiceKey(w: MessageWriter, key: ServiceKey): void {
  const i = w.reserve(KEY_BYTES);
  w.length = serviceKeyWords(w.words, i, key) << 2;
}

/** CmdAttr.SERVICE { key } */
export function writeServiceKeyNest(w: MessageWriter, key: ServiceKey): void {
  const nest = w.reserve(4 + KEY_BYTES);
  const words = w.words;
  const end = serviceKeyWords(words, nest + 1, key);
  words[nest] = NEST_SERVICE + ((end - nest) << 2);
  w.length = end << 2;
}

/** CmdAttr.SERVICE { key, scheduler, flags, timeout, netmask[, pe] }: NEW_SERVICE and SET_SERVICE need all four. */
export function writeService(w: MessageWriter, service: Service): void {
  const nest = w.reserve(4 + KEY_BYTES);
  w.length = serviceKeyWords(w.words, nest + 1, service.key) << 2;
  w.string(SvcAttr.SCHED_NAME, service.scheduler);
  if (service.persistenceEngine) w.string(SvcAttr.PE_NAME, service.persistenceEngine);
  let i = w.reserve(28);
  const words = w.words;
  words[i++] = W_FLAGS;
  words[i++] = flagBits(service);
  words[i++] = -1; // the mask: every flag bit is set by this request
  words[i++] = W_TIMEOUT;
  words[i++] = service.timeout;
  words[i++] = W_NETMASK;
  words[i++] = service.key.family === "inet" ? be32Word(prefixToIpv4Mask(service.netmask)) : service.netmask;
  words[nest] = NEST_SERVICE + ((i - nest) << 2);
  w.length = i << 2;
}

const SET = "service";

/** Reads a service from a dump or GET reply: the payload [start, end) of its CmdAttr.SERVICE. */
export function decodeService(words: Int32Array, start: number, end: number): ServiceEntry {
  let familyNumber: number | undefined;
  let protocolNumber: number | undefined;
  let addrAt = -1;
  let addrLength = 0;
  let port = -1;
  let fwmark = 0;
  let scheduler = "";
  let persistenceEngine = "";
  let bits = 0;
  let timeout = 0;
  let netmaskWord: number | undefined;
  let stats64 = -1;
  let stats32 = -1;
  let at = start;
  while (at + NLA_HDRLEN <= end) {
    const n = payloadLength(words, at, end, SET);
    const p = at + NLA_HDRLEN;
    switch (attrType(words, at)) {
      case SvcAttr.AF: familyNumber = readU16(words, p, n, SET, "AF"); break;
      case SvcAttr.PROTOCOL: protocolNumber = readU16(words, p, n, SET, "PROTOCOL"); break;
      case SvcAttr.ADDR: addrAt = p; addrLength = n; break;
      case SvcAttr.PORT: port = readU16be(words, p, n, SET, "PORT"); break;
      case SvcAttr.FWMARK: fwmark = readU32(words, p, n, SET, "FWMARK"); break;
      case SvcAttr.SCHED_NAME: scheduler = readString(words, p, n); break;
      case SvcAttr.PE_NAME: persistenceEngine = readString(words, p, n); break;
      case SvcAttr.FLAGS:
        // struct ip_vs_flags { flags, mask }: only the flags matter here.
        if (n < 8) throw tooShort(SET, "FLAGS", n, 8);
        bits = readU32(words, p, n, SET, "FLAGS");
        break;
      case SvcAttr.TIMEOUT: timeout = readU32(words, p, n, SET, "TIMEOUT"); break;
      // The IPv4 mask is network order, the IPv6 one a prefix length: read it as stored, swap later.
      case SvcAttr.NETMASK: netmaskWord = readU32(words, p, n, SET, "NETMASK"); break;
      case SvcAttr.STATS64: stats64 = at; break;
      case SvcAttr.STATS: stats32 = at; break;
    }
    at = p + ((n + 3) & ~3);
  }
  const family = familyName(familyNumber);
  if (!family) throw new TypeError(`service: unknown address family ${familyNumber}`);
  let key: ServiceKey;
  if (fwmark) {
    key = { family, fwmark };
  } else {
    const protocol = protocolName(protocolNumber);
    if (!protocol || addrAt < 0 || port < 0) throw new TypeError("service: protocol, address or port missing");
    key = { family, protocol, address: addressAt(words, addrAt, addrLength, family), port };
  }
  const netmask =
    family === "inet" ? ipv4MaskToPrefix(netmaskWord === undefined ? 0xffffffff : be32Word(netmaskWord)) : (netmaskWord ?? 128);
  const stats = statsOf(words, stats64, stats32, "service stats64", "service stats");
  return {
    key,
    scheduler,
    flags: flagNames(bits),
    timeout: bits & SvcFlag.PERSISTENT ? timeout : 0,
    netmask,
    persistenceEngine,
    stats,
  };
}

compileAlone(flagBits, flagNames, serviceKeyWords, writeServiceKey, writeServiceKeyNest, writeService, decodeService);
