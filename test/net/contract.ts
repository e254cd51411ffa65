/**
 * @module The InterfaceAddresses contract: one suite, run against MemoryInterfaceAddresses on the
 * host (test/unit/net/memory-interfaces.test.ts) and against the kernel in the VM
 * (test/kernel/guest/vip.test.ts). Where the kernel disagrees, the memory one is wrong.
 */
import { beforeEach, describe, expect, test } from "bun:test";
import { InterfaceError } from "../../src/net/errors.ts";
import { hostPrefix, type InterfaceAddresses } from "../../src/net/interfaces.ts";

export interface ContractSetup {
  /** The implementation, with `ifname` present and without global addresses. */
  readonly addresses: InterfaceAddresses;
  readonly ifname: string;
  /** A valid name no interface has. */
  readonly missing: string;
}

async function failure(p: Promise<unknown>): Promise<InterfaceError> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(InterfaceError);
  return e as InterfaceError;
}

/** The suite; `setup` runs before each test and gives a fresh interface. */
export function runInterfacesContract(name: string, setup: () => Promise<ContractSetup>): void {
  describe(`${name}: InterfaceAddresses contract`, () => {
    let s: ContractSetup;
    const global = async () => (await s.addresses.list(s.ifname)).filter((a) => !a.address.startsWith("fe80:"));
    beforeEach(async () => {
      s = await setup();
    });

    test("exists: the interface yes; a missing one and impossible names no", async () => {
      expect(await s.addresses.exists(s.ifname)).toBe(true);
      expect(await s.addresses.exists(s.missing)).toBe(false);
      for (const bad of ["", "a/b", "eth0:1", "x".repeat(16), "..", "a b"]) expect(await s.addresses.exists(bad)).toBe(false);
    });

    test("add an IPv4 /32: added, then present; list shows it", async () => {
      expect(await global()).toEqual([]);
      expect(await s.addresses.add(s.ifname, "192.0.2.10", hostPrefix("192.0.2.10"))).toBe("added");
      expect(await s.addresses.add(s.ifname, "192.0.2.10", 32)).toBe("present");
      expect(await global()).toEqual([{ address: "192.0.2.10", prefix: 32, family: "inet" }]);
    });

    test("add an IPv6 /128: added; any spelling of it is then present", async () => {
      expect(await s.addresses.add(s.ifname, "2001:db8::10", hostPrefix("2001:db8::10"))).toBe("added");
      expect(await s.addresses.add(s.ifname, "2001:0DB8:0:0::0010", 128)).toBe("present");
      expect(await global()).toEqual([{ address: "2001:db8::10", prefix: 128, family: "inet6" }]);
    });

    test("an address already there with another prefix is present, and not added twice", async () => {
      expect(await s.addresses.add(s.ifname, "192.0.2.20", 24)).toBe("added");
      expect(await s.addresses.add(s.ifname, "2001:db8::20", 64)).toBe("added");
      expect(await s.addresses.add(s.ifname, "192.0.2.20", 32)).toBe("present");
      expect(await s.addresses.add(s.ifname, "2001:db8::20", 128)).toBe("present");
      expect(await global()).toEqual([
        { address: "192.0.2.20", prefix: 24, family: "inet" },
        { address: "2001:db8::20", prefix: 64, family: "inet6" },
      ]);
    });

    test("remove: exactly that address and prefix; then absent", async () => {
      await s.addresses.add(s.ifname, "192.0.2.10", 32);
      await s.addresses.add(s.ifname, "2001:db8::10", 128);
      await s.addresses.add(s.ifname, "192.0.2.20", 24);
      expect(await s.addresses.remove(s.ifname, "192.0.2.20", 32)).toBe("absent"); // another prefix: not ours
      expect(await s.addresses.remove(s.ifname, "192.0.2.10", 32)).toBe("removed");
      expect(await s.addresses.remove(s.ifname, "192.0.2.10", 32)).toBe("absent");
      expect(await s.addresses.remove(s.ifname, "2001:db8:0::10", 128)).toBe("removed");
      expect(await s.addresses.remove(s.ifname, "2001:db8::10", 128)).toBe("absent");
      expect(await global()).toEqual([{ address: "192.0.2.20", prefix: 24, family: "inet" }]);
    });

    test("a missing interface: ENODEV, 'no such interface NAME', for every operation", async () => {
      for (const call of [
        () => s.addresses.list(s.missing),
        () => s.addresses.add(s.missing, "192.0.2.10", 32),
        () => s.addresses.remove(s.missing, "2001:db8::10", 128),
      ]) {
        const e = await failure(call());
        expect(e.code).toBe("ENODEV");
        expect(e.message).toBe(`no such interface ${s.missing}`);
        expect(e.ifname).toBe(s.missing);
      }
    });

    test("bad input: EINVAL with the reason, before anything reaches the kernel", async () => {
      const cases: [() => Promise<unknown>, string][] = [
        [() => s.addresses.add(s.ifname, "192.0.2.300", 32), 'not an IP address: "192.0.2.300"'],
        [() => s.addresses.add(s.ifname, "vip.example.com", 32), 'not an IP address: "vip.example.com"'],
        [() => s.addresses.add(s.ifname, "192.0.2.10", 33), "prefix 33 is out of range for IPv4 (0-32)"],
        [() => s.addresses.remove(s.ifname, "2001:db8::1", 129), "prefix 129 is out of range for IPv6 (0-128)"],
        [() => s.addresses.add(s.ifname, "192.0.2.10", 1.5), "prefix 1.5 is out of range for IPv4 (0-32)"],
        [() => s.addresses.list("eth0:1"), `interface name "eth0:1" contains '/', ':', a space or a NUL`],
        [() => s.addresses.add("x".repeat(16), "192.0.2.10", 32), `interface name "${"x".repeat(16)}" is longer than 15 bytes`],
        [() => s.addresses.list(""), "an interface name is required"],
      ];
      for (const [call, message] of cases) {
        const e = await failure(call());
        expect(e.code).toBe("EINVAL");
        expect(e.message).toBe(message);
      }
      expect(await global()).toEqual([]);
    });
  });
}
