/**
 * @module MemoryInterfaceAddresses: InterfaceAddresses in a Map, with the kernel's answers and
 * errors, for tests and `--ipvs memory` mode (where nothing on the host may change).
 */
import { networkInterfaces } from "node:os";
import { Errno, InterfaceError } from "./errors.ts";
import { checkAddress, checkInterfaceName, invalidInterfaceName, type InterfaceAddress, type InterfaceAddresses } from "./interfaces.ts";

export class MemoryInterfaceAddresses implements InterfaceAddresses {
  readonly kind = "memory" as const;
  private readonly interfaces = new Map<string, InterfaceAddress[]>();
  private injected: number | undefined;

  /**
   * `interfaces`: names (each with no address) or names with their addresses. For memory mode,
   * pass the `-vipi` interface, so that adding VIPs to it works as on a host that has it.
   */
  constructor(interfaces: readonly string[] | Readonly<Record<string, readonly InterfaceAddress[]>> = ["lo"]) {
    const entries = Array.isArray(interfaces)
      ? interfaces.map((name): [string, readonly InterfaceAddress[]] => [name, []])
      : Object.entries(interfaces as Readonly<Record<string, readonly InterfaceAddress[]>>);
    for (const [name, addresses] of entries) {
      this.createInterface(name);
      const list = this.interfaces.get(name)!;
      for (const a of addresses) {
        const checked = checkAddress(a.address, a.prefix, "add", name);
        list.push({ address: checked.address, prefix: checked.prefix, family: checked.family });
      }
    }
  }

  /** A copy of this host's interface `ifname` with its addresses (memory mode), or undefined when the host has none such. */
  static copyOfHost(ifname: string): MemoryInterfaceAddresses | undefined {
    const host = networkInterfaces()[ifname];
    if (!host) return undefined;
    const addresses = host.map((a) => ({ address: a.address.split("%")[0]!, prefix: prefixLength(a.netmask), family: a.family === "IPv4" ? ("inet" as const) : ("inet6" as const) }));
    return new MemoryInterfaceAddresses({ [ifname]: addresses });
  }

  /** Adds an interface with no address (as `ip link add`); a no-op when it exists. */
  createInterface(ifname: string): void {
    checkInterfaceName(ifname, "add");
    if (!this.interfaces.has(ifname)) this.interfaces.set(ifname, []);
  }

  /** Removes an interface and its addresses (as `ip link del`). */
  deleteInterface(ifname: string): void {
    this.interfaces.delete(ifname);
  }

  /** The next add or remove fails with this errno (EPERM to test a missing capability). */
  failNext(errno: number): void {
    this.injected = errno;
  }

  async list(ifname: string): Promise<InterfaceAddress[]> {
    return this.addressesOf(ifname, "list").map((a) => ({ ...a }));
  }

  async add(ifname: string, address: string, prefix: number): Promise<"added" | "present"> {
    const addresses = this.addressesOf(ifname, "add");
    const a = checkAddress(address, prefix, "add", ifname);
    this.takeInjected("add", ifname);
    if (addresses.some((x) => x.address === a.address)) return "present";
    addresses.push({ address: a.address, prefix: a.prefix, family: a.family });
    return "added";
  }

  async remove(ifname: string, address: string, prefix: number): Promise<"removed" | "absent"> {
    const addresses = this.addressesOf(ifname, "remove");
    const a = checkAddress(address, prefix, "remove", ifname);
    this.takeInjected("remove", ifname);
    const at = addresses.findIndex((x) => x.address === a.address && x.prefix === a.prefix);
    if (at < 0) return "absent";
    addresses.splice(at, 1);
    return "removed";
  }

  async exists(ifname: string): Promise<boolean> {
    return !invalidInterfaceName(ifname) && this.interfaces.has(ifname);
  }

  close(): void {}

  private addressesOf(ifname: string, op: "list" | "add" | "remove"): InterfaceAddress[] {
    checkInterfaceName(ifname, op);
    const addresses = this.interfaces.get(ifname);
    if (!addresses) throw new InterfaceError(Errno.ENODEV, op, ifname);
    return addresses;
  }

  private takeInjected(op: "add" | "remove", ifname: string): void {
    const errno = this.injected;
    if (errno === undefined) return;
    this.injected = undefined;
    throw new InterfaceError(errno, op, ifname);
  }
}

/** "255.255.255.0" or "ffff:ffff::" → its prefix length. */
export function prefixLength(netmask: string): number {
  const parts = netmask.includes(".") ? netmask.split(".").map(Number) : netmask.split(":").map((g) => (g === "" ? 0 : parseInt(g, 16)));
  let bits = 0;
  for (const part of parts) for (let v = part; v > 0; v >>>= 1) bits += v & 1;
  return bits;
}
