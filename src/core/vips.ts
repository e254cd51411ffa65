/**
 * @module VIPs on an interface (GORB's `-vipi`): each service's address goes on the interface as
 * a /32 (/128) while at least one service uses it.
 *
 * Ownership is what makes this safe on a shared host: gorb removes only addresses it added
 * itself, recorded durably in the state store *before* the add (an address already on the
 * interface — the host's own, or a VIP keepalived manages — is never recorded, so never removed).
 * A crash between the record and the add leaves a record whose address is missing: start-up adds
 * it back. A crash between a service's deletion and its VIP's removal leaves an owned VIP nobody
 * uses: start-up (or the next reconcile) removes it.
 *
 * Services share a VIP (80 and 443 on one address): the address stays while any of them uses it.
 * Users are counted here, under a lock per address, from the moment a create begins, so a delete
 * of one service cannot remove the VIP a concurrent create of another is about to use.
 *
 * With `-vipi`, every service's VIP is on the interface: start-up and reconcile put back a VIP
 * that went missing (a reboot, `ip addr flush`), and gorb owns what it put back.
 */
import type { InterfaceAddresses } from "../net/interfaces.ts";
import { hostPrefix } from "../net/interfaces.ts";
import { VipError } from "./errors.ts";
import { KeyedLock } from "./lock.ts";
import type { OwnedVip, StateStore } from "./store.ts";

/** One VIP change made by start-up, reconcile or clean-up (or, in a dry run, one it would make). */
export interface VipRepair {
  readonly op: "add-vip" | "remove-vip";
  /** "192.0.2.10/32". */
  readonly vip: string;
  readonly interface: string;
  /** The services that use it (none for the removal of an unused VIP). */
  readonly services: string[];
  readonly reason: string;
  /** Whether the kernel took it; absent in a dry run. */
  readonly ok?: boolean;
  readonly error?: string;
}

/** What GET /status shows of one VIP. */
export interface VipStatus {
  readonly vip: string;
  readonly services: string[];
  /** gorb added it and will remove it with its last service. */
  readonly owned: boolean;
}

export interface VipManagerOptions {
  readonly interfaces: InterfaceAddresses;
  /** The `-vipi` interface. */
  readonly ifname: string;
  readonly store: StateStore;
  readonly log?: (line: string) => void;
}

export class VipManager {
  readonly ifname: string;
  private readonly interfaces: InterfaceAddresses;
  private readonly store: StateStore;
  private readonly log: (line: string) => void;
  /** Service IDs per VIP address (canonical). */
  private readonly users = new Map<string, Set<string>>();
  /** Addresses gorb added to `ifname` (as recorded in the store). */
  private readonly owned = new Map<string, OwnedVip>();
  private readonly lock = new KeyedLock();

  constructor(options: VipManagerOptions) {
    this.interfaces = options.interfaces;
    this.ifname = options.ifname;
    this.store = options.store;
    this.log = options.log ?? ((line) => console.log(line));
  }

  /**
   * Start-up: loads what gorb owns, takes `users` (service ID → VIP of the restored services) as
   * the users, adds back owned VIPs that are missing (and records and adds VIPs of restored
   * services that are on no interface), and removes owned VIPs no service uses.
   */
  async restore(users: ReadonlyMap<string, string>): Promise<VipRepair[]> {
    // Owned records of other interfaces (a changed -vipi) are removed from there.
    const elsewhere: OwnedVip[] = [];
    for (const vip of await this.store.loadVips()) {
      if (vip.ifname === this.ifname) this.owned.set(vip.address, vip);
      else elsewhere.push(vip);
    }
    for (const [service, address] of users) this.usersOf(address).add(service);
    const moved: VipRepair[] = [];
    for (const vip of elsewhere) moved.push(await this.removeElsewhere(vip));
    for (const r of moved) this.log(repairLine("start-up", r));
    // Then as any reconcile: restored services' missing VIPs are added (and owned), unused owned ones removed.
    return [...moved, ...(await this.reconcile({ trigger: "start-up" }))];
  }

  /**
   * A service using `address` is being created: when this returns, the address is on the
   * interface (added and recorded as gorb's when it was not there). Throws VipError when
   * the kernel refuses the add; then nothing changed. Undo with `release`.
   */
  async acquire(service: string, address: string): Promise<void> {
    await this.lock.run(address, async () => {
      const users = this.users.get(address);
      if (users && users.size > 0) {
        users.add(service);
        return;
      }
      const present = await this.presentAddresses().catch((e: unknown) => {
        throw new VipError(`${address}/${hostPrefix(address)}`, this.ifname, e);
      });
      if (!present.has(address)) {
        const repair = await this.addOwned(address, [service], "");
        if (!repair.ok) throw new VipError(repair.vip, this.ifname, repair.cause);
      }
      this.usersOf(address).add(service);
    });
  }

  /**
   * A service using `address` is gone (deleted, or its create failed): its VIP leaves the
   * interface when no other service uses it and gorb added it. Never throws: a failed removal is
   * logged, stays recorded and is retried by the next reconcile.
   */
  async release(service: string, address: string): Promise<void> {
    await this.lock.run(address, async () => {
      const users = this.users.get(address);
      users?.delete(service);
      if (users && users.size > 0) return;
      this.users.delete(address);
      if (!this.owned.has(address)) return;
      const repair = await this.removeOwned(address, "");
      if (!repair.ok) this.log(`gorb: WARNING: could not remove VIP ${repair.vip} from ${this.ifname}: ${repair.error}; the next reconcile retries`);
    });
  }

  /** Owned VIPs in use but missing from the interface are added back; owned VIPs nobody uses are removed. */
  async reconcile(options: { readonly dryRun?: boolean; readonly trigger?: string } = {}): Promise<VipRepair[]> {
    const present = await this.presentAddresses();
    const repairs: VipRepair[] = [];
    for (const [address, services] of this.users) {
      if (present.has(address)) continue;
      const reason = "VIP missing from the interface";
      repairs.push(options.dryRun ? this.describe("add-vip", address, services, reason) : await this.lock.run(address, () => this.readdIfStillMissing(address, reason)));
    }
    for (const address of [...this.owned.keys()]) {
      if (this.users.has(address)) continue;
      const reason = "no service uses this VIP any more";
      repairs.push(options.dryRun ? this.describe("remove-vip", address, [], reason) : await this.lock.run(address, () => this.removeOwned(address, reason)));
    }
    if (!options.dryRun) for (const r of repairs) this.log(repairLine(options.trigger ?? "api", r));
    return repairs;
  }

  /** --cleanup-on-exit: removes every VIP gorb added (the records go too). */
  async cleanup(): Promise<VipRepair[]> {
    const repairs: VipRepair[] = [];
    for (const address of [...this.owned.keys()]) {
      repairs.push(await this.lock.run(address, () => this.removeOwned(address, "clean-up on exit")));
    }
    for (const r of repairs) this.log(repairLine("clean-up", r));
    return repairs;
  }

  /** Every VIP in use or owned, sorted by address. */
  status(): VipStatus[] {
    const addresses = new Set([...this.users.keys(), ...this.owned.keys()]);
    return [...addresses].sort().map((address) => ({
      vip: `${address}/${hostPrefix(address)}`,
      services: [...(this.users.get(address) ?? [])].sort(),
      owned: this.owned.has(address),
    }));
  }

  // ---- steps (callers hold the address's lock) ----------------------------------------

  /** Records the VIP as gorb's, then adds it; on a refusal the record goes again. */
  private async addOwned(address: string, services: string[], reason: string): Promise<VipRepair & { cause?: unknown }> {
    const vip: OwnedVip = { ifname: this.ifname, address, prefix: hostPrefix(address) };
    const base = this.describe("add-vip", address, services, reason);
    const wasOwned = this.owned.has(address);
    try {
      if (!wasOwned) await this.store.write([{ kind: "put-vip", vip }]);
      const outcome = await this.interfaces.add(this.ifname, address, vip.prefix);
      if (outcome === "present" && !wasOwned) {
        // Someone added it meanwhile: theirs, not gorb's.
        await this.store.write([{ kind: "delete-vip", ifname: this.ifname, address }]);
        return { ...base, ok: true };
      }
      this.owned.set(address, vip);
      return { ...base, ok: true };
    } catch (e) {
      if (!wasOwned) await this.store.write([{ kind: "delete-vip", ifname: this.ifname, address }]).catch(() => undefined);
      return { ...base, ok: false, error: (e as Error).message, cause: e };
    }
  }

  /** Removes an owned VIP, then its record (kept when the removal fails, so it is retried). */
  private async removeOwned(address: string, reason: string): Promise<VipRepair> {
    const vip = this.owned.get(address)!;
    const base = this.describe("remove-vip", address, [], reason);
    try {
      await this.interfaces.remove(this.ifname, address, vip.prefix); // "absent" is as good as removed
      await this.store.write([{ kind: "delete-vip", ifname: this.ifname, address }]);
      this.owned.delete(address);
      return { ...base, ok: true };
    } catch (e) {
      return { ...base, ok: false, error: (e as Error).message };
    }
  }

  private async readdIfStillMissing(address: string, reason: string): Promise<VipRepair> {
    const services = [...(this.users.get(address) ?? [])];
    if ((await this.presentAddresses()).has(address) || services.length === 0) {
      return { ...this.describe("add-vip", address, services, reason), ok: true };
    }
    const { cause: _, ...repair } = await this.addOwned(address, services, reason);
    return repair;
  }

  /** An owned VIP recorded on another interface (`-vipi` changed): removed there, record dropped. */
  private async removeElsewhere(vip: OwnedVip): Promise<VipRepair> {
    const base: VipRepair = { op: "remove-vip", vip: `${vip.address}/${vip.prefix}`, interface: vip.ifname, services: [], reason: `gorb added it to ${vip.ifname}; -vipi is now ${this.ifname}` };
    try {
      if (await this.interfaces.exists(vip.ifname)) await this.interfaces.remove(vip.ifname, vip.address, vip.prefix);
      await this.store.write([{ kind: "delete-vip", ifname: vip.ifname, address: vip.address }]);
      return { ...base, ok: true };
    } catch (e) {
      return { ...base, ok: false, error: (e as Error).message };
    }
  }

  private describe(op: VipRepair["op"], address: string, services: Iterable<string>, reason: string): VipRepair {
    return { op, vip: `${address}/${hostPrefix(address)}`, interface: this.ifname, services: [...services].sort(), reason };
  }

  private usersOf(address: string): Set<string> {
    let users = this.users.get(address);
    if (!users) this.users.set(address, (users = new Set()));
    return users;
  }

  /** Addresses on the interface now, with any prefix (canonical). */
  private async presentAddresses(): Promise<Set<string>> {
    return new Set((await this.interfaces.list(this.ifname)).map((a) => a.address));
  }
}

export function repairLine(trigger: string, r: VipRepair): string {
  const users = r.services.length ? ` (services ${r.services.map((s) => `[${s}]`).join(", ")})` : "";
  const outcome = r.ok === undefined ? "would repair" : r.ok ? "done" : `FAILED: ${r.error}`;
  return `gorb: vip (${trigger}): ${r.op} ${r.vip} on ${r.interface}${users}${r.reason ? `: ${r.reason}` : ""}: ${outcome}`;
}
