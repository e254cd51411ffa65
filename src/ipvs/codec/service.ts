/**
 * @module Service ↔ IPVS_SVC_ATTR_* attributes. Ports are network order, flags host order
 * ({flags, mask}), the IPv4 netmask network order and the IPv6 netmask a prefix length.
 */
import { AF_INET, AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, SvcAttr, SvcFlag, CmdAttr } from "../constants.ts";
import { addressToBytes, bytesToAddress, ipv4MaskToPrefix, prefixToIpv4Mask } from "../address.ts";
import type { Attributes } from "../netlink/attributes.ts";
import type { MessageWriter } from "../netlink/writer.ts";
import { isFwmarkKey, type Family, type Protocol, type Service, type ServiceEntry, type ServiceFlag, type ServiceKey } from "../types.ts";
import { decodeStats } from "./stats.ts";

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
  for (const [name, bit] of FLAG_BITS) if (service.flags.includes(name)) bits |= bit;
  return bits;
}

export function flagNames(bits: number): OptionFlag[] {
  return FLAG_BITS.filter(([, bit]) => bits & bit).map(([name]) => name);
}

/** Writes the attributes that name a service (all that DEL_SERVICE and GET_DEST need). */
export function writeServiceKey(w: MessageWriter, key: ServiceKey): void {
  w.u16(SvcAttr.AF, FAMILY_NUMBER[key.family]);
  if (isFwmarkKey(key)) {
    w.u32(SvcAttr.FWMARK, key.fwmark);
  } else {
    w.u16(SvcAttr.PROTOCOL, PROTOCOL_NUMBER[key.protocol]);
    w.bytesAttr(SvcAttr.ADDR, addressToBytes(key.address));
    w.u16be(SvcAttr.PORT, key.port);
  }
}

/** CmdAttr.SERVICE { key } */
export function writeServiceKeyNest(w: MessageWriter, key: ServiceKey): void {
  const nest = w.beginNested(CmdAttr.SERVICE);
  writeServiceKey(w, key);
  w.endNested(nest);
}

/** CmdAttr.SERVICE { key, scheduler, flags, timeout, netmask[, pe] }: NEW_SERVICE and SET_SERVICE need all four. */
export function writeService(w: MessageWriter, service: Service): void {
  const nest = w.beginNested(CmdAttr.SERVICE);
  writeServiceKey(w, service.key);
  w.string(SvcAttr.SCHED_NAME, service.scheduler);
  if (service.persistenceEngine) w.string(SvcAttr.PE_NAME, service.persistenceEngine);
  w.u32pair(SvcAttr.FLAGS, flagBits(service), 0xffffffff);
  w.u32(SvcAttr.TIMEOUT, service.timeout);
  if (service.key.family === "inet") w.u32be(SvcAttr.NETMASK, prefixToIpv4Mask(service.netmask));
  else w.u32(SvcAttr.NETMASK, service.netmask);
  w.endNested(nest);
}

/** Reads a service from a dump or GET reply. */
export function decodeService(a: Attributes): ServiceEntry {
  const family = familyName(a.u16(SvcAttr.AF, "AF"));
  if (!family) throw new TypeError(`service: unknown address family ${a.u16(SvcAttr.AF, "AF")}`);
  let key: ServiceKey;
  const fwmark = a.u32(SvcAttr.FWMARK, "FWMARK");
  if (fwmark) {
    key = { family, fwmark };
  } else {
    const protocol = protocolName(a.u16(SvcAttr.PROTOCOL, "PROTOCOL"));
    const addr = a.bytes(SvcAttr.ADDR);
    const port = a.u16be(SvcAttr.PORT, "PORT");
    if (!protocol || !addr || port === undefined) throw new TypeError("service: protocol, address or port missing");
    key = { family, protocol, address: bytesToAddress(addr, family), port };
  }
  const [bits = 0] = a.u32pair(SvcAttr.FLAGS, "FLAGS") ?? [];
  const netmask =
    family === "inet" ? ipv4MaskToPrefix(a.u32be(SvcAttr.NETMASK, "NETMASK") ?? 0xffffffff) : (a.u32(SvcAttr.NETMASK, "NETMASK") ?? 128);
  const stats64 = a.nested(SvcAttr.STATS64, "service stats64");
  const stats = decodeStats(stats64, stats64 ? undefined : a.nested(SvcAttr.STATS, "service stats"));
  if (a.error) throw a.error;
  return {
    key,
    scheduler: a.string(SvcAttr.SCHED_NAME) ?? "",
    flags: flagNames(bits),
    timeout: bits & SvcFlag.PERSISTENT ? (a.u32(SvcAttr.TIMEOUT, "TIMEOUT") ?? 0) : 0,
    netmask,
    persistenceEngine: a.string(SvcAttr.PE_NAME) ?? "",
    stats,
  };
}
