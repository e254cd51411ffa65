/** MemoryInterfaceAddresses: the shared contract, plus what only the memory one has. */
import { expect, test } from "bun:test";
import { MemoryInterfaceAddresses } from "../../../src/net/memory-interfaces.ts";
import { Errno, InterfaceError } from "../../../src/net/errors.ts";
import { runInterfacesContract } from "../../net/contract.ts";

runInterfacesContract("MemoryInterfaceAddresses", async () => ({
  addresses: new MemoryInterfaceAddresses(["lo", "gorbtest0"]),
  ifname: "gorbtest0",
  missing: "gorbnope7",
}));

test("seeded with addresses, canonicalised; lo by default", async () => {
  const m = new MemoryInterfaceAddresses({ eth0: [{ address: "2001:DB8::0:1", prefix: 64, family: "inet6" }] });
  expect(await m.list("eth0")).toEqual([{ address: "2001:db8::1", prefix: 64, family: "inet6" }]);
  expect(await m.add("eth0", "2001:db8::1", 128)).toBe("present");
  expect(await new MemoryInterfaceAddresses().exists("lo")).toBe(true);
});

test("list returns copies: changing them changes nothing", async () => {
  const m = new MemoryInterfaceAddresses(["eth0"]);
  await m.add("eth0", "192.0.2.1", 32);
  const listed = await m.list("eth0");
  listed.pop();
  expect(await m.list("eth0")).toHaveLength(1);
});

test("interfaces come and go; failNext fails the next change once", async () => {
  const m = new MemoryInterfaceAddresses([]);
  m.createInterface("veth1");
  expect(await m.add("veth1", "192.0.2.1", 32)).toBe("added");
  m.failNext(Errno.EPERM);
  const e = await m.remove("veth1", "192.0.2.1", 32).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(InterfaceError);
  expect((e as InterfaceError).message).toBe("permission denied: needs CAP_NET_ADMIN (run as root or grant the capability)");
  expect(await m.remove("veth1", "192.0.2.1", 32)).toBe("removed");
  m.deleteInterface("veth1");
  expect(await m.exists("veth1")).toBe(false);
});
