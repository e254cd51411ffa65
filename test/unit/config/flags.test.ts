import { describe, expect, it } from "bun:test";
import {
  DEFAULT_OPTIONS,
  FlagError,
  OPTION_DEFS,
  USAGE,
  checkOptions,
  envName,
  parseBool,
  parseCommandLine,
  parseFlags,
  parseListen,
  type FileOptions,
  type Options,
} from "../../../src/config/flags.ts";

describe("parseFlags: GORB's flags, Go flag syntax", () => {
  it.each<[string[], Partial<Options>]>([
    [[], {}],
    // -c: Consul URL
    [["-c", "http://127.0.0.1:8500"], { consul: "http://127.0.0.1:8500" }],
    [["--c=http://consul:8500/ignored"], { consul: "http://consul:8500/ignored" }],
    [["-consul", "https://c.example"], { consul: "https://c.example" }],
    // -f: bool
    [["-f"], { flush: true }],
    [["--f"], { flush: true }],
    [["-f=true"], { flush: true }],
    [["-f=false"], { flush: false }],
    [["-f=1"], { flush: true }],
    [["-f=F"], { flush: false }],
    [["--flush"], { flush: true }],
    // -i, -l, -v, -vipi
    [["-i", "lo"], { iface: "lo" }],
    [["-i=bond0"], { iface: "bond0" }],
    [["--interface", "ens3"], { iface: "ens3" }],
    [["-l", "127.0.0.1:0"], { listen: "127.0.0.1:0" }],
    [["--listen=[::1]:4672"], { listen: "[::1]:4672" }],
    [["-l", ":80"], { listen: ":80" }],
    [["-v"], { verbose: true }],
    [["--verbose=false"], { verbose: false }],
    [["-vipi", "dummy0"], { vipInterface: "dummy0" }],
    [["--vipi=lo"], { vipInterface: "lo" }],
    // the store flags
    [["-store", "consul://127.0.0.1:8500/gorb"], { store: "consul://127.0.0.1:8500/gorb" }],
    [["-store-sync-time", "5"], { storeSyncTime: 5 }],
    [["--store-sync-time=3600"], { storeSyncTime: 3600 }],
    [["-store-service-path", "svc"], { storeServicePath: "svc" }],
    [["-store-backend-path=rs"], { storeBackendPath: "rs" }],
    // a string flag takes the next argument even when it starts with a dash (as Go)
    [["-i", "-v"], { iface: "-v" }],
    // repeated: the last wins
    [["-l", ":1", "-l", ":2"], { listen: ":2" }],
    [["-f", "-f=false"], { flush: false }],
    // "--" ends the flags
    [["-v", "--"], { verbose: true }],
  ])("%j", (argv, expected) => {
    expect(parseCommandLine(argv).options).toEqual({ ...DEFAULT_OPTIONS, ...expected });
  });
});

describe("parseFlags: gorb's flags", () => {
  it.each<[string[], Partial<Options>]>([
    [["--config", "/etc/gorb/gorb.yaml"], { config: "/etc/gorb/gorb.yaml" }],
    [["-config=gorb.toml"], { config: "gorb.toml" }],
    [["--check-config"], { checkConfig: true }],
    [["--ipvs", "memory"], { ipvs: "memory" }],
    [["-ipvs=auto"], { ipvs: "auto" }],
    [["--ipvs=KERNEL"], { ipvs: "kernel" }],
    [["--state-dir", "/run/gorb"], { stateDir: "/run/gorb" }],
    [["--no-state"], { noState: true }],
    [["--reconcile-interval", "1m30s"], { reconcileIntervalMs: 90_000 }],
    [["--reconcile-interval=0"], { reconcileIntervalMs: 0 }],
    [["--reconcile-interval=500ms"], { reconcileIntervalMs: 500 }],
    [["--reconcile-interval=2h"], { reconcileIntervalMs: 7_200_000 }],
    [["--cleanup-on-exit"], { cleanupOnExit: true }],
    [["-h"], { help: true }],
    [["--help"], { help: true }],
    [["--help=false"], { help: false }],
  ])("%j", (argv, expected) => {
    expect(parseCommandLine(argv).options).toEqual({ ...DEFAULT_OPTIONS, ...expected });
  });

  it("has GORB's defaults", () => {
    expect(DEFAULT_OPTIONS).toMatchObject({ consul: "", flush: false, iface: "eth0", listen: ":4672", verbose: false, vipInterface: "", store: "", storeSyncTime: 60, storeServicePath: "services", storeBackendPath: "backends" });
    expect(DEFAULT_OPTIONS).toMatchObject({ config: "", ipvs: "kernel", noState: false, reconcileIntervalMs: 30_000, cleanupOnExit: false });
  });

  it("-h wins over anything after it, and over a bad environment", () => {
    expect(parseCommandLine(["-h", "-nonsense"], { GORB_LISTEN: "bad" }).options.help).toBe(true);
    expect(parseFlags(["-h", "-store", "x"]).help).toBe(true);
  });
});

describe("parseFlags: errors name the flag", () => {
  it.each<[string[], RegExp, boolean]>([
    [["-x"], /^flag provided but not defined: -x$/, true],
    [["--nope=1"], /^flag provided but not defined: -nope$/, true],
    [["-l"], /^flag needs an argument: -l$/, true],
    [["-store-sync-time"], /^flag needs an argument: -store-sync-time$/, true],
    [["stray"], /unexpected argument "stray"/, true],
    [["-v", "extra"], /unexpected argument "extra"/, true],
    [["-f", "true"], /unexpected argument "true"/, true],
    [["--", "x"], /unexpected argument "x"/, true],
    [["---v"], /bad flag syntax: ---v/, true],
    [["-=x"], /bad flag syntax: -=x/, true],
    [["-h=maybe"], /invalid value "maybe" for flag -h: must be true or false/, false],
    [["-f=yes"], /invalid value "yes" for flag -f: must be true or false/, false],
    [["-store-sync-time", "0"], /invalid value "0" for flag -store-sync-time: must be at least 1 second \(got 0; GORB crashed on 0 or less\)/, false],
    [["-store-sync-time=-5"], /for flag -store-sync-time: must be at least 1 second/, false],
    [["-store-sync-time=1.5"], /invalid value "1.5" for flag -store-sync-time: must be a whole number of seconds/, false],
    [["-store-sync-time=abc"], /for flag -store-sync-time: must be a whole number/, false],
    [["-store-service-path="], /for flag -store-service-path: must not be empty/, false],
    [["-l", "4672"], /invalid value "4672" for flag -l: must be HOST:PORT or :PORT/, false],
    [["--listen=:99999"], /for flag -listen: port out of range: 99999/, false],
    [["-c", "127.0.0.1:8500"], /invalid value "127.0.0.1:8500" for flag -c: must be an http:\/\/ or https:\/\/ URL/, false],
    [["--ipvs", "fake"], /invalid value "fake" for flag -ipvs: must be one of kernel, memory, auto/, false],
    [["--reconcile-interval", "30"], /for flag -reconcile-interval: must be a duration such as 30s/, false],
    [["--reconcile-interval=-1s"], /for flag -reconcile-interval: must not be negative/, false],
    [["--reconcile-interval=10ms"], /for flag -reconcile-interval: must be 0 \(disabled\) or at least 100ms/, false],
  ])("%j", (argv, message, showUsage) => {
    let error: unknown;
    try {
      parseCommandLine(argv);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FlagError);
    expect((error as FlagError).message).toMatch(message);
    expect((error as FlagError).showUsage).toBe(showUsage);
  });

  it("takes -store consul://, refuses other stores and bad URLs where main parses, naming where it came from", () => {
    expect(parseFlags(["-store", "consul://127.0.0.1:8500/gorb,consul://127.0.0.2:8500/gorb"]).store).toBe("consul://127.0.0.1:8500/gorb,consul://127.0.0.2:8500/gorb");
    expect(() => parseFlags(["-store", "etcd://127.0.0.1:2379"])).toThrow(/^-store: the etcd KV store is not supported by gorb \(supported: consul\)/);
    expect(() => parseFlags([], { GORB_STORE: "redis://x" })).toThrow(/^GORB_STORE: unknown KV store scheme "redis"/);
    expect(() => parseFlags([], {}, { store: "consul://a:1/x,consul://b:1/y" })).toThrow(/^"store" in the config file: every -store URL must have the same scheme and path/);
    expect(() => parseFlags(["-store", "127.0.0.1:8500"])).toThrow(/^-store: /);
    // The other store flags alone are harmless (GORB ignored them without -store).
    expect(parseFlags(["-store-sync-time", "10"]).storeSyncTime).toBe(10);
  });

  it("checkOptions lists nothing for a good set", () => {
    expect(checkOptions(parseCommandLine(["-f", "-v"]))).toEqual([]);
  });
});

describe("environment variables", () => {
  it("are GORB_ + the long name upper-cased, dashes as underscores", () => {
    const names = Object.fromEntries(OPTION_DEFS.filter((d) => d.env).map((d) => [d.key, envName(d)]));
    expect(names).toEqual({
      consul: "GORB_CONSUL",
      flush: "GORB_FLUSH",
      iface: "GORB_INTERFACE",
      listen: "GORB_LISTEN",
      verbose: "GORB_VERBOSE",
      vipInterface: "GORB_VIPI",
      store: "GORB_STORE",
      storeSyncTime: "GORB_STORE_SYNC_TIME",
      storeServicePath: "GORB_STORE_SERVICE_PATH",
      storeBackendPath: "GORB_STORE_BACKEND_PATH",
      config: "GORB_CONFIG",
      ipvs: "GORB_IPVS",
      stateDir: "GORB_STATE_DIR",
      noState: "GORB_NO_STATE",
      reconcileIntervalMs: "GORB_RECONCILE_INTERVAL",
      cleanupOnExit: "GORB_CLEANUP_ON_EXIT",
    });
  });

  it.each<[Record<string, string>, Partial<Options>]>([
    [{ GORB_CONSUL: "http://127.0.0.1:8500" }, { consul: "http://127.0.0.1:8500" }],
    [{ GORB_FLUSH: "true" }, { flush: true }],
    [{ GORB_FLUSH: "0" }, { flush: false }],
    [{ GORB_INTERFACE: "lo" }, { iface: "lo" }],
    [{ GORB_LISTEN: "127.0.0.1:4672" }, { listen: "127.0.0.1:4672" }],
    [{ GORB_VERBOSE: "1" }, { verbose: true }],
    [{ GORB_VIPI: "dummy0" }, { vipInterface: "dummy0" }],
    [{ GORB_STORE_SYNC_TIME: "30" }, { storeSyncTime: 30 }],
    [{ GORB_STORE_SERVICE_PATH: "s", GORB_STORE_BACKEND_PATH: "b" }, { storeServicePath: "s", storeBackendPath: "b" }],
    [{ GORB_CONFIG: "/etc/gorb/gorb.yaml" }, { config: "/etc/gorb/gorb.yaml" }],
    [{ GORB_IPVS: "memory" }, { ipvs: "memory" }],
    [{ GORB_STATE_DIR: "/srv/gorb", GORB_NO_STATE: "false" }, { stateDir: "/srv/gorb", noState: false }],
    [{ GORB_RECONCILE_INTERVAL: "5m" }, { reconcileIntervalMs: 300_000 }],
    [{ GORB_CLEANUP_ON_EXIT: "true" }, { cleanupOnExit: true }],
    // empty: as if unset
    [{ GORB_LISTEN: "" }, {}],
    // not settings: never read from the environment
    [{ GORB_HELP: "true", GORB_CHECK_CONFIG: "true" }, {}],
    // not ours
    [{ PATH: "/bin", GORB_VM_CACHE: "/tmp" }, {}],
  ])("%j", (env, expected) => {
    expect(parseCommandLine([], env).options).toEqual({ ...DEFAULT_OPTIONS, ...expected });
  });

  it.each<[Record<string, string>, RegExp]>([
    [{ GORB_STORE_SYNC_TIME: "0" }, /^invalid value "0" for environment variable GORB_STORE_SYNC_TIME: must be at least 1 second/],
    [{ GORB_FLUSH: "yes" }, /^invalid value "yes" for environment variable GORB_FLUSH: must be true or false/],
    [{ GORB_LISTEN: "nope" }, /^invalid value "nope" for environment variable GORB_LISTEN: must be HOST:PORT/],
    [{ GORB_IPVS: "x" }, /environment variable GORB_IPVS: must be one of kernel, memory, auto/],
    [{ GORB_RECONCILE_INTERVAL: "soon" }, /environment variable GORB_RECONCILE_INTERVAL: must be a duration/],
  ])("refuses %j", (env, message) => {
    expect(() => parseCommandLine([], env)).toThrow(message);
  });

  it("warns about unknown GORB_ variables (a typo would otherwise be silent)", () => {
    // GORB_VM_* (the kernel tests) and GORB_TCP_PROBER (the tcp check) are read elsewhere: no warning.
    const { warnings } = parseCommandLine([], { GORB_LISTN: ":1", GORB_VM_MEM: "512", GORB_TCP_PROBER: "poll" });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^unknown environment variable GORB_LISTN ignored \(gorb reads GORB_CONSUL, /);
  });
});

describe("precedence: flag > environment > config file > default", () => {
  const file: FileOptions = { listen: ":1", iface: "file0", flush: true, reconcileIntervalMs: 60_000 };
  const env = { GORB_LISTEN: ":2", GORB_INTERFACE: "env0" };
  it.each<[string, string[], Record<string, string>, FileOptions, Partial<Options>, Partial<Record<keyof Options, string>>]>([
    ["defaults only", [], {}, {}, {}, { listen: "default", iface: "default" }],
    ["file over default", [], {}, file, { listen: ":1", iface: "file0", flush: true, reconcileIntervalMs: 60_000 }, { listen: "file", flush: "file" }],
    ["env over file", [], env, file, { listen: ":2", iface: "env0", flush: true, reconcileIntervalMs: 60_000 }, { listen: "env", iface: "env", flush: "file" }],
    ["flag over env", ["-l", ":3"], env, file, { listen: ":3", iface: "env0", flush: true, reconcileIntervalMs: 60_000 }, { listen: "flag", iface: "env" }],
    ["a false flag over a true file value", ["-f=false"], {}, file, { listen: ":1", iface: "file0", flush: false, reconcileIntervalMs: 60_000 }, { flush: "flag" }],
    ["env 0 over file", [], { GORB_RECONCILE_INTERVAL: "0" }, file, { listen: ":1", iface: "file0", flush: true, reconcileIntervalMs: 0 }, { reconcileIntervalMs: "env" }],
  ])("%s", (_name, argv, envVars, fileOptions, expected, sources) => {
    const parsed = parseCommandLine(argv, envVars, fileOptions);
    expect(parsed.options).toEqual({ ...DEFAULT_OPTIONS, ...expected });
    expect(parsed.sources).toMatchObject(sources);
  });

  it("a file cannot set config, check-config or help", () => {
    const parsed = parseCommandLine([], {}, { config: "x.yaml", checkConfig: true, help: true } as FileOptions);
    expect(parsed.options).toEqual(DEFAULT_OPTIONS);
  });
});

describe("usage", () => {
  it("lists every flag, its default and its variable", () => {
    for (const d of OPTION_DEFS) for (const f of d.flags) expect(USAGE).toContain(`-${f}`);
    for (const d of OPTION_DEFS.filter((o) => o.env)) expect(USAGE).toContain(envName(d));
    expect(USAGE).toContain('default ":4672"');
    expect(USAGE).toContain('default "eth0"');
    expect(USAGE).toContain('default "30s"');
    expect(USAGE).toContain('default "60"');
  });
});

describe("parseBool (Go's strconv.ParseBool)", () => {
  it.each([["1", true], ["t", true], ["TRUE", true], ["True", true], ["0", false], ["f", false], ["False", false], ["yes", undefined], ["", undefined]])("%s", (text, value) => {
    expect(parseBool(text)).toBe(value);
  });
});

describe("parseListen", () => {
  it.each([
    [":4672", { hostname: "::", port: 4672 }],
    ["127.0.0.1:0", { hostname: "127.0.0.1", port: 0 }],
    ["[::1]:80", { hostname: "::1", port: 80 }],
    ["localhost:8080", { hostname: "localhost", port: 8080 }],
  ])("%s", (listen, expected) => {
    expect(parseListen(listen)).toEqual(expected);
  });

  it.each(["4672", "host", ":99999", "::1:80"])("refuses %s", (listen) => {
    expect(() => parseListen(listen)).toThrow(FlagError);
  });
});
