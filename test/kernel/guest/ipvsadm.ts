/**
 * @module Reads `ipvsadm -Sn` (and `-Ln --thresholds`) into gorb's types, so kernel-tier tests
 * can compare what the driver wrote with what the reference tool sees.
 */
import { canonicalAddress, ipv4MaskToPrefix } from "../../../src/ipvs/address.ts";
import { serviceId } from "../../../src/ipvs/keys.ts";
import type { Destination, ForwardMethod, Protocol, Service, ServiceKey } from "../../../src/ipvs/types.ts";

export interface IpvsadmTable {
  services: Map<string, { service: Service; destinations: Destination[] }>;
}

export function ipvsadm(args: string[]): string {
  const p = Bun.spawnSync(["ipvsadm", ...args]);
  if (p.exitCode !== 0) throw new Error(`ipvsadm ${args.join(" ")}: ${p.stderr.toString()}`);
  return p.stdout.toString();
}

function splitHostPort(text: string): { address: string; port: number } {
  const m = /^\[(.+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) throw new Error(`bad host:port ${text}`);
  return { address: canonicalAddress(m[1]!)!, port: Number(m[2]) };
}

const PROTOCOL_FLAG: Record<string, Protocol> = { "-t": "tcp", "-u": "udp", "--sctp-service": "sctp" };
const FORWARD_FLAG: Record<string, ForwardMethod> = { "-m": "masq", "-g": "route", "-i": "tunnel" };

function parseKey(words: string[]): ServiceKey {
  const six = words.includes("-6");
  for (const [flag, protocol] of Object.entries(PROTOCOL_FLAG)) {
    const i = words.indexOf(flag);
    if (i >= 0) {
      const { address, port } = splitHostPort(words[i + 1]!);
      return { family: address.includes(":") ? "inet6" : "inet", protocol, address, port };
    }
  }
  const f = words.indexOf("-f");
  if (f >= 0) return { family: six ? "inet6" : "inet", fwmark: Number(words[f + 1]) };
  throw new Error(`no service in: ${words.join(" ")}`);
}

function option(words: string[], flag: string): string | undefined {
  const i = words.indexOf(flag);
  return i >= 0 ? words[i + 1] : undefined;
}

/** Parses `ipvsadm -Sn`. Thresholds are not in -S; `thresholds()` reads them. */
export function parseSave(text: string): IpvsadmTable {
  const services: IpvsadmTable["services"] = new Map();
  for (const line of text.split("\n")) {
    const words = line.trim().split(/\s+/);
    if (words[0] === "-A") {
      const key = parseKey(words);
      const timeout = words.includes("-p") ? Number(option(words, "-p")) : 0;
      const mask = option(words, "-M");
      const netmask =
        mask === undefined ? (key.family === "inet" ? 32 : 128) : mask.includes(".") ? ipv4MaskToPrefix(Buffer.from(mask.split(".").map(Number)).readUInt32BE(0)) : Number(mask);
      const flags: Service["flags"][number][] = [];
      for (const f of (option(words, "-b") ?? "").split(",").filter(Boolean)) {
        // ipvsadm names the scheduler flags after the scheduler (sh-port, mh-fallback...).
        flags.push(/-fallback$|^flag-1$/.test(f) ? "sched1" : /-port$|^flag-2$/.test(f) ? "sched2" : "sched3");
      }
      if (words.includes("-o")) flags.push("one-packet");
      services.set(serviceId(key), {
        service: { key, scheduler: option(words, "-s") ?? "", flags, timeout, netmask, persistenceEngine: option(words, "--pe") ?? "" },
        destinations: [],
      });
    } else if (words[0] === "-a") {
      const key = parseKey(words);
      const { address, port } = splitHostPort(option(words, "-r")!);
      const forward = Object.entries(FORWARD_FLAG).find(([flag]) => words.includes(flag))?.[1] ?? "masq";
      const tunType = option(words, "--tun-type") as "ipip" | "gue" | "gre" | undefined;
      const checksum = words.includes("--tun-remcsum") ? "remcsum" : words.includes("--tun-csum") ? "csum" : "none";
      const d: Destination = {
        family: address.includes(":") ? "inet6" : "inet",
        address,
        port,
        forward,
        weight: Number(option(words, "-w") ?? 1),
        upperThreshold: 0,
        lowerThreshold: 0,
        ...(forward === "tunnel" ? { tunnel: { type: tunType ?? "ipip", port: Number(option(words, "--tun-port") ?? 0), checksum } } : {}),
      };
      services.get(serviceId(key))?.destinations.push(d);
    }
  }
  return { services };
}

/** Upper and lower thresholds by "service-id destination-id", from `ipvsadm -Ln --thresholds`. */
export function thresholds(): Map<string, { upper: number; lower: number }> {
  const out = new Map<string, { upper: number; lower: number }>();
  let current = "";
  for (const line of ipvsadm(["-Ln", "--thresholds"]).split("\n")) {
    const svc = /^(TCP|UDP|SCTP)\s+(\S+)/.exec(line);
    if (svc) {
      const { address, port } = splitHostPort(svc[2]!);
      current = serviceId({ family: address.includes(":") ? "inet6" : "inet", protocol: svc[1]!.toLowerCase() as Protocol, address, port });
      continue;
    }
    const fwm = /^FWM\s+(\d+)(\s+IPv6)?/.exec(line);
    if (fwm) {
      current = serviceId({ family: fwm[2] ? "inet6" : "inet", fwmark: Number(fwm[1]) });
      continue;
    }
    const dest = /^\s+->\s+(\S+)\s+(\d+)\s+(\d+)/.exec(line);
    if (dest && current) {
      const { address, port } = splitHostPort(dest[1]!);
      out.set(`${current} ${address.includes(":") ? `[${address}]` : address}:${port}`, { upper: Number(dest[2]), lower: Number(dest[3]) });
    }
  }
  return out;
}
