/**
 * Host-side checks of the VM harness itself (test/kernel/vm.ts). Boots about
 * eight VMs (~40 s under TCG); needs the image (root for the first build).
 * Not picked up by a plain `bun test`; run it explicitly:
 *   bun test ./test/kernel/selftest/harness.check.ts
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureVmImage, NO_EXIT_CODE, REPO_ROOT, runInVm } from "../vm.ts";

const BOOT = 120_000;

describe("runInVm", () => {
  test("image is built and names its kernel", async () => {
    const { kernelVersion } = await ensureVmImage();
    expect(kernelVersion).toMatch(/^\d+\.\d+\.\d+-\d+-amd64$/);
  }, BOOT);

  test("ipvsadm in the guest", async () => {
    const r = await runInVm({
      command:
        "ipvsadm -A -t 192.0.2.1:80 -s rr && ipvsadm -a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m && ipvsadm -Ln",
    });
    expect(r.exitCode).toBe(0);
    expect(r.output).toContain("TCP  192.0.2.1:80 rr");
    expect(r.output).toMatch(/198\.51\.100\.1:8080\s+Masq\s+1/);
  }, BOOT);

  test("exit codes: 3, 200 (above the 7 bits of isa-debug-exit); stderr and streaming", async () => {
    const chunks: string[] = [];
    const r = await runInVm({ command: "echo out; echo err >&2; exit 3", onOutput: (c) => chunks.push(c) });
    expect(r.exitCode).toBe(3);
    expect(r.output).toBe("out\nerr\n");
    expect(chunks.join("")).toBe(r.output);
    const big = await runInVm({ command: "exit 200" });
    expect(big.exitCode).toBe(200);
  }, BOOT);

  test("long command (beyond the 2 KiB kernel command line) and a share", async () => {
    const share = mkdtempSync(join(tmpdir(), "gorb-vm-share-"));
    try {
      writeFileSync(join(share, "in.txt"), "from the host\n");
      const lines = Array.from({ length: 300 }, (_, i) => `echo line-${i} >> /host/out.txt`);
      const r = await runInVm({ command: `cat /host/in.txt; pwd\n${lines.join("\n")}`, share });
      expect(r.exitCode).toBe(0);
      expect(r.output).toBe("from the host\n/host\n");
      const out = readFileSync(join(share, "out.txt"), "utf8").trim().split("\n");
      expect(out.length).toBe(300);
      expect(out[299]).toBe("line-299");
    } finally {
      rmSync(share, { recursive: true, force: true });
    }
  }, BOOT);

  test("two VMs at once, each with its own console log", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gorb-vm-logs-"));
    try {
      const [a, b] = await Promise.all(
        ["a", "b"].map((n) =>
          runInVm({ command: `echo vm-${n}; echo kmsg-${n} > /dev/console`, consoleLog: join(dir, `${n}.log`) }),
        ),
      );
      expect(a?.output).toBe("vm-a\n");
      expect(b?.output).toBe("vm-b\n");
      expect(readFileSync(join(dir, "a.log"), "utf8")).toContain("kmsg-a");
      expect(readFileSync(join(dir, "b.log"), "utf8")).not.toContain("kmsg-a");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, BOOT);

  test("timeout gives 125 and says so", async () => {
    const r = await runInVm({ command: "echo started; sleep 600", timeoutMs: 15_000 });
    expect(r.exitCode).toBe(NO_EXIT_CODE);
    expect(r.output).toBe("started\n");
    expect(r.consoleTail).toContain("timed out");
  }, BOOT);

  test("bun test runs in the guest, summary (stderr) included", async () => {
    const r = await runInVm({
      command: "bun test ./test/kernel/selftest/guest.check.ts",
      share: REPO_ROOT,
    });
    expect(r.output).toContain("5 pass");
    expect(r.output).toContain("0 fail");
    expect(r.exitCode).toBe(0);
  }, BOOT);
});
