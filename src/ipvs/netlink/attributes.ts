/**
 * @module Reads netlink attributes. `Attributes` indexes one level of TLVs by type; accessors
 * read typed values, and the first malformed value is remembered (mdlayher/netlink's style) so
 * decoders stay flat and check `error` once at the end.
 */
import { NLA_HDRLEN, NLA_TYPE_MASK, align4 } from "./constants.ts";

export class AttributeError extends Error {
  override readonly name = "AttributeError";
}

const decoder = new TextDecoder();

export class Attributes {
  /** offset and length of the payload of each attribute type seen (last one wins). */
  private readonly offsets: number[] = [];
  private readonly lengths: number[] = [];
  /** The first problem found, if any. */
  error: AttributeError | undefined;

  constructor(
    private readonly view: DataView,
    start: number,
    end: number,
    /** Names the attribute set in errors ("service", "destination"...). */
    private readonly set: string,
  ) {
    let at = start;
    while (at + NLA_HDRLEN <= end) {
      const len = view.getUint16(at, true);
      const type = view.getUint16(at + 2, true) & NLA_TYPE_MASK;
      if (len < NLA_HDRLEN || at + len > end) {
        this.fail(`${set}: attribute ${type} has length ${len}, beyond the ${end - at} bytes left`);
        return;
      }
      this.offsets[type] = at + NLA_HDRLEN;
      this.lengths[type] = len - NLA_HDRLEN;
      at += align4(len);
    }
    if (at < end && end - at < NLA_HDRLEN && at !== end) this.fail(`${set}: ${end - at} trailing bytes`);
  }

  private fail(message: string): void {
    this.error ??= new AttributeError(message);
  }

  has(type: number): boolean {
    return this.offsets[type] !== undefined;
  }

  private payload(type: number, size: number, name: string): number | undefined {
    const at = this.offsets[type];
    if (at === undefined) return undefined;
    if (this.lengths[type]! < size) {
      this.fail(`${this.set}: ${name} is ${this.lengths[type]} bytes, expected ${size}`);
      return undefined;
    }
    return at;
  }

  u8(type: number, name: string): number | undefined {
    const at = this.payload(type, 1, name);
    return at === undefined ? undefined : this.view.getUint8(at);
  }
  u16(type: number, name: string): number | undefined {
    const at = this.payload(type, 2, name);
    return at === undefined ? undefined : this.view.getUint16(at, true);
  }
  u16be(type: number, name: string): number | undefined {
    const at = this.payload(type, 2, name);
    return at === undefined ? undefined : this.view.getUint16(at, false);
  }
  u32(type: number, name: string): number | undefined {
    const at = this.payload(type, 4, name);
    return at === undefined ? undefined : this.view.getUint32(at, true);
  }
  u32be(type: number, name: string): number | undefined {
    const at = this.payload(type, 4, name);
    return at === undefined ? undefined : this.view.getUint32(at, false);
  }
  /** A u64 as a number (exact up to 2^53, plenty for counters). */
  u64(type: number, name: string): number | undefined {
    const at = this.payload(type, 8, name);
    if (at === undefined) return undefined;
    return this.view.getUint32(at, true) + this.view.getUint32(at + 4, true) * 0x1_0000_0000;
  }
  /** Two host-order u32s (struct ip_vs_flags). */
  u32pair(type: number, name: string): [number, number] | undefined {
    const at = this.payload(type, 8, name);
    return at === undefined ? undefined : [this.view.getUint32(at, true), this.view.getUint32(at + 4, true)];
  }
  bytes(type: number): Uint8Array | undefined {
    const at = this.offsets[type];
    if (at === undefined) return undefined;
    return new Uint8Array(this.view.buffer, this.view.byteOffset + at, this.lengths[type]);
  }
  /** A string, up to its first NUL. */
  string(type: number): string | undefined {
    const raw = this.bytes(type);
    if (raw === undefined) return undefined;
    const nul = raw.indexOf(0);
    return decoder.decode(nul >= 0 ? raw.subarray(0, nul) : raw);
  }
  nested(type: number, set: string): Attributes | undefined {
    const at = this.offsets[type];
    if (at === undefined) return undefined;
    const inner = new Attributes(this.view, at, at + this.lengths[type]!, set);
    if (inner.error) this.fail(inner.error.message);
    return inner;
  }
}
