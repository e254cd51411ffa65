import { describe, expect, it } from "bun:test";
import type { OperationResult } from "../../../src/ipvs/ipvs.ts";
import { serviceId } from "../../../src/ipvs/keys.ts";
import { MemoryIpvs } from "../../../src/ipvs/memory-ipvs.ts";
import type { IpvsOperation } from "../../../src/ipvs/types.ts";
import { MemoryStateStore } from "../../../src/core/store.ts";
import { setup } from "./helpers.ts";

function keyOf(op: IpvsOperation): string {
  switch (op.op) {
    case "add-service":
    case "update-service":
      return serviceId(op.service.key);
    case "delete-service":
      return serviceId(op.key);
    case "add-destination":
    case "update-destination":
    case "delete-destination":
      return serviceId(op.service);
    default:
      return "-";
  }
}

/** A MemoryIpvs whose batches take a while, recording how many were in flight per service. */
class SlowIpvs extends MemoryIpvs {
  inFlight = new Map<string, number>();
  maxPerService = 0;
  maxOverall = 0;
  gate: Promise<void> | undefined;
  private overall = 0;

  override async apply(ops: readonly IpvsOperation[]): Promise<OperationResult[]> {
    const keys = new Set(ops.map(keyOf));
    this.overall++;
    this.maxOverall = Math.max(this.maxOverall, this.overall);
    for (const k of keys) {
      const n = (this.inFlight.get(k) ?? 0) + 1;
      this.inFlight.set(k, n);
      this.maxPerService = Math.max(this.maxPerService, n);
    }
    await (this.gate ?? Bun.sleep(2));
    for (const k of keys) this.inFlight.set(k, this.inFlight.get(k)! - 1);
    this.overall--;
    return super.apply(ops);
  }
}

describe("concurrency", () => {
  it("100 concurrent writers on one service lose nothing", async () => {
    const store = new MemoryStateStore();
    const { req, ipvs } = setup({ store });
    await req("PUT", "/service/web", { port: 80 });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => req("PUT", `/service/web/b${i}`, { host: `10.0.${i >> 8}.${(i & 255) + 1}`, port: 80, weight: i + 1 })),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    const dests = await ipvs.destinations((await ipvs.services())[0]!.key);
    expect(dests).toHaveLength(100);
    expect((await req("GET", "/service/web")).json.backends).toHaveLength(100);
    expect((await store.load())[0]!.backends).toHaveLength(100);

    const patches = await Promise.all(Array.from({ length: 100 }, (_, i) => req("PATCH", `/service/web/b${i}`, { weight: 1000 + i })));
    expect(patches.every((r) => r.status === 200)).toBe(true);
    const weights = (await ipvs.destinations((await ipvs.services())[0]!.key)).map((d) => d.weight).sort((a, b) => a - b);
    expect(weights).toEqual(Array.from({ length: 100 }, (_, i) => 1000 + i));
  });

  it("serializes changes to one service and runs different services concurrently", async () => {
    const ipvs = new SlowIpvs();
    const { req } = setup({ ipvs });
    await Promise.all(Array.from({ length: 8 }, (_, s) => req("PUT", `/service/s${s}`, { port: 1000 + s })));
    ipvs.maxOverall = 0;
    ipvs.maxPerService = 0;
    const writes = [];
    for (let s = 0; s < 8; s++) for (let b = 0; b < 10; b++) writes.push(req("PUT", `/service/s${s}/b${b}`, { host: `10.0.${s}.${b + 1}`, port: 80 }));
    const results = await Promise.all(writes);
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(ipvs.maxPerService).toBe(1);
    expect(ipvs.maxOverall).toBeGreaterThan(1);
  });

  it("lets exactly one of many concurrent creates of one ID win", async () => {
    const { req } = setup({ ipvs: new SlowIpvs() });
    const results = await Promise.all(Array.from({ length: 20 }, () => req("PUT", "/service/web", { port: 80 })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(19);
  });

  it("lets exactly one of many concurrent creates of one kernel service win", async () => {
    const { req, ipvs } = setup({ ipvs: new SlowIpvs() });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => req("PUT", `/service/s${i}`, { port: 80 })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(19);
    expect(await ipvs.services()).toHaveLength(1);
  });

  it("answers reads from the last committed state while a write is in flight", async () => {
    const ipvs = new SlowIpvs();
    const { req } = setup({ ipvs });
    await req("PUT", "/service/web", { port: 80 });
    let open!: () => void;
    ipvs.gate = new Promise((resolve) => (open = resolve));
    const write = req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80 });
    await Bun.sleep(5);
    const read = await req("GET", "/service/web");
    expect(read.status).toBe(200);
    expect(read.json.backends).toBeNull();
    open();
    expect((await write).status).toBe(200);
    expect((await req("GET", "/service/web")).json.backends).toEqual(["a"]);
  });
});
