/**
 * @module Which state store the daemon uses: SQLite in the state directory by default; none (in
 * memory, forgotten on exit, as GORB) with --no-state, or with the in-memory IPVS unless a
 * directory was asked for explicitly (a laptop's `--ipvs memory` should not need /var/lib).
 */
import { SqliteStateStore } from "./sqlite-store.ts";
import { MemoryStateStore, type StateStore } from "./store.ts";

export interface StateStoreChoice {
  readonly stateDir: string;
  readonly noState: boolean;
  /** --state-dir (or GORB_STATE_DIR, or the config file) gave the directory; not the default. */
  readonly stateDirGiven: boolean;
  readonly ipvsKind: "kernel" | "memory";
}

export interface OpenedStateStore {
  readonly store: StateStore;
  /** The state file, or null when nothing is kept on disk. */
  readonly path: string | null;
  /** Why there is no file, when there is none. */
  readonly note: string | null;
}

export function openStateStore(choice: StateStoreChoice): OpenedStateStore {
  if (choice.noState) {
    return { store: new MemoryStateStore(), path: null, note: "--no-state: desired state is kept in memory only; a restart forgets it" };
  }
  if (choice.ipvsKind === "memory" && !choice.stateDirGiven) {
    return { store: new MemoryStateStore(), path: null, note: "in-memory IPVS without --state-dir: desired state is kept in memory only" };
  }
  const store = SqliteStateStore.open(choice.stateDir);
  return { store, path: store.path, note: null };
}
