/**
 * deploy/gorb.service: systemd-analyze accepts it without a word, it keeps its hardening, and
 * deploy/gorb.default's GORB_OPTS are options gorb accepts.
 */
import { afterAll, describe, expect, test as plainTest } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseFlags } from "../../../src/config/flags.ts";
import { parseUnit, testWithTool } from "./systemd-tools.ts";

const ROOT = join(import.meta.dir, "..", "..", "..");
const UNIT_TEXT = readFileSync(join(ROOT, "deploy", "gorb.service"), "utf8");
const unit = parseUnit(UNIT_TEXT);
const test = testWithTool("systemd-analyze", "systemd");
const dir = mkdtempSync(join(tmpdir(), "gorb-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The unit with ExecStart's binary replaced by one that exists here (verify checks it is
 * executable), everything else unchanged, saved as gorb.service (the name matters to systemd).
 */
function verifiableCopy(text = UNIT_TEXT, name = "gorb.service"): string {
  const copy = text.replace(/^ExecStart=\/usr\/local\/bin\/gorb /m, `ExecStart=${process.execPath} `);
  const path = join(mkdtempSync(join(dir, "v-")), name);
  writeFileSync(path, copy);
  return path;
}

function analyze(...args: string[]): { exitCode: number; output: string } {
  const r = Bun.spawnSync(["systemd-analyze", ...args], { stderr: "pipe", env: { ...process.env, SYSTEMD_LOG_COLOR: "0", NO_COLOR: "1" } });
  return { exitCode: r.exitCode, output: (r.stdout.toString() + r.stderr.toString()).trim() };
}

describe("systemd-analyze verify", () => {
  test("the copy differs from the unit only in ExecStart's binary", () => {
    const copy = readFileSync(verifiableCopy(), "utf8");
    expect(copy).not.toBe(UNIT_TEXT);
    expect(copy.replace(process.execPath, "/usr/local/bin/gorb")).toBe(UNIT_TEXT);
  });

  test("no warnings, no errors", () => {
    const r = analyze("verify", verifiableCopy());
    expect(r.output).toBe("");
    expect(r.exitCode).toBe(0);
  });

  test("it does speak up about a bad unit (so its silence above means something)", () => {
    const broken = UNIT_TEXT.replace("ProtectSystem=strict", "ProtectSytem=strict").replace("MemoryDenyWriteExecute=no", "MemoryDenyWriteExecute=perhaps");
    const r = analyze("verify", verifiableCopy(broken));
    expect(r.output).toMatch(/Unknown key( name)? '?ProtectSytem'?/);
    expect(r.output).toContain("perhaps");
  });

  test("systemd-analyze security rates it OK (exposure below 3 of 10)", () => {
    const r = analyze("security", "--offline=true", verifiableCopy());
    if (/unrecognized option|unknown option/i.test(r.output)) return; // systemd < 250 has no --offline
    const level = /Overall exposure level for gorb\.service:\s*([\d.]+)/.exec(r.output);
    expect(level).not.toBeNull();
    expect(Number(level![1])).toBeLessThan(3);
  });
});

describe("directives", () => {
  const expected: Record<string, string> = {
    Type: "notify",
    NotifyAccess: "main",
    WatchdogSec: "30s",
    Restart: "on-failure",
    RestartSec: "1s",
    ExecStart: "/usr/local/bin/gorb --state-dir ${STATE_DIRECTORY} $GORB_OPTS",
    EnvironmentFile: "-/etc/default/gorb",
    StateDirectory: "gorb",
    ExecReload: "/bin/kill -HUP $MAINPID",
    KillSignal: "SIGTERM",
    TimeoutStopSec: "15s",
    DynamicUser: "yes",
    CapabilityBoundingSet: "CAP_NET_ADMIN CAP_NET_BIND_SERVICE",
    AmbientCapabilities: "CAP_NET_ADMIN CAP_NET_BIND_SERVICE",
    NoNewPrivileges: "yes",
    ProtectSystem: "strict",
    ProtectHome: "yes",
    PrivateTmp: "yes",
    PrivateDevices: "yes",
    ProtectKernelTunables: "yes",
    ProtectKernelModules: "yes",
    ProtectControlGroups: "yes",
    RestrictAddressFamilies: "AF_NETLINK AF_UNIX AF_INET AF_INET6",
    RestrictNamespaces: "yes",
    LockPersonality: "yes",
    MemoryDenyWriteExecute: "no",
    SystemCallArchitectures: "native",
    SystemCallErrorNumber: "EPERM",
  };
  for (const [key, value] of Object.entries(expected)) {
    // Not gated on systemd-analyze: reading the file needs nothing.
    plainTest(`${key}=${value}`, () => {
      expect(unit.get(key)).toEqual([value]);
    });
  }

  plainTest("SystemCallFilter: @system-service, minus @privileged and @resources", () => {
    expect(unit.get("SystemCallFilter")).toEqual(["@system-service", "~@privileged @resources"]);
  });

  plainTest("nothing that would cut gorb off the host's network or its capability", () => {
    for (const key of ["PrivateNetwork", "PrivateUsers", "User", "IPAddressDeny", "RestrictNetworkInterfaces"]) expect(unit.has(key)).toBe(false);
  });
});

describe("deploy/gorb.default", () => {
  const text = readFileSync(join(ROOT, "deploy", "gorb.default"), "utf8");
  const vars = parseUnit(text);

  plainTest("GORB_OPTS are options gorb accepts, after the unit's --state-dir", () => {
    const opts = vars.get("GORB_OPTS")?.[0]?.replace(/^"(.*)"$/, "$1");
    expect(opts).toBeString();
    const options = parseFlags(["--state-dir", "/var/lib/gorb", ...opts!.split(/\s+/).filter(Boolean)]);
    expect(options.stateDir).toBe("/var/lib/gorb");
    expect(options.listen).toBe(":4672");
  });

  plainTest("the commented GORB_* examples are variables gorb reads", () => {
    const examples = Object.fromEntries([...text.matchAll(/^# (GORB_[A-Z_]+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    expect(Object.keys(examples).length).toBeGreaterThan(0);
    const options = parseFlags([], examples);
    expect(options.vipInterface).toBe("eth0");
    expect(options.consul).toBe("http://127.0.0.1:8500");
  });
});
