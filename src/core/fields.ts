/**
 * @module Small checks shared by the normalizers: each names the field it rejects. The API checks
 * shapes with TypeBox first; these guard every other way in (config file, store) and do the
 * semantic checks a schema cannot (resolution, families, cross-field rules).
 */
import { ValidationError } from "./errors.ts";
import { canonicalAddress, addressToBytes } from "../ipvs/address.ts";

export function checkInteger(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(field, `field "${field}" must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return value;
}

export function checkString(field: string, value: unknown): string {
  if (typeof value !== "string") throw new ValidationError(field, `field "${field}" must be a string (got ${JSON.stringify(value)})`);
  return value;
}

export function checkBoolean(field: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new ValidationError(field, `field "${field}" must be true or false (got ${JSON.stringify(value)})`);
  return value;
}

/** Resolves a host name to one address; DNS allowed, like GORB (first answer wins). */
export type Resolver = (host: string) => Promise<string>;

/** The default resolver: literal addresses as they are, names through the system resolver. */
export const systemResolver: Resolver = async (host) => {
  const { lookup } = await import("node:dns/promises");
  const answer = await lookup(host);
  return answer.address;
};

/**
 * A host as a canonical address: literals (IPv6 with or without brackets) directly, names through
 * `resolve`. IPv4-mapped IPv6 (::ffff:192.0.2.1) counts as IPv4, as in GORB.
 */
export async function resolveHost(field: string, host: string, resolve: Resolver): Promise<string> {
  const literal = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  let address = canonicalAddress(literal);
  if (!address) {
    try {
      address = canonicalAddress(await resolve(literal));
    } catch (e) {
      throw new ValidationError(field, `unable to resolve field "${field}" (${JSON.stringify(host)}): ${(e as Error).message}`);
    }
    if (!address) throw new ValidationError(field, `unable to resolve field "${field}" (${JSON.stringify(host)}) to an IP address`);
  }
  return unmapIpv4(address);
}

function unmapIpv4(address: string): string {
  if (!address.includes(":")) return address;
  const b = addressToBytes(address);
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return address;
  if (b[10] !== 0xff || b[11] !== 0xff) return address;
  return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
}
