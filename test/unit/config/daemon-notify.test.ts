/**
 * The daemon as systemd (Type=notify) sees it: READY=1 once the API serves, RELOADING=1 and
 * READY=1 around a SIGHUP reload, STOPPING=1 on SIGTERM, and a clean exit.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatagramListener } from "../../support/unix-datagram.ts";

const dir = mkdtempSync(join(tmpdir(), "gorb-daemon-notify-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("READY=1 when serving, RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 on SIGTERM", async () => {
  const socket = join(dir, "notify.sock");
  const listener = DatagramListener.bind(socket);
  const config = join(dir, "gorb.yaml");
  writeFileSync(config, "services:\n  web:\n    host: 192.0.2.1\n    port: 80\n");
  const main = join(import.meta.dir, "../../../src/main.ts");
  const daemon = Bun.spawn([process.execPath, main, "--ipvs", "memory", "-l", "127.0.0.1:0", "-i", "lo", "--config", config], {
    env: { ...process.env, NOTIFY_SOCKET: socket },
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    const ready = await listener.receive(15_000);
    expect(ready).toContain("READY=1");
    daemon.kill("SIGHUP");
    expect(await listener.receive(5_000)).toContain("RELOADING=1");
    expect(await listener.receive(5_000)).toContain("READY=1");
    daemon.kill("SIGTERM");
    expect(await listener.receive(5_000)).toContain("STOPPING=1");
    expect(await daemon.exited).toBe(0);
  } finally {
    daemon.kill("SIGKILL");
    listener.close();
  }
});
