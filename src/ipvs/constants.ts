/**
 * @module The numbers of include/uapi/linux/ip_vs.h, in the header's order and spelling,
 * so a reviewer can diff them against the kernel.
 */

export const IPVS_GENL_NAME = "IPVS";
export const IPVS_GENL_VERSION = 0x1;

/** Virtual service flags (IP_VS_SVC_F_*). */
export const SvcFlag = {
  PERSISTENT: 0x0001,
  HASHED: 0x0002,
  ONEPACKET: 0x0004,
  SCHED1: 0x0008,
  SCHED2: 0x0010,
  SCHED3: 0x0020,
} as const;
export const SVC_F_SCHED_SH_FALLBACK = SvcFlag.SCHED1;
export const SVC_F_SCHED_SH_PORT = SvcFlag.SCHED2;

/** Connection flags: the forwarding method lives in the low 3 bits (IP_VS_CONN_F_FWD_MASK). */
export const ConnFlag = {
  FWD_MASK: 0x0007,
  MASQ: 0x0000,
  LOCALNODE: 0x0001,
  TUNNEL: 0x0002,
  DROUTE: 0x0003,
  BYPASS: 0x0004,
} as const;

export const SCHEDNAME_MAXLEN = 16;
export const PENAME_MAXLEN = 16;
export const IFNAME_MAXLEN = 16;

/** Tunnel types (IP_VS_CONN_F_TUNNEL_TYPE_*). */
export const TunnelType = { IPIP: 0, GUE: 1, GRE: 2 } as const;

/** Tunnel encapsulation flags (IP_VS_TUNNEL_ENCAP_FLAG_*). */
export const TunnelEncapFlag = { NOCSUM: 0, CSUM: 1 << 0, REMCSUM: 1 << 1 } as const;

/** Sync daemon states (IP_VS_STATE_*). */
export const DaemonState = { NONE: 0x0, MASTER: 0x1, BACKUP: 0x2 } as const;

/** Generic-netlink commands (IPVS_CMD_*). */
export const Cmd = {
  UNSPEC: 0,
  NEW_SERVICE: 1,
  SET_SERVICE: 2,
  DEL_SERVICE: 3,
  GET_SERVICE: 4,
  NEW_DEST: 5,
  SET_DEST: 6,
  DEL_DEST: 7,
  GET_DEST: 8,
  NEW_DAEMON: 9,
  DEL_DAEMON: 10,
  GET_DAEMON: 11,
  SET_CONFIG: 12,
  GET_CONFIG: 13,
  SET_INFO: 14,
  GET_INFO: 15,
  ZERO: 16,
  FLUSH: 17,
} as const;
export type CmdNumber = (typeof Cmd)[keyof typeof Cmd];

/** First-level attributes (IPVS_CMD_ATTR_*). */
export const CmdAttr = {
  UNSPEC: 0,
  SERVICE: 1,
  DEST: 2,
  DAEMON: 3,
  TIMEOUT_TCP: 4,
  TIMEOUT_TCP_FIN: 5,
  TIMEOUT_UDP: 6,
} as const;

/** Service attributes, nested in CmdAttr.SERVICE (IPVS_SVC_ATTR_*). */
export const SvcAttr = {
  UNSPEC: 0,
  AF: 1,
  PROTOCOL: 2,
  ADDR: 3,
  PORT: 4,
  FWMARK: 5,
  SCHED_NAME: 6,
  FLAGS: 7,
  TIMEOUT: 8,
  NETMASK: 9,
  STATS: 10,
  PE_NAME: 11,
  STATS64: 12,
} as const;

/** Destination attributes, nested in CmdAttr.DEST (IPVS_DEST_ATTR_*). */
export const DestAttr = {
  UNSPEC: 0,
  ADDR: 1,
  PORT: 2,
  FWD_METHOD: 3,
  WEIGHT: 4,
  U_THRESH: 5,
  L_THRESH: 6,
  ACTIVE_CONNS: 7,
  INACT_CONNS: 8,
  PERSIST_CONNS: 9,
  STATS: 10,
  ADDR_FAMILY: 11,
  STATS64: 12,
  TUN_TYPE: 13,
  TUN_PORT: 14,
  TUN_FLAGS: 15,
} as const;

/** Sync daemon attributes, nested in CmdAttr.DAEMON (IPVS_DAEMON_ATTR_*). */
export const DaemonAttr = {
  UNSPEC: 0,
  STATE: 1,
  MCAST_IFN: 2,
  SYNC_ID: 3,
  SYNC_MAXLEN: 4,
  MCAST_GROUP: 5,
  MCAST_GROUP6: 6,
  MCAST_PORT: 7,
  MCAST_TTL: 8,
} as const;

/** Statistics attributes, nested in *_ATTR_STATS and *_ATTR_STATS64 (IPVS_STATS_ATTR_*). */
export const StatsAttr = {
  UNSPEC: 0,
  CONNS: 1,
  INPKTS: 2,
  OUTPKTS: 3,
  INBYTES: 4,
  OUTBYTES: 5,
  CPS: 6,
  INPPS: 7,
  OUTPPS: 8,
  INBPS: 9,
  OUTBPS: 10,
  PAD: 11,
} as const;

/** GET_INFO reply attributes (IPVS_INFO_ATTR_*). */
export const InfoAttr = { UNSPEC: 0, VERSION: 1, CONN_TAB_SIZE: 2 } as const;

/** Address families and IP protocols as the kernel numbers them. */
export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_SCTP = 132;
