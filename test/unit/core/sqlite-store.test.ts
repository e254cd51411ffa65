import { afterEach, describe, expect, it } from "bun:test";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { SCHEMA_VERSION, STATE_FILE, SqliteStateStore, StateStoreOpenError } from "../../../src/core/sqlite-store.ts";
import { MemoryStateStore, type StateStore } from "../../../src/core/store.ts";
import type { BackendOptions, ServiceOptions } from "../../../src/core/model.ts";

const service = (port: number): ServiceOptions => ({
  host: "192.0.2.1",
  port,
  protocol: "tcp",
  method: "wrr",
  flags: "",
  persistent: false,
  fwmark: 0,
  family: "inet",
  timeout: 0,
  netmask: 32,
  all_down: "zero",
});
const backend = (weight: number): BackendOptions => ({
  host: "web-1.example",
  port: 8080,
  weight,
  method: "nat",
  pulse: { type: "tcp", interval: "1m", args: null },
  tunnel_type: "",
  tunnel_port: 0,
  tunnel_checksum: "",
  upper_threshold: 0,
  lower_threshold: 0,
});

const dirs: string[] = [];
const open: SqliteStateStore[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "gorb-state-"));
  dirs.push(dir);
  return dir;
}
function openStore(dir: string): SqliteStateStore {
  const store = SqliteStateStore.open(dir);
  open.push(store);
  return store;
}
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The same behaviour from both stores. */
for (const [name, make] of [
  ["MemoryStateStore", () => new MemoryStateStore()],
  ["SqliteStateStore", () => openStore(tempDir())],
] as [string, () => StateStore][]) {
  describe(`${name} (shared contract)`, () => {
    it("applies batches; deleting a service deletes its backends; order is creation order", async () => {
      const store = make();
      await store.write([
        { kind: "put-service", id: "web", options: service(80), address: "192.0.2.1" },
        { kind: "put-backend", serviceId: "web", id: "b", options: backend(1), address: "198.51.100.2" },
        { kind: "put-backend", serviceId: "web", id: "a", options: backend(2), address: "198.51.100.1" },
        { kind: "put-service", id: "dns", options: service(53) },
      ]);
      // An update keeps the row's place.
      await store.write([{ kind: "put-backend", serviceId: "web", id: "b", options: backend(9), address: "198.51.100.2" }]);
      expect(await store.load()).toEqual([
        {
          id: "web",
          options: service(80),
          address: "192.0.2.1",
          backends: [
            { id: "b", options: backend(9), address: "198.51.100.2" },
            { id: "a", options: backend(2), address: "198.51.100.1" },
          ],
        },
        { id: "dns", options: service(53), backends: [] },
      ]);
      await store.write([{ kind: "delete-backend", serviceId: "web", id: "b" }]);
      await store.write([{ kind: "delete-service", id: "web" }]);
      expect(await store.load()).toEqual([{ id: "dns", options: service(53), backends: [] }]);
      // A re-created service does not get its old backends back.
      await store.write([{ kind: "put-service", id: "web", options: service(80) }]);
      expect((await store.load()).find((s) => s.id === "web")!.backends).toEqual([]);
    });

    it("records owned VIPs per interface, apart from services, in the same atomic batches", async () => {
      const store = make();
      const vip = { ifname: "eth1", address: "192.0.2.1", prefix: 32 };
      await store.write([
        { kind: "put-service", id: "web", options: service(80), address: "192.0.2.1" },
        { kind: "put-vip", vip },
        { kind: "put-vip", vip: { ifname: "eth1", address: "2001:db8::1", prefix: 128 } },
        { kind: "put-vip", vip: { ifname: "eth2", address: "192.0.2.1", prefix: 32 } },
      ]);
      expect(await store.loadVips()).toEqual([vip, { ifname: "eth1", address: "2001:db8::1", prefix: 128 }, { ifname: "eth2", address: "192.0.2.1", prefix: 32 }]);
      // Deleting the service leaves the VIP record: it goes only once the address is off the interface.
      await store.write([{ kind: "delete-service", id: "web" }, { kind: "delete-vip", ifname: "eth2", address: "192.0.2.1" }]);
      expect(await store.loadVips()).toEqual([vip, { ifname: "eth1", address: "2001:db8::1", prefix: 128 }]);
      await expect(store.write([{ kind: "delete-vip", ifname: "eth1", address: "192.0.2.1" }, { kind: "put-backend", serviceId: "nope", id: "b", options: backend(1) }])).rejects.toThrow("no service");
      expect(await store.loadVips()).toHaveLength(2);
    });

    it("a batch with an impossible change leaves nothing behind", async () => {
      const store = make();
      await store.write([{ kind: "put-service", id: "web", options: service(80) }]);
      await expect(
        store.write([
          { kind: "put-backend", serviceId: "web", id: "a", options: backend(1) },
          { kind: "put-service", id: "other", options: service(81) },
          { kind: "put-backend", serviceId: "nope", id: "b", options: backend(1) },
        ]),
      ).rejects.toThrow("no service");
      expect(await store.load()).toEqual([{ id: "web", options: service(80), backends: [] }]);
    });
  });
}

describe("SqliteStateStore", () => {
  it("uses WAL with synchronous=FULL and an exclusive lock; records the schema version", async () => {
    const dir = tempDir();
    const store = openStore(dir);
    await store.write([{ kind: "put-service", id: "web", options: service(80) }]);
    expect(store.pragmas()).toEqual({ journalMode: "wal", synchronous: 2, lockingMode: "exclusive" });
    expect(store.path).toBe(join(dir, STATE_FILE));
    expect(existsSync(`${store.path}-wal`)).toBe(true);
    // Exclusive locking keeps the WAL index in memory: no -shm file.
    expect(existsSync(`${store.path}-shm`)).toBe(false);
    await store.close();
    const db = new Database(join(dir, STATE_FILE), { readonly: true });
    expect(db.query<{ user_version: number }, []>("PRAGMA user_version").get()!.user_version).toBe(SCHEMA_VERSION);
    const spec = JSON.parse(db.query<{ spec: string }, []>("SELECT spec FROM services").get()!.spec);
    expect(spec).toEqual({ options: service(80) });
    db.close();
  });

  it("keeps everything across close and reopen", async () => {
    const dir = tempDir();
    const first = openStore(dir);
    await first.write([
      { kind: "put-service", id: "web", options: service(80), address: "192.0.2.1" },
      { kind: "put-backend", serviceId: "web", id: "a", options: backend(0), address: "198.51.100.1" },
    ]);
    await first.close();
    const again = openStore(dir);
    expect(await again.load()).toEqual([{ id: "web", options: service(80), address: "192.0.2.1", backends: [{ id: "a", options: backend(0), address: "198.51.100.1" }] }]);
  });

  it("keeps every acknowledged write when the process is killed with SIGKILL", async () => {
    const dir = tempDir();
    const script = `
      import { SqliteStateStore } from ${JSON.stringify(join(import.meta.dir, "../../../src/core/sqlite-store.ts"))};
      const store = SqliteStateStore.open(${JSON.stringify(dir)});
      const options = ${JSON.stringify(service(80))};
      for (let i = 0; i < 50; i++) await store.write([{ kind: "put-service", id: "s" + i, options }]);
      await store.write([{ kind: "delete-service", id: "s0" }]);
      console.log("written");
      process.kill(process.pid, "SIGKILL");
    `;
    const child = Bun.spawnSync([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
    expect(child.stdout.toString()).toContain("written");
    expect(child.signalCode).toBe("SIGKILL");
    // The WAL was never checkpointed into the main file: the data lives in the WAL alone.
    expect(statSync(join(dir, `${STATE_FILE}-wal`)).size).toBeGreaterThan(0);
    const reopened = openStore(dir);
    const ids = (await reopened.load()).map((s) => s.id);
    expect(ids).toHaveLength(49);
    expect(ids[0]).toBe("s1");
    expect(ids).toContain("s49");
  });

  it("a write that fails midway (after its first change) leaves nothing, and the store still works", async () => {
    const store = openStore(tempDir());
    await store.write([{ kind: "put-service", id: "web", options: service(80) }]);
    store.failNextWrite = new Error("disk full");
    await expect(
      store.write([
        { kind: "delete-service", id: "web" },
        { kind: "put-service", id: "new", options: service(81) },
      ]),
    ).rejects.toThrow("disk full");
    expect((await store.load()).map((s) => s.id)).toEqual(["web"]);
    await store.write([{ kind: "put-service", id: "new", options: service(81) }]);
    expect((await store.load()).map((s) => s.id)).toEqual(["web", "new"]);
  });

  it("refuses a second opener of the same directory (another gorb) while the first has it", async () => {
    const dir = tempDir();
    const first = openStore(dir);
    await first.write([{ kind: "put-service", id: "web", options: service(80) }]);
    expect(() => SqliteStateStore.open(dir)).toThrow(/in use by another process/);
    await first.close();
    expect(await openStore(dir).load()).toHaveLength(1);
  });

  it("upgrades a version-1 file in place: its services stay, VIPs can be recorded", async () => {
    const dir = tempDir();
    const db = new Database(join(dir, STATE_FILE), { create: true });
    db.run("CREATE TABLE services (id TEXT PRIMARY KEY NOT NULL, spec TEXT NOT NULL)");
    db.run("CREATE TABLE backends (service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE, id TEXT NOT NULL, spec TEXT NOT NULL, PRIMARY KEY (service_id, id))");
    db.run("INSERT INTO services (id, spec) VALUES (?, ?)", ["web", JSON.stringify({ options: service(80), address: "192.0.2.1" })]);
    db.run("PRAGMA user_version = 1");
    db.close();
    const store = openStore(dir);
    expect(await store.load()).toEqual([{ id: "web", options: service(80), address: "192.0.2.1", backends: [] }]);
    expect(await store.loadVips()).toEqual([]);
    await store.write([{ kind: "put-vip", vip: { ifname: "eth1", address: "192.0.2.1", prefix: 32 } }]);
    await store.close();
    const again = openStore(dir);
    expect(await again.loadVips()).toEqual([{ ifname: "eth1", address: "192.0.2.1", prefix: 32 }]);
    await again.close();
    const check = new Database(join(dir, STATE_FILE), { readonly: true });
    expect(check.query<{ user_version: number }, []>("PRAGMA user_version").get()!.user_version).toBe(2);
    check.close();
  });

  it("refuses a file written by a newer schema, and a directory it cannot create", async () => {
    const dir = tempDir();
    const db = new Database(join(dir, STATE_FILE), { create: true });
    db.run(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => SqliteStateStore.open(dir)).toThrow(/newer than this gorb/);
    expect(() => SqliteStateStore.open("/proc/gorb-cannot-be-here")).toThrow(StateStoreOpenError);
  });
});
