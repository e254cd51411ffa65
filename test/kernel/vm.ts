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
import { existsSync, readFileSync, realpathSync, rmSync } from "node:fs";
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
  /** Shell command (dash, with busybox applets, iproute2 and ipvsadm on PATH) run as root in the guest. Any length. */
  command: string;
  /** Host folder mounted read-write at /host in the guest (9p). The command starts in /host when given, else in /tmp. */
  share?: string;
  /** Guest RAM in MiB (default 1024; Bun needs more than 512). */
  memMb?: number;
  /** Virtual CPUs (default 1; under TCG each is one host thread, and the host has 2 cores). */
  cpus?: number;
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

const hasSetpriv = Bun.which("setpriv") !== null;

/** Live qemu processes and their run folders, cleaned up if this process ends first. */
const live = new Map<Subprocess, string>();
let hooksInstalled = false;
function cleanupNow(): void {
  for (const [p, dir] of live) {
    p.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
  live.clear();
}
function track(proc: Subprocess, runDir: string): void {
  live.set(proc, runDir);
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", cleanupNow);
  for (const [sig, num] of [["SIGINT", 2], ["SIGTERM", 15]] as const) {
    process.on(sig, () => {
      cleanupNow();
      // keep the default "die on the signal" unless somebody else handles it
      if (process.listenerCount(sig) <= 1) process.exit(128 + num);
    });
  }
}

/** Kill every VM this process started and that is still running (their runs resolve with 125). */
export function killAllVms(): void {
  for (const p of live.keys()) p.kill("SIGTERM");
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
  // resolve the symlink once: a concurrent rebuild switches it atomically
  const image = realpathSync(join(vmCacheDir(), "current"));
  const kernel = join(image, "kernel");
  const initrd = join(image, "initramfs.cpio");

  if (opts.share !== undefined && !existsSync(opts.share)) throw new Error(`share does not exist: ${opts.share}`);
  // qemu's -virtfs option syntax has no escape for ','
  if (opts.share?.includes(",")) throw new Error(`qemu cannot share a path containing ',': ${opts.share}`);
  const memMb = opts.memMb ?? 1024;
  const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
  // Per-run control folder, shared as 9p tag ctl0 at /run/gorb-vm: carries
  // the command (the kernel command line is limited to 2 KiB) and the full
  // exit status back.
  const runDir = await mkdtemp(join(tmpdir(), "gorb-vm-"));
  const consoleLog = opts.consoleLog ?? join(runDir, "console.log");
  const outSock = join(runDir, "out.sock");
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

  // Backstop: coreutils timeout kills qemu even if this process dies; the
  // in-process timer below normally fires first. --foreground keeps qemu in
  // our process group, so Ctrl-C reaches it.
  const backstopS = Math.ceil(timeoutMs / 1000) + 15;
  // setpriv --pdeathsig: if this process dies (even by SIGKILL), timeout gets
  // SIGTERM and passes it on to qemu; if timeout dies, qemu gets SIGKILL.
  const deathsig = (sig: string): string[] => (hasSetpriv ? ["setpriv", "--pdeathsig", sig, "--"] : []);
  const argv = [
    ...deathsig("SIGTERM"),
    "timeout", "--foreground", "-k", "5", String(backstopS),
    ...deathsig("SIGKILL"),
    "qemu-system-x86_64",
    "-accel", accel, "-cpu", cpu, "-smp", String(opts.cpus ?? 1), "-m", String(memMb),
    "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
    "-kernel", kernel, "-initrd", initrd,
    // acpi=noirq: skip ACPI PCI interrupt-link setup (AML under TCG costs
    // ~0.15 s per PCI device); virtio uses MSI-X anyway
    "-append", "console=ttyS0 quiet panic=-1 acpi=noirq i8042.noaux i8042.nokbd vmcmdfile=/run/gorb-vm/cmd.sh",
    "-serial", `file:${consoleLog}`, // ttyS0: kernel console
    // the command's stdout+stderr: a virtio-serial port (a 16550 UART
    // manages ~150 KB/s under TCG, this one several MB/s) whose chardev is a
    // unix socket we listen on. Not "-chardev stdio": its stdin is /dev/null,
    // that EOF "disconnects" the port and the guest's writes block forever.
    "-device", "virtio-serial-pci",
    "-chardev", `socket,id=gout,path=${outSock}`,
    "-device", "virtserialport,chardev=gout,name=gorb.out",
    "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
    "-netdev", netdev, "-device", "virtio-net-pci,netdev=n0,romfile=",
    ...(opts.share !== undefined ? virtfs(resolve(opts.share), "host0") : []),
    ...virtfs(runDir, "ctl0"),
  ];

  const notes: string[] = [];
  let timedOut = false;
  let output = "";
  const decoder = new TextDecoder();
  const emit = (chunk: string): void => {
    if (chunk === "") return;
    output += chunk;
    opts.onOutput?.(chunk);
  };
  let connected = false;
  let outClosed!: () => void;
  const outDone = new Promise<void>((res) => {
    outClosed = res;
  });
  const listener = Bun.listen<undefined>({
    unix: outSock,
    socket: {
      open: () => {
        connected = true;
      },
      data: (_s, bytes) => emit(decoder.decode(bytes, { stream: true })),
      close: () => outClosed(),
      error: () => outClosed(),
    },
  });
  const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  track(proc, runDir);
  const timer = setTimeout(() => {
    timedOut = true;
    notes.push(`[vm] timed out after ${timeoutMs} ms; killed qemu`);
    proc.kill("SIGTERM");
    setTimeout(() => proc.kill("SIGKILL"), 5_000).unref();
  }, timeoutMs);

  try {
    const readErr = new Response(proc.stderr).text();
    const status = await proc.exited;
    // the socket closes when qemu exits; give the last bytes a moment
    if (connected) await Promise.race([outDone, Bun.sleep(2_000)]);
    emit(decoder.decode());
    const qemuErr = (await readErr).trim();

    let consoleText = "";
    try {
      consoleText = await readFile(consoleLog, "utf8");
    } catch {
      notes.push(`[vm] no console log at ${consoleLog}`);
    }

    // The guest's /init reports the status twice: the exit-code file on the
    // control share (0..255), and a VM_EXIT_CODE=N console line. qemu's own
    // status ((rc<<1)|1 via isa-debug-exit) is not trusted alone: qemu
    // failing to start also exits 1. Nothing reported (panic, timeout): 125.
    let exitCode: number | undefined;
    if (!timedOut) {
      try {
        const text = (await readFile(join(runDir, "exit-code"), "utf8")).trim();
        if (/^\d+$/.test(text)) exitCode = Number(text);
      } catch {
        // not written
      }
      if (exitCode === undefined) {
        const marks = [...consoleText.matchAll(/VM_EXIT_CODE=(\d+)/g)];
        const last = marks.at(-1)?.[1];
        if (last !== undefined) exitCode = Number(last);
      }
    }
    if (exitCode === undefined) {
      const how = proc.signalCode ? `signal ${proc.signalCode}` : `status ${status}`;
      notes.push(`[vm] guest reported no exit code (qemu ${how})`);
    }

    const tail = [cleanConsole(consoleText, 40).trimEnd(), qemuErr && `[qemu] ${qemuErr}`, ...notes]
      .filter((s) => s !== "")
      .join("\n");
    return { exitCode: exitCode ?? NO_EXIT_CODE, output, consoleTail: tail };
  } finally {
    clearTimeout(timer);
    listener.stop(true);
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
    const env = process.env;
    const r = await runInVm({
      command: rest.join(" "),
      share: REPO_ROOT,
      memMb: env.GORB_VM_MEM ? Number(env.GORB_VM_MEM) : undefined,
      cpus: env.GORB_VM_CPUS ? Number(env.GORB_VM_CPUS) : undefined,
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
      "env: GORB_VM_CACHE GORB_VM_MEM GORB_VM_CPUS GORB_VM_TIMEOUT(s) GORB_VM_HOSTFWD GORB_VM_CONSOLE GORB_VM_ACCEL\n",
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
