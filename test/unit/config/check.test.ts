import { describe, expect, it } from "bun:test";
import { checkConfig, runCheckConfig, wantsCheckConfig, type CheckIo } from "../../../src/config/check.ts";
import { ConfigError } from "../../../src/config/file.ts";
import { FlagError } from "../../../src/config/flags.ts";
import { describeListenError, describeMissingInterface, errorCode } from "../../../src/config/messages.ts";
import { readStartup } from "../../../src/config/startup.ts";
import { fakeResolve, tempDir } from "./helpers.ts";

const files = tempDir();

const GOOD = `
interface: eth0
services:
  web:
    port: 80
    backends:
      a: { host: 198.51.100.1, port: 8080 }
      b: { host: 198.51.100.2, port: 8080 }
  dns:
    host: 192.0.2.53
    port: 53
    protocol: udp
`;

function capture(interfaces: Record<string, string[]> = { eth0: ["192.0.2.1"], lo: ["127.0.0.1"] }) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CheckIo = { out: (l) => out.push(l), err: (l) => err.push(l), interfaces: () => interfaces, resolve: fakeResolve };
  return { io, out, err };
}

describe("runCheckConfig (--check-config)", () => {
  it("a valid file: config OK with counts, exit 0", async () => {
    const path = files.write("good.yaml", GOOD);
    const { io, out, err } = capture();
    expect(await runCheckConfig(["--check-config", "--config", path], {}, io)).toBe(0);
    expect(out).toEqual([`config OK: 2 services, 2 backends (${path})`]);
    expect(err).toEqual([]);
  });

  it("the file named by GORB_CONFIG", async () => {
    const path = files.write("env.json", JSON.stringify({ services: { web: { host: "192.0.2.1", port: 80, backends: { a: { host: "198.51.100.1", port: 80 } } } } }));
    const { io, out } = capture();
    expect(await runCheckConfig(["--check-config"], { GORB_CONFIG: path }, io)).toBe(0);
    expect(out).toEqual([`config OK: 1 service, 1 backend (${path})`]);
  });

  it("no config file: the flags alone", async () => {
    const { io, out } = capture();
    expect(await runCheckConfig(["--check-config", "-l", ":80"], {}, io)).toBe(0);
    expect(out).toEqual(["config OK: flags and environment only (no --config file)"]);
  });

  it("every problem of the file, then NOT OK, exit 1", async () => {
    const path = files.write("bad.yaml", GOOD.replace("port: 8080 }\n      b", "port: 99999 }\n      b").replace("protocol: udp", "protocol: udp\n    flags: bogus"));
    const { io, out, err } = capture();
    expect(await runCheckConfig(["--check-config", `--config=${path}`], {}, io)).toBe(1);
    expect(out).toEqual([]);
    expect(err).toEqual([`${path}:7:38: services.web.backends.a.port: invalid value: field "port" must be an integer from 0 to 65535 (got 99999)`, "config NOT OK: 1 problem"]);
    // shape problems stop before resolution; once fixed, resolution problems show
    files.write("bad.yaml", GOOD.replace("protocol: udp", "protocol: udp\n    flags: bogus"));
    const second = capture();
    expect(await runCheckConfig(["--check-config", `--config=${path}`], {}, second.io)).toBe(1);
    expect(second.err[0]).toMatch(new RegExp(`^${path.replaceAll(".", "\\.")}:13:12: services\\.dns\\.flags: specified flag is unknown`));
    expect(second.err.at(-1)).toBe("config NOT OK: 1 problem");
  });

  it("bad flags and an unsupported -store are problems too", async () => {
    const bad = capture();
    expect(await runCheckConfig(["--check-config", "-store-sync-time=0"], {}, bad.io)).toBe(1);
    expect(bad.err).toEqual(['invalid value "0" for flag -store-sync-time: must be at least 1 second (got 0; GORB crashed on 0 or less)', "config NOT OK: 1 problem"]);
    const store = capture();
    expect(await runCheckConfig(["--check-config", "-store", "etcd://127.0.0.1:2379/gorb"], {}, store.io)).toBe(1);
    expect(store.err[0]).toBe("-store: the etcd KV store is not supported by gorb (supported: consul); gorb keeps its own state in --state-dir");
    expect(store.err.at(-1)).toBe("config NOT OK: 1 problem");
  });

  it("a missing file", async () => {
    const { io, err } = capture();
    expect(await runCheckConfig(["--check-config", "--config", `${files.dir}/nope.toml`], {}, io)).toBe(1);
    expect(err).toEqual([`${files.dir}/nope.toml: cannot read the config file: no such file`, "config NOT OK: 1 problem"]);
  });

  it("interfaces missing on this host are warnings (it may not be the host the file is for)", async () => {
    const path = files.write("iface.yaml", GOOD);
    const { io, out, err } = capture({ lo: ["127.0.0.1"], dummy0: [] });
    expect(await runCheckConfig(["--check-config", "--config", path, "-vipi", "vip0"], { GORB_LISTN: "x" }, io)).toBe(0);
    expect(out).toEqual([`config OK: 2 services, 2 backends (${path})`]);
    expect(err).toEqual([
      expect.stringMatching(/^warning: unknown environment variable GORB_LISTN ignored/) as unknown as string,
      'warning: interface "eth0" (-i) does not exist on this host: services without "host" are checked with a stand-in VIP',
      'warning: interface "vip0" (-vipi) does not exist on this host',
    ]);
    const noAddress = capture({ dummy0: [] });
    expect(await runCheckConfig(["--check-config", "-i", "dummy0", "-vipi", "dummy0"], {}, noAddress.io)).toBe(0);
    expect(noAddress.err).toEqual(['warning: interface "dummy0" (-i) has no address on this host: services without "host" are checked with a stand-in VIP']);
  });
});

describe("wantsCheckConfig", () => {
  it.each<[string[], boolean]>([
    [[], false],
    [["--check-config"], true],
    [["-check-config=true", "--config", "x.yaml"], true],
    [["--check-config=false"], false],
    [["--check-config", "-bogus"], true],
    [["-h", "--check-config"], false],
  ])("%j", (argv, wanted) => {
    expect(wantsCheckConfig(argv)).toBe(wanted);
  });
});

describe("checkConfig", () => {
  it("lists the problems, or none", async () => {
    expect(await checkConfig(files.write("c1.yaml", GOOD), { resolve: fakeResolve, defaultHost: "192.0.2.1" })).toEqual([]);
    const problems = await checkConfig(files.write("c2.yaml", "services:\n  web: { port: 0 }\n  dns: { host: nowhere.example, port: 53 }\n"), { resolve: fakeResolve, defaultHost: "192.0.2.1" });
    expect(problems.map((p) => p.path)).toEqual(["services.web.port", "services.dns.host"]);
  });
});

describe("readStartup", () => {
  it("flags > GORB_* > the config file's options > defaults", async () => {
    const path = files.write("startup.toml", 'listen = ":1"\ninterface = "file0"\nflush = true\nvipi = "vip0"\n');
    const startup = await readStartup(["--config", path, "-l", ":3"], { GORB_INTERFACE: "env0" });
    expect(startup.options).toMatchObject({ listen: ":3", iface: "env0", flush: true, vipInterface: "vip0", config: path });
    expect(startup.sources).toMatchObject({ listen: "flag", iface: "env", flush: "file", config: "flag", consul: "default" });
    expect(startup.raw?.path).toBe(path);
  });

  it("without --config", async () => {
    const startup = await readStartup(["-f"], {});
    expect(startup.raw).toBeUndefined();
    expect(startup.options.flush).toBe(true);
  });

  it("-h returns at once", async () => {
    const startup = await readStartup(["-h"], { GORB_CONFIG: "/nonexistent.yaml" });
    expect(startup.options.help).toBe(true);
    expect(startup.raw).toBeUndefined();
  });

  it("refuses an unsupported -store from any source, and a broken file", async () => {
    await expect(readStartup(["-store", "zookeeper://x"], {})).rejects.toThrow(FlagError);
    const path = files.write("store.yaml", "store: boltdb://127.0.0.1:8500\n");
    await expect(readStartup(["--config", path], {})).rejects.toThrow(/^"store" in the config file: the boltdb KV store is not supported by gorb/);
    expect((await readStartup(["-store", "consul://127.0.0.1:8500/gorb"], {})).options.store).toBe("consul://127.0.0.1:8500/gorb");
    const broken = files.write("broken.yaml", "listen: [\n");
    await expect(readStartup([], { GORB_CONFIG: broken })).rejects.toThrow(ConfigError);
  });
});

describe("start-up messages", () => {
  it.each<[string | number | undefined, RegExp]>([
    ["EADDRINUSE", /^cannot listen on ":4672" \(-l\): the address is already in use — is another gorb \(or GORB\) running\?/],
    [98, /already in use/],
    ["EACCES", /permission denied — ports below 1024 need root or CAP_NET_BIND_SERVICE/],
    ["EADDRNOTAVAIL", /the address is not on this host/],
    ["EAFNOSUPPORT", /IPv6 disabled\?/],
    ["EWHATEVER", /^cannot listen on ":4672" \(-l\): EWHATEVER$/],
    [undefined, /unknown error$/],
  ])("describeListenError(%p)", (code, message) => {
    expect(describeListenError(code, ":4672")).toMatch(message);
  });

  it("errorCode reads Bun's and Node's errors", () => {
    expect(errorCode(Object.assign(new Error("x"), { code: "EADDRINUSE" }))).toBe("EADDRINUSE");
    expect(errorCode(Object.assign(new Error("x"), { errno: 98 }))).toBe(98);
    expect(errorCode("nope")).toBeUndefined();
  });

  it("describeMissingInterface lists what the host has", () => {
    expect(describeMissingInterface("eth9", "-i", ["lo", "eth0"])).toBe('no such network interface: "eth9" (-i); this host has lo, eth0');
    expect(describeMissingInterface("dummy0", "-i", [], "no-address")).toBe('interface "dummy0" (-i) has no address to use as the default VIP');
  });

  it("a real port in use is reported by its code", async () => {
    const first = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
    try {
      let code: string | number | undefined;
      try {
        Bun.serve({ port: first.port, hostname: "127.0.0.1", fetch: () => new Response("") }).stop();
      } catch (e) {
        code = errorCode(e);
      }
      expect(describeListenError(code, `127.0.0.1:${first.port}`)).toMatch(/already in use/);
    } finally {
      await first.stop();
    }
  });
});
