/**
 * KernelInterfaceAddresses on this host, read-only: reading addresses needs no privilege and
 * changes nothing. Adding and removing run in the kernel tier (test/kernel/guest/vip.test.ts).
 */
import { afterAll, expect, test } from "bun:test";
import { openKernelInterfaces } from "../../../src/net/kernel-interfaces.ts";
import { InterfaceError } from "../../../src/net/errors.ts";

const k = openKernelInterfaces();
afterAll(() => k.close());

/** What iproute2 lists, as "address/prefix family" lines (`ip -o addr show dev NAME`). */
function ipAddrShow(ifname: string): string[] | undefined {
  const ip = Bun.spawnSync(["ip", "-o", "addr", "show", "dev", ifname]);
  if (!ip.success) return undefined;
  return [...ip.stdout.toString().matchAll(/^\d+:\s+\S+\s+(inet6?)\s+([0-9a-f.:]+)\/(\d+)/gm)].map((m) => `${m[2]}/${m[3]} ${m[1]}`);
}

test("lo exists and has 127.0.0.1/8; the list matches `ip addr`", async () => {
  expect(await k.exists("lo")).toBe(true);
  const listed = await k.list("lo");
  expect(listed).toContainEqual({ address: "127.0.0.1", prefix: 8, family: "inet" });
  const ip = ipAddrShow("lo");
  if (ip) expect(listed.map((a) => `${a.address}/${a.prefix} ${a.family}`).sort()).toEqual(ip.sort());
});

test("a missing interface: exists is false, list fails with 'no such interface'", async () => {
  expect(await k.exists("gorbnope7")).toBe(false);
  const e = await k.list("gorbnope7").catch((x: unknown) => x);
  expect(e).toBeInstanceOf(InterfaceError);
  expect((e as InterfaceError).message).toBe("no such interface gorbnope7");
});
