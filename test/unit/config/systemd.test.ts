/** sd_notify: the datagrams systemd would receive, on a path socket and an abstract one, through both backends. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  notify,
  notifyReady,
  notifyReloading,
  notifyStatus,
  notifyStopping,
  startWatchdog,
  watchdogIntervalMs,
} from "../../../src/config/systemd.ts";
import { NotifyError, chooseBackend, libsystemdAvailable, notifySocketAddress, sendNotify } from "../../../ffi/sd-notify.ts";
import { DatagramListener } from "../../support/unix-datagram.ts";

/** libsystemd0 is optional: without it the libc path does the work. */
const hasLibsystemd = libsystemdAvailable();

const saved = { NOTIFY_SOCKET: process.env.NOTIFY_SOCKET, WATCHDOG_USEC: process.env.WATCHDOG_USEC, WATCHDOG_PID: process.env.WATCHDOG_PID };
let dir: string;
let listeners: DatagramListener[] = [];

function listen(kind: "path" | "abstract"): DatagramListener {
  const name = kind === "path" ? join(dir, "notify.sock") : `@gorb-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const l = DatagramListener.bind(name);
  listeners.push(l);
  return l;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gorb-notify-"));
});
afterEach(() => {
  for (const l of listeners) l.close();
  listeners = [];
  rmSync(dir, { recursive: true, force: true });
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe("notifications", () => {
  for (const kind of ["path", "abstract"] as const) {
    test(`READY=1 arrives on a ${kind} socket`, async () => {
      const l = listen(kind);
      process.env.NOTIFY_SOCKET = l.name;
      expect(notifyReady()).toBe(true);
      expect(await l.receive()).toBe("READY=1");
    });
  }

  test("stopping, reloading (with MONOTONIC_USEC) and status; a status stays on one line", async () => {
    const l = listen("path");
    process.env.NOTIFY_SOCKET = l.name;
    notifyStopping("stopping: SIGTERM");
    expect(await l.receive()).toBe("STOPPING=1\nSTATUS=stopping: SIGTERM");
    notifyReloading();
    expect(await l.receive()).toMatch(/^RELOADING=1\nMONOTONIC_USEC=\d+$/);
    notifyStatus("12 services\n40 backends");
    expect(await l.receive()).toBe("STATUS=12 services 40 backends");
    notifyReady("ready: 12 services");
    expect(await l.receive()).toBe("READY=1\nSTATUS=ready: 12 services");
  });

  test("MONOTONIC_USEC is CLOCK_MONOTONIC (the clock systemd compares it with), not wall time", async () => {
    const l = listen("path");
    process.env.NOTIFY_SOCKET = l.name;
    const stamp = async () => {
      notifyReloading();
      return Number(/MONOTONIC_USEC=(\d+)/.exec(await l.receive())![1]!) / 1e6;
    };
    const first = await stamp();
    const second = await stamp();
    // CLOCK_MONOTONIC never runs ahead of CLOCK_BOOTTIME (/proc/uptime), and never goes back.
    const boottime = Number((await Bun.file("/proc/uptime").text()).split(" ")[0]);
    expect(second).toBeGreaterThanOrEqual(first);
    expect(second).toBeLessThanOrEqual(boottime + 1);
    expect(first).toBeGreaterThan(process.uptime() - 1);
  });

  test("no NOTIFY_SOCKET: nothing is sent, no error", () => {
    delete process.env.NOTIFY_SOCKET;
    expect(notifyReady()).toBe(false);
    expect(notifyStopping()).toBe(false);
    expect(notifyReloading()).toBe(false);
    expect(startWatchdog()).toBeUndefined();
  });

  test("a socket nobody listens on: NotifyError with the errno", () => {
    expect(() => notify("READY=1", { NOTIFY_SOCKET: join(dir, "nobody.sock") })).toThrow(NotifyError);
    expect(() => notify("READY=1", { NOTIFY_SOCKET: "relative.sock" })).toThrow("only an absolute path or an abstract");
  });
});

describe("backends", () => {
  test("process.env writes do not reach the C environment, so in-process tests take the libc path", () => {
    process.env.NOTIFY_SOCKET = join(dir, "x.sock");
    expect(chooseBackend(process.env.NOTIFY_SOCKET)).toBe("libc");
  });

  test.skipIf(!hasLibsystemd)("libsystemd's sd_notify, in a child whose environment names the socket", async () => {
    for (const kind of ["path", "abstract"] as const) {
      const l = listen(kind);
      const script = `
        import { chooseBackend } from "./ffi/sd-notify.ts";
        import { notifyReady } from "./src/config/systemd.ts";
        console.log(chooseBackend(process.env.NOTIFY_SOCKET), notifyReady("from a child"));`;
      const child = Bun.spawnSync([process.execPath, "-e", script], { env: { ...process.env, NOTIFY_SOCKET: l.name }, stderr: "pipe" });
      expect(child.stderr.toString()).toBe("");
      expect(child.stdout.toString().trim()).toBe("libsystemd true");
      expect(await l.receive()).toBe("READY=1\nSTATUS=from a child");
    }
  });

  test("the libc backend, directly", async () => {
    const l = listen("abstract");
    sendNotify(l.name, "READY=1", "libc");
    expect(await l.receive()).toBe("READY=1");
  });

  test("sockaddr_un: a path ends with its NUL; an abstract name starts with one and has none after", () => {
    const p = notifySocketAddress("/run/x");
    expect(p.length).toBe(2 + 6 + 1);
    expect([...p.address.subarray(0, 9)]).toEqual([1, 0, ..."/run/x".split("").map((ch) => ch.charCodeAt(0)), 0]);
    const a = notifySocketAddress("@sd");
    expect(a.length).toBe(2 + 1 + 2);
    expect([...a.address.subarray(0, 5)]).toEqual([1, 0, 0, 115, 100]);
    expect(() => notifySocketAddress("/" + "x".repeat(107))).toThrow(NotifyError);
    expect(() => notifySocketAddress("vsock:2:1234")).toThrow(NotifyError);
  });
});

describe("watchdog", () => {
  test("interval: half of WATCHDOG_USEC, only for us", () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000" }, 42)).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "42" }, 42)).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "41" }, 42)).toBeUndefined();
    expect(watchdogIntervalMs({}, 42)).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "0" }, 42)).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "soon" }, 42)).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "1000" }, 42)).toBe(1);
  });

  test("pings WATCHDOG=1 at once and then every interval, until stopped", async () => {
    const l = listen("path");
    process.env.NOTIFY_SOCKET = l.name;
    process.env.WATCHDOG_USEC = "100000"; // 100 ms → a ping every 50 ms
    process.env.WATCHDOG_PID = String(process.pid);
    const dog = startWatchdog();
    expect(dog?.intervalMs).toBe(50);
    expect(await l.receive()).toBe("WATCHDOG=1");
    expect(await l.receive(1000)).toBe("WATCHDOG=1");
    dog!.stop();
    l.drain();
    await Bun.sleep(150);
    expect(l.drain()).toEqual([]);
  });

  test("another process's watchdog is not ours", () => {
    process.env.NOTIFY_SOCKET = join(dir, "x.sock");
    process.env.WATCHDOG_USEC = "100000";
    process.env.WATCHDOG_PID = "1";
    expect(startWatchdog()).toBeUndefined();
  });

  test("a failed ping goes to onError, not an uncaught exception", async () => {
    process.env.NOTIFY_SOCKET = join(dir, "gone.sock");
    process.env.WATCHDOG_USEC = "20000";
    delete process.env.WATCHDOG_PID;
    const errors: Error[] = [];
    const dog = startWatchdog({ onError: (e) => errors.push(e) });
    await Bun.sleep(50);
    dog!.stop();
    expect(errors.length).toBeGreaterThan(1);
    expect(errors[0]).toBeInstanceOf(NotifyError);
  });
});
