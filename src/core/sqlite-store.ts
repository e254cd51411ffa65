/**
 * @module The embedded state store: desired state in one SQLite file (bun:sqlite), written before
 * a command touches the kernel and answered only once it is on disk.
 *
 * Durability: WAL journal with `synchronous = FULL`, so each commit fsyncs the WAL before it
 * returns. A change that was answered survives `kill -9` (NORMAL would already give that: the WAL
 * write is in the page cache) *and* a power loss (NORMAL may drop the last commits there, and after
 * a power loss the kernel's IPVS table is gone too, so this file is the only record of what the
 * operator was told was done). The cost is one fsync per API write — writes are rare, reads never
 * touch the file. WAL never corrupts on a crash or power loss: an incomplete commit is ignored on
 * open. `locking_mode = EXCLUSIVE` keeps a second gorb off the same file (the lock dies with the
 * process, even on SIGKILL).
 *
 * Schema (version in `PRAGMA user_version`): `services(id, spec)` and `backends(service_id, id,
 * spec)`, each spec the JSON of the normalized options plus the resolved address; a backend goes
 * with its service (`ON DELETE CASCADE`). Version 2 adds `vips(ifname, address, prefix)`: the
 * addresses gorb added to the `-vipi` interface (a version-1 file is upgraded in place). Rows keep their rowid on update, so loading in rowid
 * order gives back creation order.
 */
import { Database, type Statement } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { BackendOptions, ServiceOptions } from "./model.ts";
import type { OwnedVip, StateStore, StoreChange, StoredService } from "./store.ts";

export const SCHEMA_VERSION = 2;
export const STATE_FILE = "state.db";

interface ServiceSpec {
  readonly options: ServiceOptions;
  readonly address?: string;
}

interface BackendSpec {
  readonly options: BackendOptions;
  readonly address?: string;
}

export class StateStoreOpenError extends Error {
  override readonly name = "StateStoreOpenError";
}

export class SqliteStateStore implements StateStore {
  readonly path: string;
  private readonly db: Database;
  private readonly putService: Statement;
  private readonly deleteService: Statement;
  private readonly putBackend: Statement;
  private readonly deleteBackend: Statement;
  private readonly putVip: Statement;
  private readonly deleteVip: Statement;
  private readonly applyAll: (changes: readonly StoreChange[]) => void;
  private closed = false;
  /** Test knob: the next write throws this after applying its first change (inside the transaction). */
  failNextWrite: Error | undefined;

  /** Opens (creating when absent) `<dir>/state.db`; `":memory:"` for a throwaway database. */
  static open(dir: string): SqliteStateStore {
    if (dir === ":memory:") return new SqliteStateStore(":memory:");
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new StateStoreOpenError(`cannot create the state directory ${dir}: ${(e as Error).message} (use --state-dir DIR, or --no-state to keep no state)`);
    }
    return new SqliteStateStore(join(dir, STATE_FILE));
  }

  private constructor(path: string) {
    this.path = path;
    let db: Database;
    try {
      db = new Database(path, { create: true, readwrite: true, strict: true });
    } catch (e) {
      throw new StateStoreOpenError(`cannot open the state file ${path}: ${(e as Error).message}`);
    }
    this.db = db;
    try {
      // Order matters: EXCLUSIVE before WAL, so the WAL index lives in memory (no -shm file).
      db.run("PRAGMA locking_mode = EXCLUSIVE");
      db.run("PRAGMA busy_timeout = 0");
      const mode = db.query<{ journal_mode: string }, []>("PRAGMA journal_mode = WAL").get()?.journal_mode;
      if (path !== ":memory:" && mode !== "wal") throw new Error(`the file system refused WAL mode (got ${mode})`);
      db.run("PRAGMA synchronous = FULL");
      db.run("PRAGMA foreign_keys = ON");
      this.migrate();
    } catch (e) {
      db.close();
      const message = (e as Error).message;
      if (/locked|busy/i.test(message)) throw new StateStoreOpenError(`the state file ${path} is in use by another process (another gorb?): ${message}`);
      if (e instanceof StateStoreOpenError) throw e;
      throw new StateStoreOpenError(`cannot use the state file ${path}: ${message}`);
    }
    this.putService = db.prepare("INSERT INTO services (id, spec) VALUES ($id, $spec) ON CONFLICT (id) DO UPDATE SET spec = excluded.spec");
    this.deleteService = db.prepare("DELETE FROM services WHERE id = $id");
    this.putBackend = db.prepare(
      "INSERT INTO backends (service_id, id, spec) VALUES ($service, $id, $spec) ON CONFLICT (service_id, id) DO UPDATE SET spec = excluded.spec",
    );
    this.deleteBackend = db.prepare("DELETE FROM backends WHERE service_id = $service AND id = $id");
    this.putVip = db.prepare("INSERT INTO vips (ifname, address, prefix) VALUES ($ifname, $address, $prefix) ON CONFLICT (ifname, address) DO UPDATE SET prefix = excluded.prefix");
    this.deleteVip = db.prepare("DELETE FROM vips WHERE ifname = $ifname AND address = $address");
    this.applyAll = db.transaction((changes: readonly StoreChange[]) => {
      let first = true;
      for (const c of changes) {
        this.applyOne(c);
        if (first && this.failNextWrite) {
          const error = this.failNextWrite;
          this.failNextWrite = undefined;
          throw error;
        }
        first = false;
      }
    });
  }

  private migrate(): void {
    const version = this.db.query<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version ?? 0;
    if (version > SCHEMA_VERSION) {
      throw new StateStoreOpenError(`the state file ${this.path} has schema version ${version}, newer than this gorb's ${SCHEMA_VERSION}: upgrade gorb, or move the file away`);
    }
    if (version === SCHEMA_VERSION) return;
    this.db.transaction(() => {
      this.db.run("CREATE TABLE IF NOT EXISTS services (id TEXT PRIMARY KEY NOT NULL, spec TEXT NOT NULL)");
      this.db.run(
        "CREATE TABLE IF NOT EXISTS backends (service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE, id TEXT NOT NULL, spec TEXT NOT NULL, PRIMARY KEY (service_id, id))",
      );
      // Version 2.
      this.db.run("CREATE TABLE IF NOT EXISTS vips (ifname TEXT NOT NULL, address TEXT NOT NULL, prefix INTEGER NOT NULL, PRIMARY KEY (ifname, address))");
      this.db.run(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    })();
  }

  async load(): Promise<StoredService[]> {
    const services = this.db.query<{ id: string; spec: string }, []>("SELECT id, spec FROM services ORDER BY rowid").all();
    const backends = this.db.query<{ service_id: string; id: string; spec: string }, []>("SELECT service_id, id, spec FROM backends ORDER BY rowid").all();
    const byService = new Map<string, { id: string; options: BackendOptions; address?: string }[]>();
    for (const b of backends) {
      const spec = JSON.parse(b.spec) as BackendSpec;
      let list = byService.get(b.service_id);
      if (!list) byService.set(b.service_id, (list = []));
      list.push({ id: b.id, options: spec.options, ...(spec.address === undefined ? {} : { address: spec.address }) });
    }
    return services.map((s) => {
      const spec = JSON.parse(s.spec) as ServiceSpec;
      return { id: s.id, options: spec.options, ...(spec.address === undefined ? {} : { address: spec.address }), backends: byService.get(s.id) ?? [] };
    });
  }

  async loadVips(): Promise<OwnedVip[]> {
    return this.db.query<OwnedVip, []>("SELECT ifname, address, prefix FROM vips ORDER BY rowid").all().map((r) => ({ ifname: r.ifname, address: r.address, prefix: r.prefix }));
  }

  /** One transaction: all the changes or none. A backend of a missing service is refused. */
  async write(changes: readonly StoreChange[]): Promise<void> {
    if (changes.length === 0) return;
    this.applyAll(changes);
  }

  private applyOne(c: StoreChange): void {
    switch (c.kind) {
      case "put-service":
        this.putService.run({ id: c.id, spec: JSON.stringify(spec(c.options, c.address)) });
        return;
      case "delete-service":
        this.deleteService.run({ id: c.id });
        return;
      case "put-backend":
        try {
          this.putBackend.run({ service: c.serviceId, id: c.id, spec: JSON.stringify(spec(c.options, c.address)) });
        } catch (e) {
          if (/FOREIGN KEY/i.test((e as Error).message)) throw new Error(`store: no service ${JSON.stringify(c.serviceId)}`);
          throw e;
        }
        return;
      case "delete-backend":
        this.deleteBackend.run({ service: c.serviceId, id: c.id });
        return;
      case "put-vip":
        this.putVip.run({ ifname: c.vip.ifname, address: c.vip.address, prefix: c.vip.prefix });
        return;
      case "delete-vip":
        this.deleteVip.run({ ifname: c.ifname, address: c.address });
        return;
    }
  }

  /** The journal mode and synchronous level in force (for tests and /status). */
  pragmas(): { journalMode: string; synchronous: number; lockingMode: string } {
    const journalMode = this.db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode ?? "";
    const synchronous = this.db.query<{ synchronous: number }, []>("PRAGMA synchronous").get()?.synchronous ?? -1;
    const lockingMode = this.db.query<{ locking_mode: string }, []>("PRAGMA locking_mode").get()?.locking_mode ?? "";
    return { journalMode, synchronous, lockingMode };
  }

  /** Finalizes the statements and closes the file (a second close does nothing). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const statement of [this.putService, this.deleteService, this.putBackend, this.deleteBackend, this.putVip, this.deleteVip]) statement.finalize();
    this.db.close(true);
  }
}

function spec<T>(options: T, address: string | undefined): { options: T; address?: string } {
  return address === undefined ? { options } : { options, address };
}
