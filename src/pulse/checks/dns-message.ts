/**
 * @module The two DNS messages the `dns` check needs (RFC 1035 §4.1): a one-question query and
 * the header of its response. Pure.
 *
 *   header (12 bytes): id | flags (QR, opcode, AA, TC, RD, RA, Z, RCODE) | QDCOUNT | ANCOUNT | NSCOUNT | ARCOUNT
 *   question:          QNAME (length-prefixed labels, 0-terminated) | QTYPE | QCLASS (1 = IN)
 */

const RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"] as const;

/** Encodes a recursive query for `name` (e.g. "example.com", "." for the root) of type `qtype`. */
export function encodeQuery(id: number, name: string, qtype: number): Uint8Array {
  const labels = name.replace(/\.$/, "").split(".").filter((l) => l !== "");
  const nameLength = labels.reduce((n, l) => n + 1 + l.length, 0) + 1;
  const out = new Uint8Array(12 + nameLength + 4);
  const view = new DataView(out.buffer);
  view.setUint16(0, id);
  view.setUint16(2, 0x0100); // RD: let a recursor answer too
  view.setUint16(4, 1); // QDCOUNT
  let at = 12;
  for (const label of labels) {
    out[at++] = label.length;
    for (let i = 0; i < label.length; i++) out[at++] = label.charCodeAt(i);
  }
  out[at++] = 0;
  view.setUint16(at, qtype);
  view.setUint16(at + 2, 1); // class IN
  return out;
}

/**
 * Judges a datagram received for query `id`: "ignore" when it is not our response, null when
 * it answers (NOERROR with at least one answer record), else the reason it does not.
 */
export function judgeResponse(message: Uint8Array, id: number): "ignore" | string | null {
  if (message.byteLength < 12) return "ignore";
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const flags = view.getUint16(2);
  if (view.getUint16(0) !== id || (flags & 0x8000) === 0) return "ignore";
  const rcode = flags & 0x000f;
  if (rcode !== 0) return `DNS ${RCODES[rcode] ?? `rcode ${rcode}`}`;
  return view.getUint16(6) > 0 ? null : "DNS answer section empty";
}
