/**
 * @module Runs a command under the seccomp filters systemd would install for a unit's
 * SystemCallFilter= and MemoryDenyWriteExecute=yes, with libseccomp through bun:ffi, then
 * execv(). How gorb's sandbox is tested without systemd as PID 1.
 *
 *   bun seccomp-exec.ts [--filter "@system-service"]... [--action kill|eperm] [--mdwe] -- CMD ARGS...
 *
 * --filter takes SystemCallFilter= values in order: the first without "~" starts an allow
 * list; "~…" removes from it. Groups are expanded with `systemd-analyze syscall-filter`.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";

/** Every syscall group as systemd-analyze lists them: name → members (syscalls and groups). */
export function syscallGroups(): Map<string, string[]> {
  const out = Bun.spawnSync(["systemd-analyze", "syscall-filter"]).stdout.toString();
  const groups = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of out.split("\n")) {
    const text = line.trim();
    if (text === "" || text.startsWith("#")) continue;
    if (!line.startsWith(" ") && text.startsWith("@")) groups.set(text, (current = []));
    else current?.push(text);
  }
  return groups;
}

function expand(name: string, groups: Map<string, string[]>, seen = new Set<string>()): Set<string> {
  if (!name.startsWith("@")) return new Set([name]);
  const members = groups.get(name);
  if (!members) throw new Error(`unknown syscall group ${name}`);
  const out = new Set<string>();
  for (const m of members) {
    if (seen.has(m)) continue;
    seen.add(m);
    for (const s of expand(m, groups, seen)) out.add(s);
  }
  return out;
}

/** The syscalls a sequence of SystemCallFilter= values allows. */
export function allowedSyscalls(filters: readonly string[], groups = syscallGroups()): Set<string> {
  let allowed: Set<string> | undefined;
  for (const value of filters) {
    const deny = value.startsWith("~");
    const names = (deny ? value.slice(1) : value).split(/\s+/).filter(Boolean);
    const set = new Set(names.flatMap((n) => [...expand(n, groups)]));
    if (deny) {
      if (!allowed) throw new Error("a deny list alone is not what this tool emulates");
      for (const s of set) allowed.delete(s);
    } else {
      allowed ??= new Set();
      for (const s of set) allowed.add(s);
    }
  }
  return allowed ?? new Set();
}

const SCMP_ACT_KILL_PROCESS = 0x80000000;
const SCMP_ACT_ALLOW = 0x7fff0000;
const SCMP_ACT_ERRNO = (errno: number) => (0x00050000 | errno) >>> 0;
const EPERM = 1;
const SCMP_CMP_MASKED_EQ = 7;
const PROT_WRITE = 2;
const PROT_EXEC = 4;

function seccomp() {
  const { u32, i32, ptr: p } = FFIType;
  return dlopen("libseccomp.so.2", {
    seccomp_init: { args: [u32], returns: p },
    seccomp_syscall_resolve_name: { args: [p], returns: i32 },
    seccomp_rule_add_array: { args: [p, u32, i32, u32, p], returns: i32 },
    seccomp_load: { args: [p], returns: i32 },
  }).symbols;
}

function cstring(text: string): Buffer {
  return Buffer.from(`${text}\0`);
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const split = args.indexOf("--");
  if (split < 0 || split === args.length - 1) throw new Error("usage: seccomp-exec.ts [--filter F]... [--action kill|eperm] [--mdwe] -- CMD ARGS...");
  const filters: string[] = [];
  let action = "kill";
  let mdwe = false;
  for (let i = 0; i < split; i++) {
    if (args[i] === "--filter") filters.push(args[++i]!);
    else if (args[i] === "--action") action = args[++i]!;
    else if (args[i] === "--mdwe") mdwe = true;
    else throw new Error(`unknown option ${args[i]}`);
  }
  const command = args.slice(split + 1);
  const allowed = filters.length > 0 ? allowedSyscalls(filters) : undefined;
  // Everything bun:ffi needs is bound before the filters: afterwards it may not be allowed to.
  const { execvp } = dlopen("libc.so.6", { execvp: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.i32 } }).symbols;
  const strings = command.map(cstring);
  const argv = new BigUint64Array(strings.length + 1);
  strings.forEach((s, i) => (argv[i] = BigInt(ptr(s))));
  const sc = seccomp();
  // The memory filter first: loading it needs seccomp(), which the allow list may forbid.
  if (mdwe) {
    // systemd's seccomp_memory_deny_write_execute(): no W+X mmap, no mprotect to PROT_EXEC.
    const ctx = sc.seccomp_init(SCMP_ACT_ALLOW);
    const rule = (name: string, mask: number, value: number) => {
      const cmp = new BigUint64Array([2n | (BigInt(SCMP_CMP_MASKED_EQ) << 32n), BigInt(mask), BigInt(value)]);
      const nr = sc.seccomp_syscall_resolve_name(ptr(cstring(name)));
      if (sc.seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1, ptr(cmp)) !== 0) throw new Error(`rule for ${name} failed`);
    };
    rule("mmap", PROT_WRITE | PROT_EXEC, PROT_WRITE | PROT_EXEC);
    rule("mprotect", PROT_EXEC, PROT_EXEC);
    rule("pkey_mprotect", PROT_EXEC, PROT_EXEC);
    if (sc.seccomp_load(ctx) !== 0) throw new Error("seccomp_load (memory-deny-write-execute) failed");
  }
  // libseccomp sets no_new_privs itself before loading, as systemd's NoNewPrivileges= would.
  if (allowed) {
    const ctx = sc.seccomp_init(action === "kill" ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_ERRNO(EPERM));
    for (const name of allowed) {
      const nr = sc.seccomp_syscall_resolve_name(ptr(cstring(name)));
      if (nr >= 0) sc.seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 0, null);
    }
    if (sc.seccomp_load(ctx) !== 0) throw new Error("seccomp_load (allow list) failed");
  }
  execvp(ptr(strings[0]!), ptr(argv));
  throw new Error(`execvp ${command[0]} failed`);
}
