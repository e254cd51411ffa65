/**
 * Reconcile against the real kernel (runs inside the VM): drift made with ipvsadm behind gorb's
 * back — `ipvsadm -C`, a changed weight or scheduler, a deleted destination — is repaired within
 * one period (--reconcile-interval 1s); a foreign service is left alone; GET/POST /reconcile;
 * -f; --cleanup-on-exit removes gorb's services and nothing else.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { call, startGorb, type RunningGorb } from "./gorb-binary.ts";
import { ipvsadm } from "./ipvsadm.ts";

const PORT = 4691;
const VIP = "192.0.2.70:80";
const save = () => ipvsadm(["-Sn"]).trim().split("\n").filter(Boolean).sort().join("\n");
const dirs: string[] = [];
const newDir = () => {
  const d = mkdtempSync("/tmp/gorb-reconcile-");
  dirs.push(d);
  return d;
};

async function waitFor(what: string, ok: () => boolean, withinMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < withinMs) {
    if (ok()) return performance.now() - started;
    await Bun.sleep(25);
  }
  throw new Error(`${what}: not within ${withinMs} ms\n${save()}`);
}

/** The log line may reach us a little after the repair itself. */
async function waitForLog(gorb: RunningGorb, text: string): Promise<void> {
  await waitFor(`log line ${JSON.stringify(text)}`, () => gorb.output().includes(text), 3000).catch((e) => {
    throw new Error(`${(e as Error).message}\n--- gorb's output:\n${gorb.output()}`);
  });
}

async function createServices(url: string): Promise<void> {
  const put = async (path: string, body: unknown) => {
    const r = await call(url, "PUT", path, body);
    if (r.status !== 200) throw new Error(`PUT ${path}: ${r.status} ${r.text}`);
  };
  await put("/service/web", { host: "192.0.2.70", port: 80, method: "wrr" });
  await put("/service/web/a", { host: "198.51.100.71", port: 8080, weight: 50, pulse: { type: "none", interval: "1s" } });
  await put("/service/web/b", { host: "198.51.100.72", port: 8080, weight: 20, pulse: { type: "none", interval: "1s" } });
  await put("/service/mark", { fwmark: 70, method: "rr", persistent: true, timeout: 120, netmask: 24 });
  await put("/service/mark/dr", { host: "198.51.100.73", port: 0, method: "dr", pulse: { type: "none", interval: "1s" } });
}

afterAll(() => {
  ipvsadm(["-C"]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("periodic reconcile (--reconcile-interval 1s)", () => {
  let gorb: RunningGorb;
  let clean: string;
  // The period, plus slack for the emulated CPU.
  const WITHIN = 1000 + 2500;

  beforeAll(async () => {
    ipvsadm(["-C"]);
    gorb = await startGorb(["--state-dir", newDir(), "--reconcile-interval", "1s"], PORT);
    await createServices(gorb.url);
    await Bun.sleep(1500); // first checks reported
    clean = save();
  });
  afterAll(async () => {
    await gorb?.stop();
  });
  afterEach(async () => {
    await waitFor("the table back to what gorb wants", () => save() === clean, WITHIN);
  });

  test("the table gorb programs shows no drift (the kernel reads back what gorb wrote)", async () => {
    const dry = JSON.parse((await call(gorb.url, "GET", "/reconcile")).text);
    expect(dry).toMatchObject({ dry_run: true, operations: [], foreign: [] });
  });

  test("`ipvsadm -C` is repaired within one period", async () => {
    ipvsadm(["-C"]);
    const ms = await waitFor("repair of ipvsadm -C", () => save() === clean, WITHIN);
    console.log(`ipvsadm -C repaired after ${ms.toFixed(0)} ms`);
    await waitForLog(gorb, "reconcile (periodic): add-service service [web] (tcp:192.0.2.70:80): service missing from the kernel: repaired");
  });

  test("a weight changed with ipvsadm -e is put back", async () => {
    ipvsadm(["-e", "-t", VIP, "-r", "198.51.100.71:8080", "-m", "-w", "3"]);
    expect(save()).toContain("-w 3");
    await waitFor("weight 50 again", () => save() === clean, WITHIN);
    await waitForLog(gorb, "backend [a] 198.51.100.71:8080: weight 3, want 50: repaired");
  });

  test("a scheduler changed with ipvsadm -E is put back", async () => {
    ipvsadm(["-E", "-t", VIP, "-s", "rr"]);
    await waitFor("wrr again", () => save() === clean, WITHIN);
    await waitForLog(gorb, "scheduler rr, want wrr: repaired");
  });

  test("a destination deleted with ipvsadm -d is put back", async () => {
    ipvsadm(["-d", "-t", VIP, "-r", "198.51.100.72:8080"]);
    await waitFor("destination back", () => save() === clean, WITHIN);
  });

  test("a foreign service added with ipvsadm -A is left alone", async () => {
    ipvsadm(["-A", "-t", "203.0.113.70:80", "-s", "rr"]);
    ipvsadm(["-a", "-t", "203.0.113.70:80", "-r", "198.51.100.79:80", "-m", "-w", "5"]);
    const withForeign = save();
    await Bun.sleep(2500); // two periods
    expect(save()).toBe(withForeign);
    const dry = JSON.parse((await call(gorb.url, "GET", "/reconcile")).text);
    expect(dry.foreign).toEqual(["tcp:203.0.113.70:80"]);
    expect(dry.operations).toEqual([]);
    const status = JSON.parse((await call(gorb.url, "GET", "/status")).text);
    expect(status.reconcile.runs).toBeGreaterThan(3);
    expect(status.reconcile.repaired).toBeGreaterThanOrEqual(6);
    ipvsadm(["-D", "-t", "203.0.113.70:80"]);
  });
});

describe("on demand and at start and exit", () => {
  let gorb: RunningGorb | undefined;
  afterEach(async () => {
    if (gorb && gorb.process.exitCode === null) await gorb.stop();
    gorb = undefined;
  });

  test("GET /reconcile shows the drift and changes nothing; POST repairs it at once", async () => {
    ipvsadm(["-C"]);
    gorb = await startGorb(["--state-dir", newDir(), "--reconcile-interval", "0"], PORT);
    await createServices(gorb.url);
    await Bun.sleep(1500);
    const clean = save();
    ipvsadm(["-e", "-t", VIP, "-r", "198.51.100.71:8080", "-m", "-w", "9"]);
    ipvsadm(["-D", "-f", "70"]);
    const drifted = save();
    const dry = JSON.parse((await call(gorb.url, "GET", "/reconcile")).text);
    expect(dry.operations.map((o: { op: string; reason: string }) => `${o.op}: ${o.reason}`)).toEqual([
      "update-destination: weight 9, want 50",
      "add-service: service missing from the kernel",
      "add-destination: service missing from the kernel",
    ]);
    expect(save()).toBe(drifted);
    const post = await call(gorb.url, "POST", "/reconcile");
    expect(post.status).toBe(200);
    expect(JSON.parse(post.text)).toMatchObject({ dry_run: false, repaired: 3, failed: 0 });
    expect(save()).toBe(clean);
  });

  test("-f flushes the whole table at start, then applies desired state", async () => {
    ipvsadm(["-C"]);
    const dir = newDir();
    gorb = await startGorb(["--state-dir", dir], PORT);
    await createServices(gorb.url);
    await Bun.sleep(1500);
    const clean = save();
    await gorb.stop();
    ipvsadm(["-A", "-t", "203.0.113.71:80", "-s", "rr"]);
    gorb = await startGorb(["--state-dir", dir, "-f"], PORT);
    expect(save()).toBe(clean);
    await waitForLog(gorb, "flushed the whole IPVS table (-f)");
  });

  test("--cleanup-on-exit + SIGTERM removes gorb's services and nothing else", async () => {
    ipvsadm(["-C"]);
    const dir = newDir();
    gorb = await startGorb(["--state-dir", dir, "--cleanup-on-exit"], PORT);
    await createServices(gorb.url);
    ipvsadm(["-A", "-t", "203.0.113.72:80", "-s", "rr"]);
    ipvsadm(["-a", "-t", "203.0.113.72:80", "-r", "198.51.100.79:80", "-m", "-w", "5"]);
    const t0 = performance.now();
    expect(await gorb.stop("SIGTERM")).toBe(0);
    console.log(`SIGTERM with --cleanup-on-exit → exit in ${(performance.now() - t0).toFixed(0)} ms`);
    expect(save()).toBe(["-A -t 203.0.113.72:80 -s rr", "-a -t 203.0.113.72:80 -r 198.51.100.79:80 -m -w 5"].sort().join("\n"));
    await waitForLog(gorb, "cleanup: removed 2 service(s)");
    // Desired state is still stored: the next start puts gorb's services back, beside the foreign one.
    gorb = await startGorb(["--state-dir", dir], PORT);
    expect(JSON.parse((await call(gorb.url, "GET", "/service")).text)).toEqual(["mark", "web"]);
    expect(save()).toContain("-A -t 192.0.2.70:80 -s wrr");
    expect(save()).toContain("-A -t 203.0.113.72:80 -s rr");
  });
});
