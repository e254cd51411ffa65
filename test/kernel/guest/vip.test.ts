/**
 * VIPs on an interface (GORB's -vipi) against the real kernel, on a dummy interface, checked
 * with iproute2 (runs inside the VM, as root).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { openKernelInterfaces, type KernelInterfaceAddresses } from "../../../src/net/kernel-interfaces.ts";
import { InterfaceError } from "../../../src/net/errors.ts";
import { hostPrefix } from "../../../src/net/interfaces.ts";
import { runInterfacesContract } from "../../net/contract.ts";

const IFACE = "gorbtest0";

function sh(script: string): string {
  const r = Bun.spawnSync(["sh", "-c", script], { stderr: "pipe" });
  if (!r.success) throw new Error(`${script}: exit ${r.exitCode}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

/** A fresh dummy interface, up, with nothing but its IPv6 link-local address. */
function freshInterface(): void {
  sh(`ip link del ${IFACE} 2>/dev/null; ip link add ${IFACE} type dummy && ip link set ${IFACE} up`);
}

/** `ip -o addr show dev IFACE` as "inet 192.0.2.10/32"-style lines, with the flags after. */
function ipAddrShow(): string[] {
  return [...sh(`ip -o addr show dev ${IFACE}`).matchAll(/^\d+:\s+\S+\s+(inet6? \S+)(.*)$/gm)].map((m) => `${m[1]}${m[2]!.replace(/\\.*$/, "")}`.trim());
}

let kernel: KernelInterfaceAddresses;
beforeAll(() => {
  kernel = openKernelInterfaces();
});
afterAll(() => {
  kernel.close();
  sh(`ip link del ${IFACE} 2>/dev/null || true`);
});

runInterfacesContract("KernelInterfaceAddresses", async () => {
  freshInterface();
  return { addresses: kernel, ifname: IFACE, missing: "gorbnope7" };
});

describe("KernelInterfaceAddresses, as iproute2 sees it", () => {
  test("VIPs: 192.0.2.10/32 and 2001:db8::10/128 appear, usable at once (nodad), then go", async () => {
    freshInterface();
    for (const vip of ["192.0.2.10", "2001:db8::10"]) expect(await kernel.add(IFACE, vip, hostPrefix(vip))).toBe("added");
    const shown = ipAddrShow();
    expect(shown).toContainEqual(expect.stringMatching(/^inet 192\.0\.2\.10\/32 scope global gorbtest0$/));
    const v6 = shown.find((l) => l.startsWith("inet6 2001:db8::10/128"));
    expect(v6).toContain("nodad");
    expect(v6).not.toContain("tentative");
    // The list matches iproute2's, link-local included.
    const ours = (await kernel.list(IFACE)).map((a) => `${a.family} ${a.address}/${a.prefix}`).sort();
    expect(ours).toEqual(shown.map((l) => l.split(" ").slice(0, 2).join(" ")).sort());
    for (const vip of ["192.0.2.10", "2001:db8::10"]) expect(await kernel.remove(IFACE, vip, hostPrefix(vip))).toBe("removed");
    expect(ipAddrShow().filter((l) => !l.startsWith("inet6 fe80:"))).toEqual([]);
  });

  test("an address the operator added is 'present': no /32 duplicate, and a /32 remove leaves it", async () => {
    freshInterface();
    sh(`ip addr add 192.0.2.20/24 dev ${IFACE} && ip addr add 2001:db8::20/64 dev ${IFACE} nodad`);
    expect(await kernel.add(IFACE, "192.0.2.20", 32)).toBe("present");
    expect(await kernel.add(IFACE, "2001:db8::20", 128)).toBe("present");
    expect(await kernel.remove(IFACE, "192.0.2.20", 32)).toBe("absent");
    expect(await kernel.remove(IFACE, "2001:db8::20", 128)).toBe("absent");
    const shown = ipAddrShow().map((l) => l.split(" ").slice(0, 2).join(" "));
    expect(shown.filter((l) => !l.startsWith("inet6 fe80:"))).toEqual(["inet 192.0.2.20/24", "inet6 2001:db8::20/64"]);
  });

  test("an interface deleted and recreated is found again (its index changed)", async () => {
    freshInterface();
    expect(await kernel.add(IFACE, "192.0.2.30", 32)).toBe("added");
    freshInterface();
    expect(await kernel.list(IFACE)).not.toContainEqual(expect.objectContaining({ address: "192.0.2.30" }));
    expect(await kernel.add(IFACE, "192.0.2.30", 32)).toBe("added");
  });

  test("IPv6 turned off on the interface: the error says so", async () => {
    freshInterface();
    sh(`sysctl -qw net.ipv6.conf.${IFACE}.disable_ipv6=1`);
    const e = await kernel.add(IFACE, "2001:db8::40", 128).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InterfaceError);
    expect((e as InterfaceError).code).toBe("EACCES");
    expect((e as InterfaceError).message).toStartWith(`IPv6 is disabled on ${IFACE}`);
    expect(await kernel.add(IFACE, "192.0.2.40", 32)).toBe("added"); // IPv4 is unaffected
  });

  test("without CAP_NET_ADMIN over the network namespace (a user namespace): permission denied", async () => {
    freshInterface();
    // As under systemd's PrivateUsers=yes: root in a new user namespace has no say over the host's network.
    const script = `
      import { openKernelInterfaces } from "./src/net/kernel-interfaces.ts";
      const k = openKernelInterfaces();
      console.log(JSON.stringify(await k.list("${IFACE}")));
      for (const call of [() => k.add("${IFACE}", "192.0.2.50", 32), () => k.remove("${IFACE}", "192.0.2.50", 32)]) {
        try { await call(); console.log("no error"); } catch (e) { console.log(e.code + ": " + e.message); }
      }`;
    const r = Bun.spawnSync(["unshare", "-U", process.execPath, "-e", script], { cwd: process.cwd(), stderr: "pipe" });
    const lines = r.stdout.toString().trim().split("\n");
    expect(lines[0]).toStartWith("["); // reading needs no privilege
    expect(lines.slice(1)).toEqual([
      "EPERM: permission denied: needs CAP_NET_ADMIN (run as root or grant the capability)",
      "EPERM: permission denied: needs CAP_NET_ADMIN (run as root or grant the capability)",
    ]);
    expect(ipAddrShow().filter((l) => l.startsWith("inet "))).toEqual([]);
  });
});
