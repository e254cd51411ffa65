/**
 * Why deploy/gorb.service can say ProtectKernelModules=yes: IPVS scheduler modules are loaded by
 * the kernel itself (request_module → the usermode helper, with init's credentials and mounts),
 * not by the caller. Here gorb's own driver, in a sandbox like that directive's (no
 * CAP_SYS_MODULE, even in the bounding set; /lib/modules hidden), adds a service whose scheduler
 * module is not loaded, and the kernel loads it. Runs inside the VM, as root.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";

const MODPROBE = "/proc/sys/kernel/modprobe";
let savedModprobe = "";

const loaded = (module: string) => readFileSync("/proc/modules", "utf8").split("\n").some((l) => l.startsWith(`${module} `));

function sh(script: string): { ok: boolean; out: string } {
  const r = Bun.spawnSync(["sh", "-c", script], { stderr: "pipe" });
  return { ok: r.success, out: r.stdout.toString() + r.stderr.toString() };
}

beforeAll(() => {
  savedModprobe = readFileSync(MODPROBE, "utf8").trim();
  // The VM has busybox's modprobe at /bin, not the kernel's default /sbin/modprobe (a Debian host has kmod's there).
  writeFileSync(MODPROBE, "/bin/modprobe\n");
});

afterAll(() => {
  writeFileSync(MODPROBE, `${savedModprobe}\n`);
  if (!loaded("ip_vs_sh")) sh("modprobe ip_vs_sh"); // other guest tests use every scheduler
});

/** Run by the sandboxed child: drop CAP_SYS_MODULE for good, then add an IPVS service with "sh". */
const CHILD = `
import { dlopen, FFIType, ptr } from "bun:ffi";
import { readdirSync, readFileSync } from "node:fs";
import { openKernelIpvs } from "./src/ipvs/kernel-ipvs.ts";
const { i32, u64, ptr: p } = FFIType;
const libc = dlopen("libc.so.6", {
  prctl: { args: [i32, u64, u64, u64, u64], returns: i32 },
  capget: { args: [p, p], returns: i32 },
  capset: { args: [p, p], returns: i32 },
}).symbols;
const CAP_SYS_MODULE = 16, PR_CAPBSET_DROP = 24;
if (libc.prctl(PR_CAPBSET_DROP, CAP_SYS_MODULE, 0, 0, 0) !== 0) throw new Error("PR_CAPBSET_DROP failed");
const header = new Uint32Array([0x20080522, 0]); // _LINUX_CAPABILITY_VERSION_3, this process
const data = new Uint32Array(6); // { effective, permitted, inheritable } x 2
if (libc.capget(ptr(header), ptr(data)) !== 0) throw new Error("capget failed");
for (const i of [0, 1, 2]) data[i] = data[i]! & ~(1 << CAP_SYS_MODULE);
if (libc.capset(ptr(header), ptr(data)) !== 0) throw new Error("capset failed");
const status = readFileSync("/proc/self/status", "utf8");
const capBit = (field) => (BigInt("0x" + status.match(new RegExp(field + ":\\\\s*([0-9a-f]+)"))[1]) >> 16n) & 1n;
console.log("sandbox", JSON.stringify({ bnd: Number(capBit("CapBnd")), eff: Number(capBit("CapEff")), modules: readdirSync("/lib/modules").length }));
const ipvs = await openKernelIpvs();
const key = { family: "inet", protocol: "tcp", address: "192.0.2.60", port: 80 };
const service = { key, scheduler: "sh", flags: [], timeout: 0, netmask: 32, persistenceEngine: "" };
const [added] = await ipvs.apply([{ op: "add-service", service }]);
console.log("add", JSON.stringify(added?.ok ? "ok" : String(added?.error)));
await ipvs.apply([{ op: "delete-service", key }]);
ipvs.close();
`;

test("a scheduler module is autoloaded for a caller without CAP_SYS_MODULE and without /lib/modules", () => {
  const unload = sh("rmmod ip_vs_sh");
  // A service left behind by another test (any namespace) that uses sh holds the module.
  if (!unload.ok) throw new Error(`cannot unload ip_vs_sh to test its autoload: ${unload.out.trim()}\n${sh("ipvsadm -Ln").out}`);
  expect(loaded("ip_vs_sh")).toBe(false);
  const r = Bun.spawnSync(["unshare", "-m", "sh", "-c", `mount -t tmpfs none /lib/modules && exec "$0" -e "$1"`, process.execPath, CHILD], {
    cwd: process.cwd(),
    stderr: "pipe",
  });
  const out = r.stdout.toString();
  expect(r.stderr.toString()).toBe("");
  expect(out).toContain('sandbox {"bnd":0,"eff":0,"modules":0}');
  expect(out).toContain('add "ok"');
  expect(loaded("ip_vs_sh")).toBe(true);
});
