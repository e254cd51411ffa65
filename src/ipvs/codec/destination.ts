/**
 * @module Destination ↔ IPVS_DEST_ATTR_* attributes. Ports (and the GUE tunnel port) are
 * network order; the forwarding method is the low 3 bits of the connection flags.
 */
import { CmdAttr, ConnFlag, DestAttr, TunnelEncapFlag, TunnelType } from "../constants.ts";
import { addressToBytes, bytesToAddress } from "../address.ts";
import type { Attributes } from "../netlink/attributes.ts";
import type { MessageWriter } from "../netlink/writer.ts";
import type { Destination, DestinationEntry, DestinationKey, Family, ForwardMethod, TunnelKind, TunnelOptions } from "../types.ts";
import { FAMILY_NUMBER, familyName } from "./service.ts";
import { decodeStats } from "./stats.ts";

const FORWARD_NUMBER: Record<ForwardMethod, number> = {
  masq: ConnFlag.MASQ,
  local: ConnFlag.LOCALNODE,
  tunnel: ConnFlag.TUNNEL,
  route: ConnFlag.DROUTE,
  bypass: ConnFlag.BYPASS,
};
const FORWARD_NAME = new Map<number, ForwardMethod>(
  (Object.entries(FORWARD_NUMBER) as [ForwardMethod, number][]).map(([k, v]) => [v, k]),
);
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

function writeDestinationKey(w: MessageWriter, key: DestinationKey): void {
  w.bytesAttr(DestAttr.ADDR, addressToBytes(key.address));
  w.u16be(DestAttr.PORT, key.port);
  w.u16(DestAttr.ADDR_FAMILY, FAMILY_NUMBER[key.family]);
}

/** CmdAttr.DEST { address, port, family }: what DEL_DEST needs. */
export function writeDestinationKeyNest(w: MessageWriter, key: DestinationKey): void {
  const nest = w.beginNested(CmdAttr.DEST);
  writeDestinationKey(w, key);
  w.endNested(nest);
}

/** CmdAttr.DEST with everything NEW_DEST and SET_DEST require (method, weight, both thresholds). */
export function writeDestination(w: MessageWriter, d: Destination): void {
  const nest = w.beginNested(CmdAttr.DEST);
  writeDestinationKey(w, d);
  w.u32(DestAttr.FWD_METHOD, FORWARD_NUMBER[d.forward]);
  // The kernel reads the weight as a signed int: a negative one is sent as such and refused (ERANGE).
  w.u32(DestAttr.WEIGHT, d.weight | 0);
  w.u32(DestAttr.U_THRESH, d.upperThreshold);
  w.u32(DestAttr.L_THRESH, d.lowerThreshold);
  if (d.forward === "tunnel" && d.tunnel) {
    w.u8(DestAttr.TUN_TYPE, TUNNEL_NUMBER[d.tunnel.type]);
    w.u16be(DestAttr.TUN_PORT, d.tunnel.port);
    w.u16(DestAttr.TUN_FLAGS, CHECKSUM_BITS[d.tunnel.checksum]);
  }
  w.endNested(nest);
}

/** Reads a destination from a GET_DEST dump; `serviceFamily` is its family on kernels without ADDR_FAMILY. */
export function decodeDestination(a: Attributes, serviceFamily: Family): DestinationEntry {
  const family = familyName(a.u16(DestAttr.ADDR_FAMILY, "ADDR_FAMILY")) ?? serviceFamily;
  const addr = a.bytes(DestAttr.ADDR);
  const port = a.u16be(DestAttr.PORT, "PORT");
  if (!addr || port === undefined) throw new TypeError("destination: address or port missing");
  const forward = FORWARD_NAME.get((a.u32(DestAttr.FWD_METHOD, "FWD_METHOD") ?? 0) & ConnFlag.FWD_MASK) ?? "masq";
  const stats64 = a.nested(DestAttr.STATS64, "destination stats64");
  const stats = decodeStats(stats64, stats64 ? undefined : a.nested(DestAttr.STATS, "destination stats"));
  const base = {
    family,
    address: bytesToAddress(addr, family),
    port,
    forward,
    weight: (a.u32(DestAttr.WEIGHT, "WEIGHT") ?? 0) | 0,
    upperThreshold: a.u32(DestAttr.U_THRESH, "U_THRESH") ?? 0,
    lowerThreshold: a.u32(DestAttr.L_THRESH, "L_THRESH") ?? 0,
    activeConnections: a.u32(DestAttr.ACTIVE_CONNS, "ACTIVE_CONNS") ?? 0,
    inactiveConnections: a.u32(DestAttr.INACT_CONNS, "INACT_CONNS") ?? 0,
    persistentConnections: a.u32(DestAttr.PERSIST_CONNS, "PERSIST_CONNS") ?? 0,
    stats,
  };
  // Tunnel settings are dumped for every destination but mean something only when tunnelling.
  const tunnel: TunnelOptions | undefined =
    forward === "tunnel"
      ? {
          type: TUNNEL_NAME.get(a.u8(DestAttr.TUN_TYPE, "TUN_TYPE") ?? 0) ?? "ipip",
          port: a.u16be(DestAttr.TUN_PORT, "TUN_PORT") ?? 0,
          checksum: checksumName(a.u16(DestAttr.TUN_FLAGS, "TUN_FLAGS") ?? 0),
        }
      : undefined;
  if (a.error) throw a.error;
  return tunnel ? { ...base, tunnel } : base;
}
