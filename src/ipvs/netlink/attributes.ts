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

/** Attribute types above this are skipped (IPVS uses up to 15, extended acks fewer). */
const MAX_TYPE = 31;

export class Attributes {
  // Fixed tables, reused when the instance is: a dump of 11,000 objects then allocates nothing
  // per attribute. `stamp` says which entries belong to the current parse.
  private readonly offsets = new Int32Array(MAX_TYPE + 1);
  private readonly lengths = new Int32Array(MAX_TYPE + 1);
  private readonly stamp = new Uint32Array(MAX_TYPE + 1);
  private generation = 0;
  private readonly children: (Attributes | undefined)[] = [];
  private view: DataView;
  private set: string;
  /** The first problem found, if any. */
  error: AttributeError | undefined;

  constructor(view: DataView, start: number, end: number, set: string) {
    this.view = view;
    this.set = set;
    this.parse(start, end);
  }

  /** Parses another attribute set into this instance (the previous one's values are gone). */
  reset(view: DataView, start: number, end: number, set: string): this {
    this.view = view;
    this.set = set;
    this.error = undefined;
    this.parse(start, end);
    return this;
  }

  private parse(start: number, end: number): void {
    const view = this.view;
    const gen = (this.generation = (this.generation + 1) >>> 0 || 1);
    let at = start;
    while (at + NLA_HDRLEN <= end) {
      const len = view.getUint16(at, true);
      const type = view.getUint16(at + 2, true) & NLA_TYPE_MASK;
      if (len < NLA_HDRLEN || at + len > end) {
        this.fail(`${this.set}: attribute ${type} has length ${len}, beyond the ${end - at} bytes left`);
        return;
      }
      if (type <= MAX_TYPE) {
        this.offsets[type] = at + NLA_HDRLEN;
        this.lengths[type] = len - NLA_HDRLEN;
        this.stamp[type] = gen;
      }
      at += align4(len);
    }
  }

  private fail(message: string): void {
    this.error ??= new AttributeError(message);
  }

  has(type: number): boolean {
    return type <= MAX_TYPE && this.stamp[type] === this.generation;
  }

  private payload(type: number, size: number, name: string): number | undefined {
    if (!this.has(type)) return undefined;
    const at = this.offsets[type]!;
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
    if (!this.has(type)) return undefined;
    return new Uint8Array(this.view.buffer, this.view.byteOffset + this.offsets[type]!, this.lengths[type]);
  }
  /** A string, up to its first NUL. */
  string(type: number): string | undefined {
    const raw = this.bytes(type);
    if (raw === undefined) return undefined;
    const nul = raw.indexOf(0);
    return decoder.decode(nul >= 0 ? raw.subarray(0, nul) : raw);
  }
  /** The nested set of `type`; valid until this instance parses again (it reuses one child per type). */
  nested(type: number, set: string): Attributes | undefined {
    if (!this.has(type)) return undefined;
    const at = this.offsets[type]!;
    const end = at + this.lengths[type]!;
    const cached = this.children[type];
    const inner = cached ? cached.reset(this.view, at, end, set) : (this.children[type] = new Attributes(this.view, at, end, set));
    if (inner.error) this.fail(inner.error.message);
    return inner;
  }
}
