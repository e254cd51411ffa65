/**
 * @module The kernel's traffic counters as the API shows them (snake_case, like GORB's JSON).
 */
import { Type } from "@sinclair/typebox";
import type { DestinationEntry, Stats } from "../ipvs/types.ts";

const counter = (description: string) => Type.Number({ minimum: 0, description });

export const StatsModel = Type.Object(
  {
    connections: counter("Connections scheduled (total)."),
    packets_in: counter("Packets in (total)."),
    packets_out: counter("Packets out (total)."),
    bytes_in: counter("Bytes in (total)."),
    bytes_out: counter("Bytes out (total)."),
    connections_per_second: counter("Connection rate."),
    packets_in_per_second: counter("Incoming packet rate."),
    packets_out_per_second: counter("Outgoing packet rate."),
    bytes_in_per_second: counter("Incoming byte rate."),
    bytes_out_per_second: counter("Outgoing byte rate."),
  },
  { title: "Stats" },
);

export const BackendStatsModel = Type.Composite(
  [
    Type.Object({
      active_connections: counter("Active connections now."),
      inactive_connections: counter("Inactive connections now."),
      persistent_connections: counter("Persistence templates now."),
    }),
    StatsModel,
  ],
  { title: "BackendStats" },
);

export function statsView(s: Stats) {
  return {
    connections: s.connections,
    packets_in: s.packetsIn,
    packets_out: s.packetsOut,
    bytes_in: s.bytesIn,
    bytes_out: s.bytesOut,
    connections_per_second: s.connectionsPerSecond,
    packets_in_per_second: s.packetsInPerSecond,
    packets_out_per_second: s.packetsOutPerSecond,
    bytes_in_per_second: s.bytesInPerSecond,
    bytes_out_per_second: s.bytesOutPerSecond,
  };
}

export function destinationStatsView(d: DestinationEntry) {
  return {
    active_connections: d.activeConnections,
    inactive_connections: d.inactiveConnections,
    persistent_connections: d.persistentConnections,
    ...statsView(d.stats),
  };
}
