/**
 * @module rtnetlink messages for interface addresses: encodes RTM_GETLINK / RTM_NEWADDR /
 * RTM_DELADDR / RTM_GETADDR requests and decodes RTM_NEWLINK / RTM_NEWADDR replies. Pure.
 *
 *   nlmsghdr (16)   ifaddrmsg (8)                          attributes
 *   +-----------+   +------+--------+-----+-----+-------+  +-----------+------------+
 *   | ...       |   |family|prefix  |flags|scope|index  |  | IFA_LOCAL | IFA_ADDRESS|
 *   +-----------+   +------+--------+-----+-----+-------+  +-----------+------------+
 *                     u8     u8       u8    u8    u32
 */
import type { Family } from "../ipvs/types.ts";
import { bytesToAddress } from "../ipvs/address.ts";
import { Attributes } from "../ipvs/netlink/attributes.ts";
import { NLMSG_HDRLEN, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST } from "../ipvs/netlink/constants.ts";
import type { MessageHeader } from "../ipvs/netlink/messages.ts";
import type { MessageWriter } from "../ipvs/netlink/writer.ts";
import type { InterfaceAddress } from "./interfaces.ts";

// include/uapi/linux/rtnetlink.h, if_addr.h, if_link.h, netlink.h
export const RTM_NEWLINK = 16;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;

export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;

export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;

export const IFLA_IFNAME = 3;
export const IFLA_EXT_MASK = 29;
/** Leave the link's counters out of the reply: we only want its index. */
export const RTEXT_FILTER_SKIP_STATS = 1 << 3;

/** Skip duplicate address detection (see `writeAddressChange`). */
export const IFA_F_NODAD = 0x02;

export const IFADDRMSG_LEN = 8;
export const IFINFOMSG_LEN = 16;

const familyNumber = (family: Family) => (family === "inet" ? AF_INET : AF_INET6);

function ifaddrmsg(family: number, prefix: number, flags: number, index: number): Uint8Array {
  const b = new Uint8Array(IFADDRMSG_LEN);
  const v = new DataView(b.buffer);
  v.setUint8(0, family);
  v.setUint8(1, prefix);
  v.setUint8(2, flags);
  v.setUint8(3, 0); // RT_SCOPE_UNIVERSE: a VIP is a global address
  v.setUint32(4, index, true);
  return b;
}

/** RTM_GETLINK for one interface by name (the reply's ifinfomsg carries its index), with an ack. */
export function writeGetLink(w: MessageWriter, seq: number, ifname: string): number {
  const start = w.beginMessage(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
  w.raw(new Uint8Array(IFINFOMSG_LEN)); // family AF_UNSPEC, index 0: look up by IFLA_IFNAME
  w.string(IFLA_IFNAME, ifname);
  w.u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  w.endMessage(start);
  return start;
}

/** The interface index of an RTM_NEWLINK reply. */
export function readLinkIndex(view: DataView, header: MessageHeader): number | undefined {
  if (header.type !== RTM_NEWLINK || header.length < NLMSG_HDRLEN + IFINFOMSG_LEN) return undefined;
  return view.getInt32(header.offset + NLMSG_HDRLEN + 4, true);
}

export interface AddressChange {
  readonly index: number;
  readonly family: Family;
  readonly prefix: number;
  /** 4 or 16 bytes. */
  readonly bytes: Uint8Array;
}

/**
 * RTM_NEWADDR (create, failing with EEXIST if present) or RTM_DELADDR, with an ack. Both
 * IFA_LOCAL and IFA_ADDRESS, as `ip addr` sends them: IPv4 keys on IFA_LOCAL, IPv6 on
 * IFA_ADDRESS, and with IFA_ADDRESS the kernel deletes only the address with that prefix.
 * IPv6 addresses skip duplicate address detection, as keepalived's VIPs do: a tentative VIP
 * would not answer for a second, and a VIP taken over from a failed peer would fail DAD.
 */
export function writeAddressChange(w: MessageWriter, seq: number, type: typeof RTM_NEWADDR | typeof RTM_DELADDR, change: AddressChange): number {
  const flags = NLM_F_REQUEST | NLM_F_ACK | (type === RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
  const start = w.beginMessage(type, flags, seq);
  const ifaFlags = type === RTM_NEWADDR && change.family === "inet6" ? IFA_F_NODAD : 0;
  w.raw(ifaddrmsg(familyNumber(change.family), change.prefix, ifaFlags, change.index));
  w.bytesAttr(IFA_LOCAL, change.bytes);
  w.bytesAttr(IFA_ADDRESS, change.bytes);
  w.endMessage(start);
  return start;
}

/** RTM_GETADDR dump of every family; with strict checking the kernel keeps to `index`. */
export function writeAddressDump(w: MessageWriter, seq: number, index: number): number {
  const start = w.beginMessage(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, seq);
  w.raw(ifaddrmsg(AF_UNSPEC, 0, 0, index));
  w.endMessage(start);
  return start;
}

/**
 * One RTM_NEWADDR of a dump, or undefined when it belongs to another interface or family.
 * The address is IFA_LOCAL when present (IPv4; IFA_ADDRESS is then the peer of a point-to-point
 * link), else IFA_ADDRESS (IPv6), as iproute2 reads them. `attrs` is reused between messages.
 */
export function readAddress(view: DataView, header: MessageHeader, index: number, attrs: Attributes): InterfaceAddress | undefined {
  if (header.type !== RTM_NEWADDR || header.length < NLMSG_HDRLEN + IFADDRMSG_LEN) return undefined;
  const at = header.offset + NLMSG_HDRLEN;
  const familyNo = view.getUint8(at);
  if (view.getUint32(at + 4, true) !== index) return undefined;
  const family: Family | undefined = familyNo === AF_INET ? "inet" : familyNo === AF_INET6 ? "inet6" : undefined;
  if (!family) return undefined;
  attrs.reset(view, at + IFADDRMSG_LEN, header.offset + header.length, "address");
  const raw = attrs.bytes(IFA_LOCAL) ?? attrs.bytes(IFA_ADDRESS);
  const size = family === "inet" ? 4 : 16;
  if (!raw || raw.length !== size) return undefined;
  return { address: bytesToAddress(raw, family), prefix: view.getUint8(at + 1), family };
}
