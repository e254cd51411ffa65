/**
 * Runs INSIDE the test VM (see ../README.md): proves that `bun test` works in
 * the guest against the real IPVS kernel. Not picked up by a plain `bun test`
 * (the name does not end in .test.ts); run it explicitly:
 *   bun test/kernel/vm.ts run 'bun test ./test/kernel/selftest/guest.check.ts'
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";

const inVm = existsSync("/run/gorb-vm") && existsSync("/etc/gorb-vm-kernel");

describe.skipIf(!inVm)("guest", () => {
  test("runs as root on the Debian kernel", () => {
    expect(process.getuid?.()).toBe(0);
    const kver = readFileSync("/etc/gorb-vm-kernel", "utf8").trim();
    expect(readFileSync("/proc/sys/kernel/osrelease", "utf8").trim()).toBe(kver);
  });

  test("IPVS is loaded", () => {
    expect(readFileSync("/proc/net/ip_vs", "utf8")).toContain("IP Virtual Server");
  });

  test("ipvsadm adds and lists a service", async () => {
    const run = async (args: string[]): Promise<string> => {
      const p = Bun.spawn(["ipvsadm", ...args], { stdout: "pipe", stderr: "pipe" });
      const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      if (code !== 0) throw new Error(`ipvsadm ${args.join(" ")}: ${err}`);
      return out;
    };
    await run(["-A", "-t", "192.0.2.7:443", "-s", "wrr"]);
    await run(["-a", "-t", "192.0.2.7:443", "-r", "198.51.100.7:8443", "-m", "-w", "5"]);
    const listing = await run(["-Ln", "-t", "192.0.2.7:443"]);
    expect(listing).toContain("192.0.2.7:443 wrr");
    expect(listing).toMatch(/198\.51\.100\.7:8443\s+Masq\s+5/);
    await run(["-D", "-t", "192.0.2.7:443"]);
  });

  test("iproute2 (not busybox) ip: veth pair and dummy interface", async () => {
    const sh = Bun.spawn(
      ["sh", "-c", "ip link add gv0 type veth peer name gv1 && ip link add gd0 type dummy && ip addr add 203.0.113.9/32 dev gd0 && ip -br addr show gd0 && ip link del gv0 && ip link del gd0"],
      { stdout: "pipe", stderr: "pipe" },
    );
    const [out, err, code] = await Promise.all([new Response(sh.stdout).text(), new Response(sh.stderr).text(), sh.exited]);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toContain("203.0.113.9/32");
  });

  test("TCP over loopback", async () => {
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("pong") });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/`);
      expect(await res.text()).toBe("pong");
    } finally {
      server.stop(true);
    }
  });
});
