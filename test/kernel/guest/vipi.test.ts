/**
 * dist/gorb with -vipi against the real kernel (runs inside the VM, as root): each service's VIP
 * goes on a dummy interface with the service and leaves with its last service; an address that
 * was already there is never removed; a VIP deleted behind gorb's back comes back with the next
 * reconcile and after a restart (kill -9); --cleanup-on-exit takes off only what gorb added.
 * Checked with iproute2 and ipvsadm.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { call, startGorb, type RunningGorb } from "./gorb-binary.ts";
import { ipvsadm } from "./ipvsadm.ts";

const IFACE = "gorbvip0";
const PORT = 4694;
let dir: string;
let gorb: RunningGorb | undefined;

function sh(script: string): string {
  const r = Bun.spawnSync(["sh", "-c", script], { stderr: "pipe" });
  if (!r.success) throw new Error(`${script}: exit ${r.exitCode}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

/** The interface's global addresses as `ip -o addr` shows them ("192.0.2.70/32"), sorted. */
function vipsShown(): string[] {
  return [...sh(`ip -o addr show dev ${IFACE}`).matchAll(/^\d+:\s+\S+\s+inet6? (\S+) .*scope global/gm)].map((m) => m[1]!).sort();
}

const save = () => ipvsadm(["-Sn"]).trim().split("\n").sort().join("\n");
const args = (...more: string[]) => ["-vipi", IFACE, "--state-dir", dir, "--reconcile-interval", "0", ...more];

async function put(path: string, body: unknown): Promise<void> {
  const r = await call(gorb!.url, "PUT", path, body);
  if (r.status !== 200) throw new Error(`PUT ${path}: ${r.status} ${r.text}`);
}

beforeAll(async () => {
  ipvsadm(["-C"]);
  sh(`ip link del ${IFACE} 2>/dev/null; ip link add ${IFACE} type dummy && ip link set ${IFACE} up && ip addr add 192.0.2.200/24 dev ${IFACE}`);
  dir = mkdtempSync("/tmp/gorb-vipi-");
  gorb = await startGorb(args(), PORT);
});

afterAll(async () => {
  if (gorb && gorb.process.exitCode === null) await gorb.stop("SIGKILL");
  ipvsadm(["-C"]);
  sh(`ip link del ${IFACE} 2>/dev/null || true`);
  rmSync(dir, { recursive: true, force: true });
});

describe("dist/gorb -vipi", () => {
  test("VIPs come with their services (/32, /128), stay while one service uses them, go with the last", async () => {
    await put("/service/http", { host: "192.0.2.70", port: 80 });
    await put("/service/https", { host: "192.0.2.70", port: 443 });
    await put("/service/v6", { host: "2001:db8::70", port: 80 });
    await put("/service/host", { host: "192.0.2.200", port: 8080 }); // the interface's own address
    await put("/service/mark", { fwmark: 70 });
    expect(vipsShown()).toEqual(["192.0.2.200/24", "192.0.2.70/32", "2001:db8::70/128"]);
    expect(save()).toContain("-A -t 192.0.2.70:443 -s wrr");
    const status = JSON.parse((await call(gorb!.url, "GET", "/status")).text);
    expect(status.vip_interface).toBe(IFACE);
    expect(status.vips).toEqual([
      { vip: "192.0.2.200/32", services: ["host"], owned: false },
      { vip: "192.0.2.70/32", services: ["http", "https"], owned: true },
      { vip: "2001:db8::70/128", services: ["v6"], owned: true },
    ]);

    expect((await call(gorb!.url, "DELETE", "/service/http")).status).toBe(200);
    expect(vipsShown()).toContain("192.0.2.70/32");
    expect((await call(gorb!.url, "DELETE", "/service/https")).status).toBe(200);
    expect((await call(gorb!.url, "DELETE", "/service/host")).status).toBe(200);
    expect(vipsShown()).toEqual(["192.0.2.200/24", "2001:db8::70/128"]);
    expect(save()).not.toContain("192.0.2.70");
  });

  test("a VIP deleted behind gorb's back: reported by GET /reconcile, put back by POST /reconcile", async () => {
    sh(`ip addr del 2001:db8::70/128 dev ${IFACE}`);
    const dry = JSON.parse((await call(gorb!.url, "GET", "/reconcile")).text);
    expect(dry.vips).toEqual([{ op: "add-vip", vip: "2001:db8::70/128", interface: IFACE, services: ["v6"], reason: "VIP missing from the interface" }]);
    expect(vipsShown()).toEqual(["192.0.2.200/24"]);
    const done = JSON.parse((await call(gorb!.url, "POST", "/reconcile")).text);
    expect(done.vips[0]).toMatchObject({ op: "add-vip", vip: "2001:db8::70/128", ok: true });
    expect(done.repaired).toBe(1);
    expect(vipsShown()).toEqual(["192.0.2.200/24", "2001:db8::70/128"]);
  });

  test("kill -9, the VIP lost meanwhile (as after a reboot), start again: the VIP is back, the table unchanged", async () => {
    await put("/service/web", { host: "192.0.2.71", port: 80 });
    await put("/service/web/b1", { host: "198.51.100.71", port: 8080, pulse: { type: "none" } });
    const table = save();
    gorb!.process.kill("SIGKILL");
    await gorb!.process.exited;
    sh(`ip addr del 192.0.2.71/32 dev ${IFACE}`);
    gorb = await startGorb(args(), PORT);
    expect(vipsShown()).toEqual(["192.0.2.200/24", "192.0.2.71/32", "2001:db8::70/128"]);
    expect(save()).toBe(table);
    expect(gorb.output()).toContain(`add-vip 192.0.2.71/32 on ${IFACE} (services [web]): VIP missing from the interface: done`);
    // Owned across the restart: the new process removes what the old one added.
    expect((await call(gorb.url, "DELETE", "/service/web")).status).toBe(200);
    expect(vipsShown()).toEqual(["192.0.2.200/24", "2001:db8::70/128"]);
  });

  test("--cleanup-on-exit removes the VIPs gorb added and its services, nothing else", async () => {
    await gorb!.stop("SIGTERM");
    gorb = await startGorb(args("--cleanup-on-exit"), PORT);
    await put("/service/host", { host: "192.0.2.200", port: 8080 });
    ipvsadm(["-A", "-t", "203.0.113.70:80", "-s", "rr"]); // foreign
    expect(await gorb.stop("SIGTERM")).toBe(0);
    expect(vipsShown()).toEqual(["192.0.2.200/24"]);
    expect(save()).toBe("-A -t 203.0.113.70:80 -s rr");
  });

  test("a -vipi interface that does not exist: gorb refuses to start, naming it", () => {
    const r = Bun.spawnSync(["/host/dist/gorb", "--ipvs", "kernel", "-i", "eth0", "--no-state", "-l", `127.0.0.1:${PORT}`, "-vipi", "gorbnope9"], { stderr: "pipe" });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.toString()).toContain("no such interface: gorbnope9 (-vipi)");
  });
});
