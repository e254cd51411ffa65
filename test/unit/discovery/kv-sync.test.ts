/** GORB's -store against a fake Consul KV on loopback, through the real `consul` client and core on MemoryIpvs. */
import { afterEach, describe, expect, it } from "bun:test";
import { KvSync } from "../../../src/discovery/kv-sync.ts";
import { consulKvStore } from "../../../src/discovery/kv-store.ts";
import { parseStoreUrls } from "../../../src/discovery/store-url.ts";
import { fakeConsulKv, type FakeKv } from "../../support/fake-consul-kv.ts";
import { rig, save } from "../core/helpers.ts";

const fakes: FakeKv[] = [];
const syncs: KvSync[] = [];
afterEach(async () => {
  for (const s of syncs.splice(0)) await s.stop();
  for (const f of fakes.splice(0)) f.stop();
});

function kv(): FakeKv {
  const fake = fakeConsulKv();
  fakes.push(fake);
  return fake;
}

function instance(fake: FakeKv, lines: string[] = []) {
  const r = rig({ checks: false });
  const sync = new KvSync({
    store: consulKvStore(parseStoreUrls(`consul://${fake.url}/lb`)),
    servicePath: "services",
    backendPath: "backends",
    intervalMs: 0,
    defaultHost: "192.0.2.1",
    log: (l) => lines.push(l),
  });
  syncs.push(sync);
  return { ...r, sync, lines };
}

const json = (fake: FakeKv, key: string) => JSON.parse(fake.data.get(key)!) as Record<string, unknown>;

describe("-store consul:// (KV sync)", () => {
  it("seeds an empty store with gorb's state at the first sync instead of deleting it", async () => {
    const fake = kv();
    const a = instance(fake);
    await a.core.createService("web", { host: "192.0.2.10", port: 80 });
    await a.core.createBackend("web", "b1", { host: "198.51.100.1", port: 8080, weight: 7 });
    const before = await save(a.ipvs);
    expect(await a.sync.start(a.core)).toEqual({ outcome: "seeded", changes: 2 });
    expect([...fake.data.keys()].sort()).toEqual(["lb/backends/b1", "lb/services/web"]);
    expect(json(fake, "lb/services/web")).toMatchObject({ host: "192.0.2.10", port: 80, protocol: "tcp", method: "wrr" });
    expect(json(fake, "lb/backends/b1")).toMatchObject({ host: "198.51.100.1", port: 8080, weight: 7, vsid: "web" });
    expect(await save(a.ipvs)).toEqual(before);
  });

  it("applies entries GORB wrote (not normalized) once, and a second sync changes nothing", async () => {
    const fake = kv();
    fake.data.set("lb/services/web", JSON.stringify({ host: "192.0.2.10", port: 80, protocol: "TCP", persistent: false }));
    fake.data.set("lb/services/dns", JSON.stringify({ host: "", port: 53, protocol: "udp", method: "rr" }));
    fake.data.set("lb/backends/w1", JSON.stringify({ host: "198.51.100.1", port: 8080, weight: 50, pulse: { type: "none", interval: "1m" }, vsid: "web" }));
    fake.data.set("lb/backends/n1", JSON.stringify({ host: "198.51.100.2", port: 53, vsid: "dns" }));
    const a = instance(fake);
    expect(await a.sync.start(a.core)).toEqual({ outcome: "applied", changes: 4 });
    expect(a.core.listServices()).toEqual(["dns", "web"]);
    expect((await a.core.getBackend("web", "w1")).backend.destination.weight).toBe(50);
    expect(a.core.snapshot.services.get("dns")!.options.host).toBe("");
    expect((await a.ipvs.table()).map((e) => e.service.key)).toContainEqual({ family: "inet", protocol: "udp", address: "192.0.2.1", port: 53 });
    const ops = a.ops.length;
    expect(await a.sync.sync()).toEqual({ outcome: "applied", changes: 0 });
    expect(a.ops.length).toBe(ops);
  });

  it("writes every committed change through: create, PATCH, delete (a service's backends go with it)", async () => {
    const fake = kv();
    fake.data.set("lb/services/other", JSON.stringify({ host: "192.0.2.99", port: 80 }));
    const a = instance(fake);
    await a.sync.start(a.core);
    await a.core.createService("web", { host: "192.0.2.10", port: 80 });
    await a.core.createBackend("web", "b1", { host: "198.51.100.1", port: 8080 });
    await a.core.setWeight("web", "b1", 3);
    await a.sync.settled();
    expect(json(fake, "lb/backends/b1")).toMatchObject({ weight: 3, vsid: "web" });
    expect(json(fake, "lb/services/web")).toMatchObject({ host: "192.0.2.10", port: 80 });
    await a.core.deleteService("web");
    await a.sync.settled();
    expect([...fake.data.keys()]).toEqual(["lb/services/other"]);
  });

  it("two instances share one configuration: what one does, the other's next sync applies (create, change, delete)", async () => {
    const fake = kv();
    const a = instance(fake);
    const b = instance(fake);
    await a.sync.start(a.core);
    await b.sync.start(b.core);
    await a.core.createService("web", { host: "192.0.2.10", port: 80, method: "rr" });
    const writes = () => fake.requests.filter((r) => r.startsWith("PUT") || r.startsWith("DELETE"));
    await a.core.createBackend("web", "b1", { host: "198.51.100.1", port: 8080, weight: 10 });
    await a.sync.settled();
    const before = writes().length;
    expect((await b.sync.sync()).changes).toBe(2);
    await b.sync.settled();
    expect(writes().length).toBe(before); // b does not echo what it took from the store
    expect(await save(b.ipvs)).toEqual(await save(a.ipvs));
    await a.core.setWeight("web", "b1", 20);
    await a.core.updateService("web", { method: "wrr" });
    await a.sync.settled();
    expect((await b.sync.sync()).changes).toBe(2);
    expect(await save(b.ipvs)).toEqual(await save(a.ipvs));
    await a.core.deleteService("web");
    await a.sync.settled();
    await b.sync.sync();
    expect(b.core.listServices()).toEqual([]);
    expect(await save(b.ipvs)).toEqual([]);
  });

  it("an entry that does not validate stops the round: nothing changes, the key and the field are named", async () => {
    const fake = kv();
    fake.data.set("lb/services/web", JSON.stringify({ host: "192.0.2.10", port: 80 }));
    const a = instance(fake);
    await a.sync.start(a.core);
    fake.data.delete("lb/services/web"); // would delete web...
    fake.data.set("lb/services/bad", JSON.stringify({ host: "192.0.2.11", port: 99999 })); // ...but this is broken
    const report = await a.sync.sync();
    expect(report.outcome).toBe("failed");
    expect(report.error).toContain("services.bad.port");
    expect(a.core.listServices()).toEqual(["web"]);
    expect(a.lines.at(-1)).toMatch(/^gorb: WARNING: store sync with consul:\/\/127\.0\.0\.1:\d+\/lb failed, nothing changed: /);
    fake.data.set("lb/services/bad", "{not json");
    expect((await a.sync.sync()).error).toMatch(/lb\/services\/bad is not JSON/);
  });

  it("a store that cannot be reached changes nothing; writes made meanwhile reach it at the next sync", async () => {
    const fake = kv();
    fake.data.set("lb/services/web", JSON.stringify({ host: "192.0.2.10", port: 80 }));
    const a = instance(fake);
    await a.sync.start(a.core);
    await a.sync.settled();
    fake.fail(1);
    await a.core.createBackend("web", "b1", { host: "198.51.100.1", port: 8080 });
    await a.sync.settled();
    expect(fake.data.has("lb/backends/b1")).toBe(false);
    expect(a.lines.some((l) => l.includes("could not write backends/b1"))).toBe(true);
    expect((await a.sync.sync()).outcome).toBe("applied");
    expect(json(fake, "lb/backends/b1")).toMatchObject({ vsid: "web" });
    expect([...a.core.snapshot.services.get("web")!.backends.keys()]).toEqual(["b1"]);
  });
});
