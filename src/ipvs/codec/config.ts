/**
 * @module Timeouts (GET/SET_CONFIG), IPVS info (GET_INFO) and sync daemons (NEW/DEL/GET_DAEMON)
 * ↔ attributes.
 */
import { CmdAttr, DaemonAttr, DaemonState, InfoAttr } from "../constants.ts";
import { addressToBytes, bytesToAddress, familyOf } from "../address.ts";
import type { Attributes } from "../netlink/attributes.ts";
import type { MessageWriter } from "../netlink/writer.ts";
import type { DaemonRole, IpvsInfo, SyncDaemon, Timeouts } from "../types.ts";

export function writeTimeouts(w: MessageWriter, t: Timeouts): void {
  w.u32(CmdAttr.TIMEOUT_TCP, t.tcp);
  w.u32(CmdAttr.TIMEOUT_TCP_FIN, t.tcpFin);
  w.u32(CmdAttr.TIMEOUT_UDP, t.udp);
}

export function decodeTimeouts(a: Attributes): Timeouts {
  const t = {
    tcp: a.u32(CmdAttr.TIMEOUT_TCP, "TIMEOUT_TCP") ?? 0,
    tcpFin: a.u32(CmdAttr.TIMEOUT_TCP_FIN, "TIMEOUT_TCP_FIN") ?? 0,
    udp: a.u32(CmdAttr.TIMEOUT_UDP, "TIMEOUT_UDP") ?? 0,
  };
  if (a.error) throw a.error;
  return t;
}

export function decodeInfo(a: Attributes): IpvsInfo {
  const v = a.u32(InfoAttr.VERSION, "VERSION") ?? 0;
  const info = {
    version: `${(v >> 16) & 0xff}.${(v >> 8) & 0xff}.${v & 0xff}`,
    connectionTableSize: a.u32(InfoAttr.CONN_TAB_SIZE, "CONN_TAB_SIZE") ?? 0,
  };
  if (a.error) throw a.error;
  return info;
}

const STATE_OF_ROLE: Record<DaemonRole, number> = { master: DaemonState.MASTER, backup: DaemonState.BACKUP };

export function writeDaemon(w: MessageWriter, d: SyncDaemon): void {
  const nest = w.beginNested(CmdAttr.DAEMON);
  w.u32(DaemonAttr.STATE, STATE_OF_ROLE[d.role]);
  w.string(DaemonAttr.MCAST_IFN, d.interface);
  w.u32(DaemonAttr.SYNC_ID, d.syncId);
  if (d.maxLength !== undefined) w.u16(DaemonAttr.SYNC_MAXLEN, d.maxLength);
  if (d.group !== undefined) {
    if (familyOf(d.group) === "inet6") w.bytesAttr(DaemonAttr.MCAST_GROUP6, addressToBytes(d.group));
    else w.bytesAttr(DaemonAttr.MCAST_GROUP, addressToBytes(d.group));
  }
  if (d.port !== undefined) w.u16(DaemonAttr.MCAST_PORT, d.port);
  if (d.ttl !== undefined) w.u8(DaemonAttr.MCAST_TTL, d.ttl);
  w.endNested(nest);
}

export function writeDaemonStop(w: MessageWriter, role: DaemonRole): void {
  const nest = w.beginNested(CmdAttr.DAEMON);
  w.u32(DaemonAttr.STATE, STATE_OF_ROLE[role]);
  w.endNested(nest);
}

export function decodeDaemon(a: Attributes): SyncDaemon {
  const state = a.u32(DaemonAttr.STATE, "STATE");
  const group4 = a.bytes(DaemonAttr.MCAST_GROUP);
  const group6 = a.bytes(DaemonAttr.MCAST_GROUP6);
  const daemon: SyncDaemon = {
    role: state === DaemonState.BACKUP ? "backup" : "master",
    interface: a.string(DaemonAttr.MCAST_IFN) ?? "",
    syncId: a.u32(DaemonAttr.SYNC_ID, "SYNC_ID") ?? 0,
    ...(a.has(DaemonAttr.SYNC_MAXLEN) ? { maxLength: a.u16(DaemonAttr.SYNC_MAXLEN, "SYNC_MAXLEN")! } : {}),
    ...(group6 && group6.length === 16
      ? { group: bytesToAddress(group6, "inet6") }
      : group4 && group4.length === 4
        ? { group: bytesToAddress(group4, "inet") }
        : {}),
    ...(a.has(DaemonAttr.MCAST_PORT) ? { port: a.u16(DaemonAttr.MCAST_PORT, "MCAST_PORT")! } : {}),
    ...(a.has(DaemonAttr.MCAST_TTL) ? { ttl: a.u8(DaemonAttr.MCAST_TTL, "MCAST_TTL")! } : {}),
  };
  if (a.error) throw a.error;
  return daemon;
}
