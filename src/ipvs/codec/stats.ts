/**
 * @module IPVS_STATS_ATTR_* → Stats. STATS64 (kernel ≥ 4.1) is preferred; STATS has 32-bit
 * counters that wrap.
 */
import { StatsAttr } from "../constants.ts";
import type { Attributes } from "../netlink/attributes.ts";
import { ZERO_STATS, type Stats } from "../types.ts";

export function decodeStats(stats64: Attributes | undefined, stats32: Attributes | undefined): Stats {
  if (stats64) {
    const a = stats64;
    return {
      connections: a.u64(StatsAttr.CONNS, "CONNS") ?? 0,
      packetsIn: a.u64(StatsAttr.INPKTS, "INPKTS") ?? 0,
      packetsOut: a.u64(StatsAttr.OUTPKTS, "OUTPKTS") ?? 0,
      bytesIn: a.u64(StatsAttr.INBYTES, "INBYTES") ?? 0,
      bytesOut: a.u64(StatsAttr.OUTBYTES, "OUTBYTES") ?? 0,
      connectionsPerSecond: a.u64(StatsAttr.CPS, "CPS") ?? 0,
      packetsInPerSecond: a.u64(StatsAttr.INPPS, "INPPS") ?? 0,
      packetsOutPerSecond: a.u64(StatsAttr.OUTPPS, "OUTPPS") ?? 0,
      bytesInPerSecond: a.u64(StatsAttr.INBPS, "INBPS") ?? 0,
      bytesOutPerSecond: a.u64(StatsAttr.OUTBPS, "OUTBPS") ?? 0,
    };
  }
  if (stats32) {
    const a = stats32;
    return {
      connections: a.u32(StatsAttr.CONNS, "CONNS") ?? 0,
      packetsIn: a.u32(StatsAttr.INPKTS, "INPKTS") ?? 0,
      packetsOut: a.u32(StatsAttr.OUTPKTS, "OUTPKTS") ?? 0,
      bytesIn: a.u64(StatsAttr.INBYTES, "INBYTES") ?? 0,
      bytesOut: a.u64(StatsAttr.OUTBYTES, "OUTBYTES") ?? 0,
      connectionsPerSecond: a.u32(StatsAttr.CPS, "CPS") ?? 0,
      packetsInPerSecond: a.u32(StatsAttr.INPPS, "INPPS") ?? 0,
      packetsOutPerSecond: a.u32(StatsAttr.OUTPPS, "OUTPPS") ?? 0,
      bytesInPerSecond: a.u32(StatsAttr.INBPS, "INBPS") ?? 0,
      bytesOutPerSecond: a.u32(StatsAttr.OUTBPS, "OUTBPS") ?? 0,
    };
  }
  return ZERO_STATS;
}
