/**
 * deploy/gorb.service's seccomp settings against what gorb's process really does
 * (sandbox-probe.ts: JIT, bun:ffi + libnl, SQLite, HTTP, TCP, UDP, sd_notify), emulated with
 * libseccomp (seccomp-exec.ts) since systemd is not PID 1 here.
 */
import { describe, expect, test as bunTest } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseUnit, testWithLibrary, testWithTool } from "./systemd-tools.ts";

const ROOT = join(import.meta.dir, "..", "..", "..");
const unit = parseUnit(readFileSync(join(ROOT, "deploy", "gorb.service"), "utf8"));
const filters = unit.get("SystemCallFilter") ?? [];
const haveAnalyze = testWithTool("systemd-analyze", "systemd");
const haveSeccomp = testWithLibrary("libseccomp.so.2", "seccomp_version", "libseccomp2");
const test = haveAnalyze === bunTest && haveSeccomp === bunTest ? bunTest : bunTest.skip;
const isRoot = process.getuid?.() === 0;

const EXEC = join(import.meta.dir, "seccomp-exec.ts");
const PROBE = join(import.meta.dir, "sandbox-probe.ts");

function run(prefix: string[], seccomp: string[], command: string[]) {
  const r = Bun.spawnSync([...prefix, process.execPath, EXEC, ...seccomp, "--", ...command], { cwd: ROOT, stderr: "pipe" });
  return { exitCode: r.exitCode, signal: r.signalCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** As DynamicUser= with AmbientCapabilities= would start it, when we are root to switch user. */
const dynamicUser = isRoot && Bun.which("setpriv")
  ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=+net_admin", "--ambient-caps=+net_admin"]
  : [];
const filterArgs = filters.flatMap((f) => ["--filter", f]);

describe("SystemCallFilter=", () => {
  test("the unit has an allow list to emulate", () => {
    expect(filters[0]).toBe("@system-service");
  });

  test("gorb's runtime makes no call outside it: under SIGSYS-on-denial, as an unprivileged user", () => {
    const r = run(dynamicUser, [...filterArgs, "--action", "kill"], [process.execPath, PROBE]);
    expect(r.signal ?? undefined).toBeUndefined();
    expect(r.stdout).toContain("probe ok");
    expect(r.stdout).toContain('"notify":"READY=1"');
    // The tcp check's prober ran under the filter too (io_uring where the kernel has it: @aio is in @system-service).
    expect(r.stdout).toContain('"tcpProbe":true');
    expect(JSON.parse(r.stdout.split("\n")[0]!).dfgCompiles).toBeLessThan(1000); // the JIT is on
  });

  test("as the unit says (EPERM on denial), as this user: the probe runs", () => {
    const r = run([], [...filterArgs, "--action", unit.get("SystemCallErrorNumber")?.[0] === "EPERM" ? "eperm" : "kill"], [process.execPath, PROBE]);
    expect(r.stdout).toContain("probe ok");
    expect(r.exitCode).toBe(0);
  });

  test("the emulation is live: a @privileged call (setuid) is denied", () => {
    const r = run([], [...filterArgs, "--action", "kill"], [process.execPath, "-e", "process.setuid(process.getuid())"]);
    expect(r.signal).toBe("SIGSYS");
  });
});

describe("MemoryDenyWriteExecute=", () => {
  test("'yes' would take the JIT away, and bun:ffi with it: gorb could not load libnl", () => {
    expect(unit.get("MemoryDenyWriteExecute")).toEqual(["no"]);
    const open = `import { openKernelInterfaces } from "./src/net/kernel-interfaces.ts"; openKernelInterfaces();`;
    const r = run([], ["--mdwe"], [process.execPath, "-e", open]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain("cannot load libnl-3.so.200: TypeError: bun:ffi requires the JIT");
  });
});

describe("ProcSubset=pid", () => {
  // Needs new mount and pid namespaces: root with CAP_SYS_ADMIN (not in a default container).
  const canUnshare = isRoot && Bun.which("unshare") !== null && Bun.spawnSync(["unshare", "-m", "-p", "-f", "true"]).success;
  (canUnshare ? test : bunTest.skip)("the probe needs nothing in /proc but its own entries", () => {
    expect(unit.get("ProcSubset")).toEqual(["pid"]);
    const script = `mount -t proc -o subset=pid,hidepid=invisible proc /proc && exec "$0" "$1"`;
    const r = Bun.spawnSync(["unshare", "-m", "-p", "-f", "sh", "-c", script, process.execPath, PROBE], { cwd: ROOT, stderr: "pipe" });
    expect(r.stderr.toString()).toBe("");
    expect(r.stdout.toString()).toContain("probe ok");
  });
});
