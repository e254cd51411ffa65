/**
 * Run a shell command inside a throw-away qemu VM that boots a stock Debian
 * kernel with IPVS (the host kernel has none). See test/kernel/README.md.
 *
 *   import { runInVm } from "./vm";
 *   const r = await runInVm({ command: "ipvsadm -Ln", share: REPO_ROOT });
 *
 * CLI:
 *   bun test/kernel/vm.ts setup            build/refresh the VM image (root)
 *   bun test/kernel/vm.ts run '<command>'  run it with the repo at /host,
 *                                          exit with the guest's exit code
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";

/** The repository root (two levels above this file). */
export const REPO_ROOT: string = resolve(import.meta.dir, "../..");
const IMAGE_SCRIPT = join(import.meta.dir, "vm-image.sh");

/** Exit code reported when the guest never reported one (panic, timeout, qemu failure). */
export const NO_EXIT_CODE = 125;

export interface RunInVmOptions {
  /** Shell command (busybox sh) run as root in the guest. Any length. */
  command: string;
  /** Host folder mounted read-write at /host in the guest (9p). The command starts in /host when given, else in /tmp. */
  share?: string;
  /** Guest RAM in MiB (default 1024; Bun needs more than 512). */
  memMb?: number;
  /** Host-side limit for the whole VM run (default 10 minutes). */
  timeoutMs?: number;
  /** Extra qemu user-net options, e.g. "hostfwd=tcp:127.0.0.1:14672-:4672" (the "hostfwd=" prefix may be left out). */
  hostfwd?: string;
  /** Where to keep the kernel console (ttyS0). Default: a temporary file, deleted after the run. */
  consoleLog?: string;
  /** Receives the guest command's stdout+stderr as it arrives. */
  onOutput?: (chunk: string) => void;
}

export interface RunInVmResult {
  /** The guest command's exit status (0..255), or 125 if the guest never reported one. */
  exitCode: number;
  /** Everything the guest command wrote to stdout and stderr (interleaved as written). */
  output: string;
  /** Last lines of the kernel console, plus qemu's own stderr and harness notes. For diagnostics. */
  consoleTail: string;
}

export function vmCacheDir(): string {
  return process.env.GORB_VM_CACHE ?? join(process.env.HOME ?? "/root", ".cache", "gorb-vm");
}

let imageReady: Promise<{ kernelVersion: string }> | undefined;

/**
 * Build the VM image if it is missing or stale (runs vm-image.sh; needs root
 * for the first build, ~15 s; afterwards ~0.1 s). Memoised per process.
 */
export function ensureVmImage(): Promise<{ kernelVersion: string }> {
  imageReady ??= (async () => {
    const proc = Bun.spawn(["bash", IMAGE_SCRIPT], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "inherit",
    });
    const out = await new Response(proc.stdout).text();
    const code = await proc.exited;
    const kernelVersion = out.trim().split("\n").pop() ?? "";
    if (code !== 0 || kernelVersion === "") {
      throw new Error(`${IMAGE_SCRIPT} failed (exit ${code})`);
    }
    return { kernelVersion };
  })();
  imageReady.catch(() => {
    imageReady = undefined;
  });
  return imageReady;
}

/**
 * KVM only where it is real hardware virtualisation. On kvm_pvm hosts (nested,
 * no vmx/svm) a stock kernel cannot run: qemu aborts or pauses forever.
 * GORB_VM_ACCEL=kvm|tcg overrides.
 */
function pickAccel(): "kvm" | "tcg" {
  const forced = process.env.GORB_VM_ACCEL;
  if (forced === "kvm" || forced === "tcg") return forced;
  try {
    const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
    if (/\b(vmx|svm)\b/.test(cpuinfo) && !existsSync("/sys/module/kvm_pvm") && existsSync("/dev/kvm")) {
      return "kvm";
    }
  } catch {
    // fall through
  }
  return "tcg";
}

/** Live qemu processes, killed if this process exits first. */
const live = new Set<Subprocess>();
let exitHookInstalled = false;
function track(proc: Subprocess): void {
  live.add(proc);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", () => {
      for (const p of live) p.kill("SIGKILL");
    });
  }
}

/** Kill every VM this process started and that is still running. */
export function killAllVms(): void {
  for (const p of live) p.kill("SIGTERM");
}

function cleanConsole(text: string, lines: number): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/\x1b(\[[0-9;?]*[A-Za-z]|c)/g, "")
      .replace(/\r/g, "")
      .split("\n")
      .slice(-lines)
      .join("\n")
  );
}

/** Boot the VM, run `command` as root, power off. Several may run at once. */
export async function runInVm(opts: RunInVmOptions): Promise<RunInVmResult> {
  await ensureVmImage();
  const cache = vmCacheDir();
  const kernel = join(cache, "kernel");
  const initrd = join(cache, "initramfs.cpio");

  const memMb = opts.memMb ?? 1024;
  const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
  // Per-run control folder, shared as 9p tag ctl0 at /run/gorb-vm: carries
  // the command (the kernel command line is limited to 2 KiB) and the full
  // exit status back.
  const runDir = await mkdtemp(join(tmpdir(), "gorb-vm-"));
  const consoleLog = opts.consoleLog ?? join(runDir, "console.log");
  await writeFile(join(runDir, "cmd.sh"), `${opts.command}\n`);

  const accel = pickAccel();
  // -cpu max under TCG: Bun's x64 build needs AVX2
  const cpu = accel === "kvm" ? "host" : "max";
  let netdev = "user,id=n0,restrict=on";
  if (opts.hostfwd) {
    netdev += opts.hostfwd.startsWith("hostfwd=") ? `,${opts.hostfwd}` : `,hostfwd=${opts.hostfwd}`;
  }
  const virtfs = (path: string, tag: string): string[] => [
    "-virtfs",
    `local,path=${path},mount_tag=${tag},security_model=none,id=${tag}`,
  ];
  for (const p of [opts.share, runDir]) {
    if (p !== undefined && p.includes(",")) throw new Error(`qemu cannot share a path containing ',': ${p}`);
  }

  // Backstop: coreutils timeout kills qemu even if this process dies; the
  // in-process timer below normally fires first. --foreground keeps qemu in
  // our process group, so Ctrl-C reaches it.
  const backstopS = Math.ceil(timeoutMs / 1000) + 15;
  const argv = [
    "timeout", "--foreground", "-k", "5", String(backstopS),
    "qemu-system-x86_64",
    "-accel", accel, "-cpu", cpu, "-smp", "1", "-m", String(memMb),
    "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
    "-kernel", kernel, "-initrd", initrd,
    // acpi=noirq: skip ACPI PCI interrupt-link setup (AML under TCG costs
    // ~0.15 s per PCI device); virtio uses MSI-X anyway
    "-append", "console=ttyS0 quiet panic=-1 acpi=noirq i8042.noaux i8042.nokbd vmcmdfile=/run/gorb-vm/cmd.sh",
    "-serial", `file:${consoleLog}`, // ttyS0: kernel console
    "-serial", "stdio", //               ttyS1: the command's output, raw
    "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
    "-netdev", netdev, "-device", "virtio-net-pci,netdev=n0,romfile=",
    ...(opts.share !== undefined ? virtfs(resolve(opts.share), "host0") : []),
    ...virtfs(runDir, "ctl0"),
  ];

  const notes: string[] = [];
  let timedOut = false;
  const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  track(proc);
  const timer = setTimeout(() => {
    timedOut = true;
    notes.push(`[vm] timed out after ${timeoutMs} ms; killed qemu`);
    proc.kill("SIGTERM");
    setTimeout(() => proc.kill("SIGKILL"), 5_000).unref();
  }, timeoutMs);

  try {
    let output = "";
    const decoder = new TextDecoder();
    const readOut = (async () => {
      for await (const bytes of proc.stdout) {
        const chunk = decoder.decode(bytes, { stream: true });
        if (chunk === "") continue;
        output += chunk;
        opts.onOutput?.(chunk);
      }
      const rest = decoder.decode();
      if (rest !== "") {
        output += rest;
        opts.onOutput?.(rest);
      }
    })();
    const readErr = new Response(proc.stderr).text();
    const status = await proc.exited;
    await readOut;
    const qemuErr = (await readErr).trim();

    // 1. the exit-code file the guest wrote on the control share (0..255)
    // 2. isa-debug-exit: qemu exits (rc<<1)|1 (0..127)
    // 3. nothing: 125
    let exitCode = NO_EXIT_CODE;
    let reported = false;
    if (!timedOut) {
      try {
        const text = (await readFile(join(runDir, "exit-code"), "utf8")).trim();
        if (/^\d+$/.test(text)) {
          exitCode = Number(text);
          reported = true;
        }
      } catch {
        // not written
      }
      if (!reported && proc.signalCode === null && status !== 124 && (status & 1) === 1) {
        exitCode = status >> 1;
        reported = true;
      }
    }
    if (!reported) notes.push(`[vm] guest reported no exit code (qemu status ${status}${proc.signalCode ? `, ${proc.signalCode}` : ""})`);

    let consoleText = "";
    try {
      consoleText = await readFile(consoleLog, "utf8");
    } catch {
      notes.push(`[vm] no console log at ${consoleLog}`);
    }
    const tail = [cleanConsole(consoleText, 40).trimEnd(), qemuErr && `[qemu] ${qemuErr}`, ...notes]
      .filter((s) => s !== "")
      .join("\n");
    return { exitCode, output, consoleTail: tail };
  } finally {
    clearTimeout(timer);
    live.delete(proc);
    await rm(runDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- CLI ----
async function main(args: string[]): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === "setup") {
    const { kernelVersion } = await ensureVmImage();
    console.log(kernelVersion);
    return 0;
  }
  if (verb === "run" && rest.length > 0) {
    const started = performance.now();
    process.on("SIGINT", () => killAllVms());
    process.on("SIGTERM", () => killAllVms());
    const env = process.env;
    const r = await runInVm({
      command: rest.join(" "),
      share: REPO_ROOT,
      memMb: env.GORB_VM_MEM ? Number(env.GORB_VM_MEM) : undefined,
      timeoutMs: env.GORB_VM_TIMEOUT ? Number(env.GORB_VM_TIMEOUT) * 1000 : undefined,
      hostfwd: env.GORB_VM_HOSTFWD,
      consoleLog: env.GORB_VM_CONSOLE,
      onOutput: (chunk) => process.stdout.write(chunk),
    });
    const secs = ((performance.now() - started) / 1000).toFixed(2);
    if (r.exitCode === NO_EXIT_CODE) process.stderr.write(`${r.consoleTail}\n`);
    process.stderr.write(`[vm] exit ${r.exitCode} after ${secs} s\n`);
    return r.exitCode;
  }
  process.stderr.write(
    "usage: bun test/kernel/vm.ts setup\n" +
      "       bun test/kernel/vm.ts run '<shell command>'\n" +
      "env: GORB_VM_CACHE GORB_VM_MEM GORB_VM_TIMEOUT(s) GORB_VM_HOSTFWD GORB_VM_CONSOLE GORB_VM_ACCEL\n",
  );
  return 2;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(NO_EXIT_CODE);
    },
  );
}
