/** @module The bulk workload: N services × M destinations as operations and as ipvsadm rules. */
import type { IpvsOperation, ServiceKey, Destination, Service } from "../../src/ipvs/types.ts";

export interface Workload {
  adds: IpvsOperation[];
  deletes: IpvsOperation[];
  addRules: string;
  deleteRules: string;
  objects: number;
}

/**
 * `services` × `destinations` over VIPs in `vipNet`.0/24 and backends in 198.51.100.0/24 (from
 * `firstBackend`): a second set of addresses warms a process up without seeding the codec's
 * address caches with the measured ones.
 */
export function workload(services: number, destinations: number, vipNet = "192.0.2", firstBackend = 1): Workload {
  const adds: IpvsOperation[] = [];
  const deletes: IpvsOperation[] = [];
  const addRules: string[] = [];
  const deleteRules: string[] = [];
  for (let s = 0; s < services; s++) {
    // A /24 holds 250 VIPs here; ports make the rest unique.
    const address = `${vipNet}.${s % 250 + 1}`;
    const port = 1000 + Math.floor(s / 250);
    const key: ServiceKey = { family: "inet", protocol: "tcp", address, port };
    const service: Service = { key, scheduler: "wrr", flags: [], timeout: 0, netmask: 32, persistenceEngine: "" };
    adds.push({ op: "add-service", service });
    addRules.push(`-A -t ${address}:${port} -s wrr`);
    for (let d = 0; d < destinations; d++) {
      const destination: Destination = {
        family: "inet",
        address: `198.51.100.${d + firstBackend}`,
        port: 8000 + s,
        forward: "masq",
        weight: 100,
        upperThreshold: 0,
        lowerThreshold: 0,
      };
      adds.push({ op: "add-destination", service: key, destination });
      deletes.push({ op: "delete-destination", service: key, destination });
      addRules.push(`-a -t ${address}:${port} -r 198.51.100.${d + firstBackend}:${8000 + s} -m -w 100`);
      deleteRules.push(`-d -t ${address}:${port} -r 198.51.100.${d + firstBackend}:${8000 + s}`);
    }
    deletes.push({ op: "delete-service", key });
    deleteRules.push(`-D -t ${address}:${port}`);
  }
  return { adds, deletes, addRules: addRules.join("\n") + "\n", deleteRules: deleteRules.join("\n") + "\n", objects: adds.length };
}
