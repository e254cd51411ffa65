/**
 * @module IPVS_STATS_ATTR_* → Stats. STATS64 (kernel ≥ 4.1) is preferred; STATS has 32-bit
 * counters that wrap (its byte counters are u64 in both).
 */
import { compileAlone } from "../jit.ts";
import { StatsAttr } from "../constants.ts";
import { NLA_HDRLEN } from "../netlink/constants.ts";
import { attrType, payloadLength, readU32, readU64 } from "../netlink/tlv.ts";
import { ZERO_STATS, type Stats } from "../types.ts";

/**
 * The statistics of a service or destination, given where its STATS64 and STATS attributes are
 * (their headers' offsets, -1 when absent): the 64-bit ones when there, else the old ones, else
 * zeros. The set names ("destination stats64", ...) are for errors.
 */
export function statsOf(words: Int32Array, at64: number, at32: number, set64: string, set32: string): Stats {
  if (at64 >= 0) return decodeStats(words, at64 + NLA_HDRLEN, at64 + (words[at64 >> 2]! & 0xffff), true, set64);
  if (at32 >= 0) return decodeStats(words, at32 + NLA_HDRLEN, at32 + (words[at32 >> 2]! & 0xffff), false, set32);
  return ZERO_STATS;
}

/** Reads the statistics nested in the payload [start, end); `wide` for STATS64. */
function decodeStats(words: Int32Array, start: number, end: number, wide: boolean, set: string): Stats {
  let connections = 0;
  let packetsIn = 0;
  let packetsOut = 0;
  let bytesIn = 0;
  let bytesOut = 0;
  let connectionsPerSecond = 0;
  let packetsInPerSecond = 0;
  let packetsOutPerSecond = 0;
  let bytesInPerSecond = 0;
  let bytesOutPerSecond = 0;
  // Counters other than bytes are u32 in the old STATS set.
  const read = wide ? readU64 : readU32;
  let a = start;
  while (a + NLA_HDRLEN <= end) {
    const n = payloadLength(words, a, end, set);
    const p = a + NLA_HDRLEN;
    switch (attrType(words, a)) {
      case StatsAttr.CONNS: connections = read(words, p, n, set, "CONNS"); break;
      case StatsAttr.INPKTS: packetsIn = read(words, p, n, set, "INPKTS"); break;
      case StatsAttr.OUTPKTS: packetsOut = read(words, p, n, set, "OUTPKTS"); break;
      case StatsAttr.INBYTES: bytesIn = readU64(words, p, n, set, "INBYTES"); break;
      case StatsAttr.OUTBYTES: bytesOut = readU64(words, p, n, set, "OUTBYTES"); break;
      case StatsAttr.CPS: connectionsPerSecond = read(words, p, n, set, "CPS"); break;
      case StatsAttr.INPPS: packetsInPerSecond = read(words, p, n, set, "INPPS"); break;
      case StatsAttr.OUTPPS: packetsOutPerSecond = read(words, p, n, set, "OUTPPS"); break;
      case StatsAttr.INBPS: bytesInPerSecond = read(words, p, n, set, "INBPS"); break;
      case StatsAttr.OUTBPS: bytesOutPerSecond = read(words, p, n, set, "OUTBPS"); break;
    }
    a = p + ((n + 3) & ~3);
  }
  return {
    connections,
    packetsIn,
    packetsOut,
    bytesIn,
    bytesOut,
    connectionsPerSecond,
    packetsInPerSecond,
    packetsOutPerSecond,
    bytesInPerSecond,
    bytesOutPerSecond,
  };
}

compileAlone(statsOf, decodeStats);
