import { describe, expect, it } from "bun:test";
import { MemoryIpvs } from "../../../src/ipvs/memory-ipvs.ts";
import type { Destination, IpvsOperation, Service, ServiceKey } from "../../../src/ipvs/types.ts";
import { ZERO_STATS } from "../../../src/ipvs/types.ts";
import { invert, plan, rollbackPlan } from "../../../src/core/plan.ts";
import type { TableEntry } from "../../../src/core/project.ts";

const K1: ServiceKey = { family: "inet", protocol: "tcp", address: "192.0.2.1", port: 80 };
const K2: ServiceKey = { family: "inet", protocol: "udp", address: "192.0.2.1", port: 53 };
const FW: ServiceKey = { family: "inet6", fwmark: 9 };

const svc = (key: ServiceKey, extra: Partial<Service> = {}): Service => ({ key, scheduler: "wrr", flags: [], timeout: 0, netmask: key.family === "inet" ? 32 : 128, persistenceEngine: "", ...extra });
const dst = (address: string, extra: Partial<Destination> = {}): Destination => ({
  family: address.includes(":") ? "inet6" : "inet", address, port: 80, forward: "masq", weight: 100, upperThreshold: 0, lowerThreshold: 0, ...extra,
});
const entry = (service: Service, ...destinations: Destination[]): TableEntry => ({ service, destinations });
const ops = (list: IpvsOperation[]) => list.map((o) => o.op + ("destination" in o ? ` ${o.destination.address}` : ""));

describe("plan", () => {
  it.each<[string, TableEntry[], TableEntry[], string[]]>([
    ["nothing to nothing", [], [], []],
    ["a new service with its destinations", [entry(svc(K1), dst("10.0.0.1"), dst("10.0.0.2"))], [], ["add-service", "add-destination 10.0.0.1", "add-destination 10.0.0.2"]],
    ["the same table", [entry(svc(K1), dst("10.0.0.1"))], [entry(svc(K1), dst("10.0.0.1"))], []],
    ["flags in another order", [entry(svc(K1, { flags: ["sched1", "sched2"] }))], [entry(svc(K1, { flags: ["sched2", "sched1"] }))], []],
    ["a scheduler change", [entry(svc(K1, { scheduler: "rr" }))], [entry(svc(K1))], ["update-service"]],
    ["a persistence change", [entry(svc(K1, { timeout: 300 }))], [entry(svc(K1))], ["update-service"]],
    ["a weight change", [entry(svc(K1), dst("10.0.0.1", { weight: 5 }))], [entry(svc(K1), dst("10.0.0.1"))], ["update-destination 10.0.0.1"]],
    ["a threshold change", [entry(svc(K1), dst("10.0.0.1", { upperThreshold: 5 }))], [entry(svc(K1), dst("10.0.0.1"))], ["update-destination 10.0.0.1"]],
    ["a forwarding change", [entry(svc(K1), dst("10.0.0.1", { forward: "route" }))], [entry(svc(K1), dst("10.0.0.1"))], ["update-destination 10.0.0.1"]],
    [
      "a tunnel type change",
      [entry(svc(K1), dst("10.0.0.1", { forward: "tunnel", tunnel: { type: "gre", port: 0, checksum: "none" } }))],
      [entry(svc(K1), dst("10.0.0.1", { forward: "tunnel" }))],
      ["update-destination 10.0.0.1"],
    ],
    [
      "an ipip tunnel with and without explicit settings",
      [entry(svc(K1), dst("10.0.0.1", { forward: "tunnel", tunnel: { type: "ipip", port: 0, checksum: "none" } }))],
      [entry(svc(K1), dst("10.0.0.1", { forward: "tunnel" }))],
      [],
    ],
    [
      "deletions, then updates, then additions",
      [entry(svc(K1), dst("10.0.0.2", { weight: 1 }), dst("10.0.0.3"))],
      [entry(svc(K1), dst("10.0.0.1"), dst("10.0.0.2"))],
      ["delete-destination 10.0.0.1", "update-destination 10.0.0.2", "add-destination 10.0.0.3"],
    ],
    ["an unwanted service first", [entry(svc(K2))], [entry(svc(K1), dst("10.0.0.1"))], ["delete-service", "add-service"]],
    ["fwmark and IPv6", [entry(svc(FW), dst("2001:db8::1"))], [], ["add-service", "add-destination 2001:db8::1"]],
  ])("%s", (_name, wanted, actual, expected) => {
    expect(ops(plan(wanted, actual))).toEqual(expected);
  });

  it("leaves foreign services alone when asked", () => {
    expect(plan([], [entry(svc(K1))], { deleteUnwanted: false })).toEqual([]);
  });

  it("plans against a kernel dump and emits clean operations", () => {
    const dump = { service: { ...svc(K1), stats: ZERO_STATS }, destinations: [{ ...dst("10.0.0.1"), activeConnections: 3, inactiveConnections: 0, persistentConnections: 0, stats: ZERO_STATS }] };
    const result = plan([entry(svc(K1, { scheduler: "rr" }), dst("10.0.0.1", { weight: 7 }))], [dump]);
    expect(result).toEqual([
      { op: "update-service", service: svc(K1, { scheduler: "rr" }) },
      { op: "update-destination", service: K1, destination: dst("10.0.0.1", { weight: 7 }) },
    ]);
  });

  it("turns any table into any other on MemoryIpvs", async () => {
    const tables: TableEntry[][] = [
      [],
      [entry(svc(K1), dst("10.0.0.1"), dst("10.0.0.2", { weight: 3 }))],
      [entry(svc(K1, { scheduler: "rr" }), dst("10.0.0.2", { forward: "route" }), dst("10.0.0.3")), entry(svc(K2), dst("10.0.0.9"))],
      [entry(svc(FW, { timeout: 60, flags: ["sched3"] }), dst("2001:db8::1"))],
    ];
    for (const from of tables) {
      for (const to of tables) {
        const ipvs = new MemoryIpvs();
        await ipvs.apply(plan(from, []));
        const results = await ipvs.apply(plan(to, await ipvs.table()));
        expect(results.every((r) => r.ok)).toBe(true);
        expect(plan(to, await ipvs.table())).toEqual([]);
        expect(await ipvs.services()).toHaveLength(to.length);
      }
    }
  });
});

describe("invert", () => {
  const actual = [entry(svc(K1, { scheduler: "lc" }), dst("10.0.0.1", { weight: 9 }), dst("10.0.0.2"))];
  it.each<[string, IpvsOperation, string[]]>([
    ["add-service", { op: "add-service", service: svc(K2) }, ["delete-service"]],
    ["update-service", { op: "update-service", service: svc(K1) }, ["update-service"]],
    ["delete-service", { op: "delete-service", key: K1 }, ["add-service", "add-destination 10.0.0.1", "add-destination 10.0.0.2"]],
    ["add-destination", { op: "add-destination", service: K1, destination: dst("10.0.0.3") }, ["delete-destination 10.0.0.3"]],
    ["update-destination", { op: "update-destination", service: K1, destination: dst("10.0.0.1") }, ["update-destination 10.0.0.1"]],
    ["delete-destination", { op: "delete-destination", service: K1, destination: { family: "inet", address: "10.0.0.2", port: 80 } }, ["add-destination 10.0.0.2"]],
    ["flush (not invertible)", { op: "flush" }, []],
  ])("undoes %s", (_name, op, expected) => {
    expect(ops(invert(op, actual))).toEqual(expected);
  });

  it("restores the old values", () => {
    const [undoService] = invert({ op: "update-service", service: svc(K1) }, actual);
    expect(undoService).toEqual({ op: "update-service", service: svc(K1, { scheduler: "lc" }) });
    const [undoDest] = invert({ op: "update-destination", service: K1, destination: dst("10.0.0.1") }, actual);
    expect(undoDest).toMatchObject({ destination: { weight: 9 } });
  });

  it("rolls back the successful operations, last first", () => {
    const batch: IpvsOperation[] = [
      { op: "add-destination", service: K1, destination: dst("10.0.0.3") },
      { op: "update-destination", service: K1, destination: dst("10.0.0.1") },
      { op: "add-destination", service: K1, destination: dst("10.0.0.4") },
    ];
    const results = [{ ok: true as const }, { ok: true as const }, { ok: false as const, error: new Error("x") as never }];
    expect(ops(rollbackPlan(batch, results, actual))).toEqual(["update-destination 10.0.0.1", "delete-destination 10.0.0.3"]);
  });
});
