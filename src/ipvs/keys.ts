/**
 * @module Stable string identities for services and destinations, so maps, logs and diffs agree
 * on what "the same object" is.
 */
import { isFwmarkKey, type DestinationKey, type ServiceKey } from "./types.ts";

/** "tcp:192.0.2.1:80", "udp:[2001:db8::1]:53", "fwmark:inet:5". */
export function serviceId(key: ServiceKey): string {
  if (isFwmarkKey(key)) return `fwmark:${key.family}:${key.fwmark}`;
  return `${key.protocol}:${hostPort(key.address, key.port)}`;
}

/** "198.51.100.1:8080", "[2001:db8::2]:80". */
export function destinationId(key: DestinationKey): string {
  return hostPort(key.address, key.port);
}

export function hostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Only the identifying fields of a service key (drops anything else an object carries). */
export function serviceKeyOf(key: ServiceKey): ServiceKey {
  return isFwmarkKey(key)
    ? { family: key.family, fwmark: key.fwmark }
    : { family: key.family, protocol: key.protocol, address: key.address, port: key.port };
}

export function destinationKeyOf(key: DestinationKey): DestinationKey {
  return { family: key.family, address: key.address, port: key.port };
}
