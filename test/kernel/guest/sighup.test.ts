/**
 * SIGHUP reloads the config file and applies only the difference, against the real kernel (runs
 * inside the VM): dist/gorb starts from a YAML file, the file is edited, SIGHUP; the kernel table
 * (ipvsadm -Sn) becomes the edited file's, gorb logs exactly the changes, and services the edit
 * did not touch keep their kernel entries (sampled over netlink during the reload: never absent).
 * A broken edit changes nothing and names the file, the path and the field.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openKernelIpvs } from "../../../src/ipvs/kernel-ipvs.ts";
import type { Ipvs } from "../../../src/ipvs/ipvs.ts";
import { startGorb, type RunningGorb } from "./gorb-binary.ts";
import { ipvsadm } from "./ipvsadm.ts";

const PORT = 4696;
let dir: string;
let file: string;
let gorb: RunningGorb | undefined;
let ipvs: Ipvs;

const save = () => ipvsadm(["-Sn"]).trim().split("\n").sort().join("\n");

const BEFORE = `
reconcile-interval: 0
services:
  web:
    host: 192.0.2.80
    port: 80
    backends:
      a: { host: 198.51.100.81, port: 8080, weight: 10, pulse: { type: none } }
      b: { host: 198.51.100.82, port: 8080, weight: 20, pulse: { type: none } }
  dns:
    host: 192.0.2.80
    port: 53
    protocol: udp
    method: rr
    backends:
      r1: { host: 198.51.100.83, port: 53, pulse: { type: none } }
  old:
    host: 192.0.2.81
    port: 80
`;

const AFTER = `
reconcile-interval: 0
services:
  web:
    host: 192.0.2.80
    port: 80
    backends:
      a: { host: 198.51.100.81, port: 8080, weight: 10, pulse: { type: none } }
      b: { host: 198.51.100.82, port: 8080, weight: 5, pulse: { type: none } }
      c: { host: 198.51.100.84, port: 8080, weight: 30, pulse: { type: none } }
  dns:
    host: 192.0.2.80
    port: 53
    protocol: udp
    method: rr
    backends:
      r1: { host: 198.51.100.83, port: 53, pulse: { type: none } }
  mail:
    host: 192.0.2.82
    port: 25
    method: sh
`;

/** Waits for the n-th "config reload: FILE: ..." summary line and returns the lines of that reload. */
async function reloaded(n: number): Promise<string[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const lines = gorb!.output().split("\n");
    const summaries = lines.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith(`gorb: config reload: ${file}: `));
    if (summaries.length >= n) {
      const end = summaries[n - 1]![1];
      const start = n > 1 ? summaries[n - 2]![1] + 1 : 0;
      return lines.slice(start, end + 1).filter((l) => l.startsWith("gorb: config reload"));
    }
    if (Date.now() > deadline) throw new Error(`no reload #${n} within 20 s:\n${gorb!.output()}`);
    await Bun.sleep(50);
  }
}

beforeAll(async () => {
  ipvsadm(["-C"]);
  ipvs = await openKernelIpvs();
  dir = mkdtempSync("/tmp/gorb-hup-");
  file = join(dir, "gorb.yaml");
  writeFileSync(file, BEFORE);
  gorb = await startGorb(["--config", file], PORT);
});

afterAll(async () => {
  if (gorb && gorb.process.exitCode === null) await gorb.stop("SIGKILL");
  ipvsadm(["-C"]);
  ipvs?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("SIGHUP with an edited config file", () => {
  test("applies just the difference; untouched services never leave the kernel", async () => {
    expect(save()).toBe(
      [
        "-A -t 192.0.2.80:80 -s wrr",
        "-A -t 192.0.2.81:80 -s wrr",
        "-A -u 192.0.2.80:53 -s rr",
        "-a -t 192.0.2.80:80 -r 198.51.100.81:8080 -m -w 10",
        "-a -t 192.0.2.80:80 -r 198.51.100.82:8080 -m -w 20",
        "-a -u 192.0.2.80:53 -r 198.51.100.83:53 -m -w 100",
      ].sort().join("\n"),
    );
    writeFileSync(file, AFTER);
    // Sample the untouched dns service and web's untouched backend a over netlink while the reload runs.
    let sampling = true;
    const missing: string[] = [];
    const sampler = (async () => {
      while (sampling) {
        const table = await ipvs.table();
        const dns = table.find((e) => "address" in e.service.key && e.service.key.port === 53);
        const web = table.find((e) => "address" in e.service.key && e.service.key.port === 80 && e.service.key.address === "192.0.2.80");
        if (!dns || dns.destinations.length !== 1) missing.push("dns");
        if (!web?.destinations.some((d) => d.address === "198.51.100.81" && d.weight === 10)) missing.push("web/a");
        await Bun.sleep(5);
      }
    })();
    gorb!.process.kill("SIGHUP");
    const lines = await reloaded(1);
    sampling = false;
    await sampler;
    expect(missing).toEqual([]);
    expect(lines.slice(0, -1).sort()).toEqual(
      [
        "gorb: config reload: create backend [web/c]: created",
        "gorb: config reload: update backend [web/b]: updated",
        "gorb: config reload: create service [mail]: created",
        "gorb: config reload: delete service [old]: deleted",
      ].sort(),
    );
    expect(lines.at(-1)).toBe(`gorb: config reload: ${file}: 4 changes`);
    expect(save()).toBe(
      [
        "-A -t 192.0.2.80:80 -s wrr",
        "-A -t 192.0.2.82:25 -s sh",
        "-A -u 192.0.2.80:53 -s rr",
        "-a -t 192.0.2.80:80 -r 198.51.100.81:8080 -m -w 10",
        "-a -t 192.0.2.80:80 -r 198.51.100.82:8080 -m -w 5",
        "-a -t 192.0.2.80:80 -r 198.51.100.84:8080 -m -w 30",
        "-a -u 192.0.2.80:53 -r 198.51.100.83:53 -m -w 100",
      ].sort().join("\n"),
    );
  });

  test("a second SIGHUP with the file unchanged changes nothing", async () => {
    const table = save();
    gorb!.process.kill("SIGHUP");
    expect(await reloaded(2)).toEqual([`gorb: config reload: ${file}: 0 changes`]);
    expect(save()).toBe(table);
  });

  test("a broken edit changes nothing and names the file, the path and the field", async () => {
    const table = save();
    writeFileSync(file, AFTER.replace("weight: 30", "weight: heavy"));
    gorb!.process.kill("SIGHUP");
    const problem = new RegExp(`^gorb: config reload: ${file}:\\d+:\\d+: services\\.web\\.backends\\.c\\.weight: `, "m");
    // The summary and the problem are two writes to the pipe: wait for the second.
    const deadline = Date.now() + 20_000;
    while (!problem.test(gorb!.output()) && Date.now() < deadline) await Bun.sleep(50);
    const lines = gorb!.output().split("\n");
    expect(lines).toContain(`gorb: config reload: ${file} has a problem; nothing was changed`);
    expect(lines).toContainEqual(expect.stringMatching(problem));
    expect(save()).toBe(table);
    expect(gorb!.process.exitCode).toBeNull();
  });
});
