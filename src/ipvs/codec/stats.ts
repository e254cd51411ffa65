/**
 * @module IPVS_STATS_ATTR_* → Stats. STATS64 (kernel ≥ 4.1) is preferred; STATS has 32-bit
 * counters that wrap.
 */
import { StatsAttr } from "../constants.ts";
import type { Attributes } from "../netlink/attributes.ts";
import { ZERO_STATS, type Stats } from "../types.ts";

export function decodeStats(stats64: Attributes | undefined, stats32: Attributes | undefined): Stats {
  if (stats64) {
    const n = (type: number, name: string) => stats64.u64(type, name) ?? 0;
    return {
      connections: n(StatsAttr.CONNS, "CONNS"),
      packetsIn: n(StatsAttr.INPKTS, "INPKTS"),
      packetsOut: n(StatsAttr.OUTPKTS, "OUTPKTS"),
      bytesIn: n(StatsAttr.INBYTES, "INBYTES"),
      bytesOut: n(StatsAttr.OUTBYTES, "OUTBYTES"),
      connectionsPerSecond: n(StatsAttr.CPS, "CPS"),
      packetsInPerSecond: n(StatsAttr.INPPS, "INPPS"),
      packetsOutPerSecond: n(StatsAttr.OUTPPS, "OUTPPS"),
      bytesInPerSecond: n(StatsAttr.INBPS, "INBPS"),
      bytesOutPerSecond: n(StatsAttr.OUTBPS, "OUTBPS"),
    };
  }
  if (stats32) {
    const n = (type: number, name: string) => stats32.u32(type, name) ?? 0;
    return {
      connections: n(StatsAttr.CONNS, "CONNS"),
      packetsIn: n(StatsAttr.INPKTS, "INPKTS"),
      packetsOut: n(StatsAttr.OUTPKTS, "OUTPKTS"),
      bytesIn: stats32.u64(StatsAttr.INBYTES, "INBYTES") ?? 0,
      bytesOut: stats32.u64(StatsAttr.OUTBYTES, "OUTBYTES") ?? 0,
      connectionsPerSecond: n(StatsAttr.CPS, "CPS"),
      packetsInPerSecond: n(StatsAttr.INPPS, "INPPS"),
      packetsOutPerSecond: n(StatsAttr.OUTPPS, "OUTPPS"),
      bytesInPerSecond: n(StatsAttr.INBPS, "INBPS"),
      bytesOutPerSecond: n(StatsAttr.OUTBPS, "OUTBPS"),
    };
  }
  return ZERO_STATS;
}
