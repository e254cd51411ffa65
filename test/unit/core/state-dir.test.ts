import { describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStateStore } from "../../../src/core/sqlite-store.ts";
import { openStateStore } from "../../../src/core/state-dir.ts";
import { MemoryStateStore } from "../../../src/core/store.ts";

describe("openStateStore", () => {
  const dir = () => join(mkdtempSync(join(tmpdir(), "gorb-sd-")), "state");

  it("the kernel: SQLite in the state directory (the default one too)", async () => {
    const d = dir();
    const opened = openStateStore({ stateDir: d, noState: false, stateDirGiven: false, ipvsKind: "kernel" });
    expect(opened.store).toBeInstanceOf(SqliteStateStore);
    expect(opened.path).toBe(join(d, "state.db"));
    expect(opened.note).toBeNull();
    await opened.store.close();
    rmSync(join(d, ".."), { recursive: true, force: true });
  });

  it("--no-state: memory, whatever else is given", () => {
    const opened = openStateStore({ stateDir: "/nonexistent/x", noState: true, stateDirGiven: true, ipvsKind: "kernel" });
    expect(opened.store).toBeInstanceOf(MemoryStateStore);
    expect(opened.path).toBeNull();
    expect(opened.note).toContain("--no-state");
  });

  it("in-memory IPVS: memory unless a directory was asked for", async () => {
    const none = openStateStore({ stateDir: "/var/lib/gorb", noState: false, stateDirGiven: false, ipvsKind: "memory" });
    expect(none.store).toBeInstanceOf(MemoryStateStore);
    expect(none.note).toContain("in-memory IPVS");
    const d = dir();
    const given = openStateStore({ stateDir: d, noState: false, stateDirGiven: true, ipvsKind: "memory" });
    expect(given.store).toBeInstanceOf(SqliteStateStore);
    await given.store.close();
    rmSync(join(d, ".."), { recursive: true, force: true });
  });
});
