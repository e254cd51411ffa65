/**
 * State that survives restarts, against the real kernel (runs inside the VM): gorb is killed with
 * SIGKILL and started again on the same state directory while `ipvsadm -Sn` is sampled every
 * ~20 ms — no sample may differ (nothing removed, no flush-then-recreate, no weight flapping, a
 * down backend not revived) — and the API shows the same state. A graceful SIGTERM keeps the
 * table too, and exits quickly.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { openKernelIpvs } from "../../../src/ipvs/kernel-ipvs.ts";
import type { Ipvs } from "../../../src/ipvs/ipvs.ts";
import { serviceId } from "../../../src/ipvs/keys.ts";
import { call, startGorb, type RunningGorb } from "./gorb-binary.ts";
import { ipvsadm } from "./ipvsadm.ts";

const PORT = 4690;
let dir: string;
let gorb: RunningGorb | undefined;
let ipvs: Ipvs;

const save = () => ipvsadm(["-Sn"]).trim().split("\n").sort().join("\n");
const args = () => ["--state-dir", dir, "--reconcile-interval", "1s"];

async function saveAsync(): Promise<string> {
  const p = Bun.spawn(["ipvsadm", "-Sn"], { stdout: "pipe" });
  const text = await new Response(p.stdout).text();
  await p.exited;
  return text.trim().split("\n").sort().join("\n");
}

/** The table through our own netlink socket (a few ms, where spawning ipvsadm takes ~200 ms under emulation). */
async function dump(ipvs: Ipvs): Promise<string> {
  const rows: string[] = [];
  for (const { service, destinations } of await ipvs.table()) {
    const { stats: _s, ...svc } = service;
    rows.push(JSON.stringify(svc));
    for (const d of destinations) {
      const { stats: _d, activeConnections: _a, inactiveConnections: _i, persistentConnections: _p, ...dest } = d;
      rows.push(`${serviceId(service.key)} ${JSON.stringify(dest)}`);
    }
  }
  return rows.sort().join("\n");
}

interface Sample {
  at: number;
  table: string;
}

/** Samples the table until stopped: over netlink every ~20 ms, and with `ipvsadm -Sn` as often as it can. */
function sampler(ipvs: Ipvs) {
  const fast: Sample[] = [];
  const slow: Sample[] = [];
  let running = true;
  const loops = [
    (async () => {
      while (running) {
        fast.push({ at: performance.now(), table: await dump(ipvs) });
        await Bun.sleep(20);
      }
    })(),
    (async () => {
      while (running) slow.push({ at: performance.now(), table: await saveAsync() });
    })(),
  ];
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { fast, slow };
    },
  };
}

async function apiState(url: string): Promise<unknown> {
  const ids = JSON.parse((await call(url, "GET", "/service")).text) as string[];
  const out: Record<string, unknown> = {};
  for (const id of ids) {
    const s = JSON.parse((await call(url, "GET", `/service/${id}`)).text);
    const backends: Record<string, unknown> = {};
    for (const b of (s.backends ?? []) as string[]) {
      const v = JSON.parse((await call(url, "GET", `/service/${id}/${b}`)).text);
      backends[b] = v.options;
    }
    out[id] = { options: s.options, backends };
  }
  return out;
}

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, withinMs: number): Promise<void> {
  const deadline = performance.now() + withinMs;
  while (performance.now() < deadline) {
    if (await ok()) return;
    await Bun.sleep(50);
  }
  throw new Error(`${what}: not within ${withinMs} ms\n${save()}`);
}

beforeAll(async () => {
  ipvsadm(["-C"]);
  ipvs = await openKernelIpvs();
  dir = mkdtempSync("/tmp/gorb-state-");
  gorb = await startGorb(args(), PORT);
  const put = async (path: string, body: unknown) => {
    const r = await call(gorb!.url, "PUT", path, body);
    if (r.status !== 200) throw new Error(`PUT ${path}: ${r.status} ${r.text}`);
  };
  await put("/service/web", { host: "192.0.2.60", port: 80, method: "wrr" });
  await put("/service/web/up", { host: "198.51.100.61", port: 8080, weight: 50, pulse: { type: "none", interval: "1s" } });
  // Nothing answers there: pulse takes it to weight 0 — a restart must not revive it.
  await put("/service/web/down", { host: "198.51.100.62", port: 8080, weight: 40, pulse: { type: "tcp", interval: "1s", timeout: "300ms" } });
  await put("/service/web/drained", { host: "198.51.100.63", port: 8080, pulse: { type: "none", interval: "1s" } });
  expect((await call(gorb.url, "PATCH", "/service/web/drained", { weight: 0 })).status).toBe(200);
  await put("/service/dns", { host: "192.0.2.60", port: 53, protocol: "udp", method: "rr", persistent: true, timeout: 60 });
  await put("/service/dns/r1", { host: "198.51.100.64", port: 53, pulse: { type: "none", interval: "1s" } });
  await put("/service/v6", { host: "2001:db8::60", port: 443, method: "sh", flags: "sh-port" });
  await put("/service/v6/x", { host: "2001:db8::61", port: 8443, upper_threshold: 100, lower_threshold: 10, pulse: { type: "none", interval: "1s" } });
  await put("/service/mark", { fwmark: 60, method: "rr" });
  await put("/service/mark/dr", { host: "198.51.100.65", port: 0, method: "dr", pulse: { type: "none", interval: "1s" } });
  await put("/service/mark/tun", { host: "198.51.100.66", port: 0, method: "tunnel", tunnel_type: "ipip", pulse: { type: "none", interval: "1s" } });
  ipvsadm(["-A", "-t", "203.0.113.60:80", "-s", "rr"]); // foreign
  await waitFor("the unreachable backend taken to weight 0", () => save().includes("-r 198.51.100.62:8080 -m -w 0"), 10_000);
  // Every check has reported (none: up within one interval): the table is settled.
  await Bun.sleep(1500);
});

afterAll(async () => {
  if (gorb && gorb.process.exitCode === null) await gorb.stop();
  ipvsadm(["-C"]);
  ipvs?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("restart on the same state directory", () => {
  test("kill -9 and start again: the kernel table never changes, and the API shows the same state", async () => {
    const before = save();
    expect(before).toContain("-r 198.51.100.61:8080 -m -w 50");
    expect(before).toContain("-r 198.51.100.62:8080 -m -w 0");
    expect(before).toContain("-r 198.51.100.63:8080 -m -w 0");
    const beforeDump = await dump(ipvs);
    const api = await apiState(gorb!.url);
    const s = sampler(ipvs);
    await Bun.sleep(200);
    gorb!.process.kill("SIGKILL");
    await gorb!.process.exited;
    const killed = performance.now();
    gorb = await startGorb(args(), PORT);
    const ready = performance.now() - killed;
    // Keep sampling through the first checks and reconcile periods after the restart.
    await Bun.sleep(2500);
    const { fast, slow } = await s.stop();
    const span = (x: Sample[]) => ((x.at(-1)!.at - x[0]!.at) / 1000).toFixed(1);
    const gap = Math.max(...fast.slice(1).map((x, i) => x.at - fast[i]!.at));
    console.log(
      `restart: ready ${ready.toFixed(0)} ms after the kill; ${fast.length} netlink samples over ${span(fast)} s (largest gap ${gap.toFixed(0)} ms), ${slow.length} ipvsadm -Sn samples over ${span(slow)} s`,
    );
    expect(fast.filter((x) => x.at > killed && x.at < killed + ready).length).toBeGreaterThan(10);
    expect(fast.filter((x) => x.table !== beforeDump).map((x) => x.table)).toEqual([]);
    expect(slow.filter((x) => x.table !== before).map((x) => x.table)).toEqual([]);
    expect(await apiState(gorb.url)).toEqual(api);
    const status = JSON.parse((await call(gorb.url, "GET", "/status")).text);
    expect(status.state_file).toBe(`${dir}/state.db`);
    expect(status.startup).toMatchObject({ restored_services: 4, restored_backends: 7, adopted_services: 4, repaired: 0, failed: 0, skipped: [] });
    expect(status.startup.kept_weights).toBeGreaterThanOrEqual(1);
    expect(gorb.output()).toContain("restored 4 service(s), 7 backend(s)");
  });

  test("SIGTERM stops quickly and keeps the table; the next start changes nothing", async () => {
    const before = save();
    const t0 = performance.now();
    const code = await gorb!.stop("SIGTERM");
    const stopMs = performance.now() - t0;
    console.log(`SIGTERM → exit in ${stopMs.toFixed(0)} ms`);
    expect(code).toBe(0);
    expect(stopMs).toBeLessThan(1000);
    expect(save()).toBe(before);
    gorb = await startGorb(args(), PORT);
    await Bun.sleep(300);
    expect(save()).toBe(before);
    const dry = JSON.parse((await call(gorb.url, "GET", "/reconcile")).text);
    expect(dry.operations).toEqual([]);
    expect(dry.foreign).toEqual(["tcp:203.0.113.60:80"]);
  });

  test("a change made through the API just before kill -9 is there after the restart", async () => {
    expect((await call(gorb!.url, "PATCH", "/service/web/up", { weight: 77 })).status).toBe(200);
    expect((await call(gorb!.url, "PUT", "/service/late", { host: "192.0.2.61", port: 80 })).status).toBe(200);
    gorb!.process.kill("SIGKILL");
    await gorb!.process.exited;
    gorb = await startGorb(args(), PORT);
    expect(JSON.parse((await call(gorb.url, "GET", "/service/web/up")).text).options.configured_weight).toBe(77);
    expect(JSON.parse((await call(gorb.url, "GET", "/service")).text)).toContain("late");
    expect(save()).toContain("-r 198.51.100.61:8080 -m -w 77");
  });
});
