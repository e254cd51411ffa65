import { describe, expect, it } from "bun:test";
import {
  ConfigError,
  EMPTY_CONFIG,
  countConfig,
  formatOf,
  formatPath,
  formatProblem,
  loadConfig,
  parseConfig,
  readConfig,
  type ConfigFile,
  type ConfigProblem,
} from "../../../src/config/file.ts";
import { fakeResolve, tempDir, yamlConfig } from "./helpers.ts";

const files = tempDir();

const YAML = `# gorb config
listen: ":4672"
interface: eth0
flush: true
store-sync-time: 30
reconcile_interval: 1m
services:
  web:
    host: 192.0.2.1
    port: 80
    method: wrr
    backends:
      web-1: { host: 198.51.100.1, port: 8080, weight: 100, pulse: { type: http, interval: 5s, args: { path: /health } } }
      web-2:
        host: 198.51.100.2
        port: 8080
  dns:
    host: lb.example
    port: 53
    protocol: udp
    persistent: true
    timeout: 60
    backends:
      ns1: { host: 198.51.100.53, port: 53, method: dr, pulse: { type: none } }
`;

const TOML = `# gorb config
listen = ":4672"
interface = "eth0"
flush = true
store-sync-time = 30
reconcile_interval = "1m"

[services.web]
host = "192.0.2.1"
port = 80
method = "wrr"

[services.web.backends.web-1]
host = "198.51.100.1"
port = 8080
weight = 100
pulse = { type = "http", interval = "5s", args = { path = "/health" } }

[services.web.backends.web-2]
host = "198.51.100.2"
port = 8080

[services.dns]
host = "lb.example"
port = 53
protocol = "udp"
persistent = true
timeout = 60

[services.dns.backends.ns1]
host = "198.51.100.53"
port = 53
method = "dr"
pulse = { type = "none" }
`;

const JSON_TEXT = JSON.stringify(
  {
    listen: ":4672",
    interface: "eth0",
    flush: true,
    "store-sync-time": 30,
    reconcile_interval: "1m",
    services: {
      web: {
        host: "192.0.2.1",
        port: 80,
        method: "wrr",
        backends: {
          "web-1": { host: "198.51.100.1", port: 8080, weight: 100, pulse: { type: "http", interval: "5s", args: { path: "/health" } } },
          "web-2": { host: "198.51.100.2", port: 8080 },
        },
      },
      dns: { host: "lb.example", port: 53, protocol: "udp", persistent: true, timeout: 60, backends: { ns1: { host: "198.51.100.53", port: 53, method: "dr", pulse: { type: "none" } } } },
    },
  },
  null,
  2,
);

/** The parts of a ConfigFile that do not depend on the format. */
function summary(config: ConfigFile) {
  return {
    options: config.options,
    services: Object.fromEntries(
      [...config.services].map(([id, s]) => [id, { options: s.options, identity: s.identity, backends: Object.fromEntries([...s.backends].map(([bid, b]) => [bid, { options: b.options, address: b.address }])) }]),
    ),
  };
}

describe("loadConfig: three formats, one meaning", () => {
  it.each([
    ["gorb.yaml", YAML],
    ["gorb.yml", YAML],
    ["gorb.toml", TOML],
    ["gorb.json", JSON_TEXT],
  ])("%s", async (name, text) => {
    const path = files.write(name, text);
    const config = await loadConfig(path, { resolve: fakeResolve });
    expect(config.path).toBe(path);
    expect(countConfig(config)).toEqual({ services: 2, backends: 3 });
    const s = summary(config);
    expect(s.options).toEqual({ listen: ":4672", iface: "eth0", flush: true, storeSyncTime: 30, reconcileIntervalMs: 60_000 });
    expect(s.services.web).toEqual({
      options: { host: "192.0.2.1", port: 80, protocol: "tcp", method: "wrr", flags: "", persistent: false, fwmark: 0, family: "inet", timeout: 0, netmask: 32, all_down: "zero" },
      identity: "tcp:192.0.2.1:80",
      backends: {
        "web-1": {
          options: {
            host: "198.51.100.1", port: 8080, weight: 100, method: "nat", pulse: { type: "http", interval: "5s", args: { path: "/health" } },
            tunnel_type: "", tunnel_port: 0, tunnel_checksum: "", upper_threshold: 0, lower_threshold: 0,
          },
          address: "198.51.100.1:8080",
        },
        "web-2": {
          options: {
            host: "198.51.100.2", port: 8080, weight: 100, method: "nat", pulse: { type: "tcp", interval: "1m", args: null },
            tunnel_type: "", tunnel_port: 0, tunnel_checksum: "", upper_threshold: 0, lower_threshold: 0,
          },
          address: "198.51.100.2:8080",
        },
      },
    });
    expect(s.services.dns!.identity).toBe("udp:192.0.2.50:53");
    expect(s.services.dns!.options).toMatchObject({ host: "lb.example", persistent: true, timeout: 60 });
    expect(s.services.dns!.backends.ns1!.options).toMatchObject({ method: "dr", pulse: { type: "none" } });
  });

  it("all formats agree", async () => {
    const [y, t, j] = await Promise.all(
      (
        [
          ["same.yaml", YAML],
          ["same.toml", TOML],
          ["same.json", JSON_TEXT],
        ] as const
      ).map(([name, text]) => loadConfig(files.write(name, text), { resolve: fakeResolve })),
    );
    expect(summary(t!)).toEqual(summary(y!));
    expect(summary(j!)).toEqual(summary(y!));
  });
});

describe("the API's rules, as in PUT /service", () => {
  it("keys and choices are case-insensitive; null and empty choices mean absent", async () => {
    const config = await yamlConfig(`
services:
  web:
    Host: 192.0.2.1
    PORT: 80
    protocol: TCP
    method: RR
    flags:
    all_down: ""
    backends:
      a: { host: 198.51.100.1, port: 80, Method: NAT, pulse: { Type: HTTP, args: { Path: /x } } }
`);
    const web = config.services.get("web")!;
    expect(web.options).toMatchObject({ protocol: "tcp", method: "rr", flags: "", all_down: "zero" });
    // args are free-form: their keys are kept as written (like the API)
    expect(web.backends.get("a")!.options).toMatchObject({ method: "nat", pulse: { type: "http", args: { Path: "/x" } } });
  });

  it("weight ≤ 0 means 100 (GORB's PUT)", async () => {
    const config = await yamlConfig(`services: { web: { port: 80, backends: { a: { host: 198.51.100.1, port: 80, weight: 0 } } } }`);
    expect(config.services.get("web")!.backends.get("a")!.options.weight).toBe(100);
  });

  it("a service without host takes the default VIP; its stored host stays empty", async () => {
    const config = await yamlConfig(`services: { web: { port: 80 } }`, { defaultHost: "203.0.113.7" });
    expect(config.services.get("web")!.identity).toBe("tcp:203.0.113.7:80");
    expect(config.services.get("web")!.options.host).toBe("");
  });

  it("without a known default VIP, a service without host is checked against its backends' family", async () => {
    const config = await yamlConfig(`services: { web: { port: 80, backends: { a: { host: "2001:db8::5", port: 80 } } } }`, { defaultHost: undefined });
    expect(config.services.get("web")!.backends.size).toBe(1);
  });

  it("fwmark services, tunnels and thresholds", async () => {
    const config = await yamlConfig(`
services:
  mark:
    fwmark: 5
    family: inet6
    backends:
      t: { host: "2001:db8::7", port: 0, method: tunnel, tunnel_type: gue, tunnel_port: 6080, upper_threshold: 10, lower_threshold: 5 }
`);
    expect(config.services.get("mark")!.identity).toBe("fwmark:inet6:5");
    expect(config.services.get("mark")!.backends.get("t")!.options).toMatchObject({ tunnel_type: "gue", tunnel_port: 6080, upper_threshold: 10 });
  });

  it("an empty file, or one without services, is valid", async () => {
    for (const text of ["", "# nothing\n", "services:\n", "listen: ':80'\n"]) {
      const config = await yamlConfig(text);
      expect(config.services.size).toBe(0);
    }
    expect(EMPTY_CONFIG.services.size).toBe(0);
  });
});

/** The problems of a config text (parse + resolve), as plain objects without the file name. */
async function problemsOf(text: string, name = "gorb.yaml"): Promise<Omit<ConfigProblem, "file">[]> {
  try {
    await yamlConfigNamed(text, name);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.map(({ file: _file, ...rest }) => rest);
  }
  throw new Error("expected a ConfigError");
}

async function yamlConfigNamed(text: string, name: string) {
  const { resolveConfig } = await import("../../../src/config/file.ts");
  return resolveConfig(parseConfig(text, name), { resolve: fakeResolve, defaultHost: "192.0.2.1" });
}

describe("errors name the file, the line (YAML), the path and the field", () => {
  it.each<[string, string, Omit<ConfigProblem, "file">]>([
    // syntax
    ["YAML syntax", "services:\n  web: [1,\n", { path: "", line: 3, column: 1, message: expect.stringMatching(/^invalid YAML: /) as unknown as string }],
    ["a duplicate YAML key", "listen: ':1'\nlisten: ':2'\n", { path: "", line: 2, column: 1, message: "invalid YAML: Map keys must be unique" }],
    // the file's shape
    ["a list at the top", "- 1\n- 2\n", { path: "", line: 1, column: 1, message: 'the file must hold a mapping of options and "services" (got a list)' }],
    ["services as a list", "services:\n  - web\n", { path: "services", line: 2, column: 3, message: "must be a mapping of service IDs to services (got a list)" }],
    ["a service as a scalar", "services:\n  web: 80\n", { path: "services.web", line: 2, column: 8, message: "a service must be a mapping of fields (got 80)" }],
    ["backends as a list", "services:\n  web:\n    port: 80\n    backends: [a]\n", { path: "services.web.backends", line: 4, column: 15, message: "must be a mapping of backend IDs to backends (got a list)" }],
    ["a backend as a scalar", "services:\n  web:\n    port: 80\n    backends:\n      a: x\n", { path: "services.web.backends.a", line: 5, column: 10, message: 'a backend must be a mapping of fields (got "x")' }],
    // options
    ["an unknown option", "lisen: ':80'\n", { path: "lisen", line: 1, column: 8, message: expect.stringMatching(/^unknown option "lisen" \(known: services, consul, flush, interface, listen, /) as unknown as string }],
    ["a flag-only option", "config: other.yaml\n", { path: "config", line: 1, column: 9, message: '"config" is a command-line flag only, not a config file option' }],
    ["a bad option value", "store-sync-time: 0\n", { path: "store-sync-time", line: 1, column: 18, message: "must be at least 1 second (got 0; GORB crashed on 0 or less)" }],
    ["a bad listen", "listen: 4672\n", { path: "listen", line: 1, column: 9, message: "must be a string (got 4672)" }],
    ["a bad boolean", "flush: maybe\n", { path: "flush", line: 1, column: 8, message: 'must be true or false (got "maybe")' }],
    // fields (the API's TypeBox models)
    ["an unknown service field", "services:\n  web:\n    port: 80\n    portt: 81\n", { path: "services.web.portt", line: 4, column: 12, message: expect.stringMatching(/^unknown field "portt" \(known: host, port, protocol, /) as unknown as string }],
    ["an unknown backend field", "services:\n  web:\n    port: 80\n    backends:\n      a: { host: 198.51.100.1, port: 80, wieght: 5 }\n", { path: "services.web.backends.a.wieght", line: 5, column: 50, message: expect.stringMatching(/^unknown field "wieght"/) as unknown as string }],
    ["an unknown pulse field", "services:\n  web:\n    port: 80\n    backends:\n      a: { host: 198.51.100.1, port: 80, pulse: { intervall: 5s } }\n", { path: "services.web.backends.a.pulse.intervall", line: 5, column: 62, message: expect.stringMatching(/^unknown field "intervall" \(known: type, interval, /) as unknown as string }],
    ["a port of the wrong type", "services:\n  web:\n    port: \"x\"\n", { path: "services.web.port", line: 3, column: 11, message: 'invalid value: field "port" must be an integer from 0 to 65535 (got "x")' }],
    ["a backend port out of range", "services:\n  web:\n    port: 80\n    backends:\n      web-1:\n        host: 198.51.100.1\n        port: 70000\n", { path: "services.web.backends.web-1.port", line: 7, column: 15, message: 'invalid value: field "port" must be an integer from 0 to 65535 (got 70000)' }],
    ["an unknown protocol", "services:\n  web:\n    port: 80\n    protocol: icmp\n", { path: "services.web.protocol", line: 4, column: 15, message: 'specified protocol is unknown: field "protocol" must be one of tcp, udp, sctp (got "icmp")' }],
    ["an unknown scheduler", "services:\n  web:\n    port: 80\n    method: fastest\n", { path: "services.web.method", line: 4, column: 13, message: expect.stringMatching(/^specified scheduler is unknown: field "method" must be one of rr, wrr, /) as unknown as string }],
    ["an unknown forwarding method", "services:\n  web:\n    port: 80\n    backends:\n      a: { host: 198.51.100.1, port: 80, method: nat2 }\n", { path: "services.web.backends.a.method", line: 5, column: 50, message: 'specified forwarding method is unknown: field "method" must be one of nat, tunnel, ipip, dr (got "nat2")' }],
    ["persistent as a string", "services:\n  web:\n    port: 80\n    persistent: yes\n", { path: "services.web.persistent", line: 4, column: 17, message: 'invalid value: field "persistent" must be true or false (got "yes")' }],
    // core's normalizers
    ["a service without port", "services:\n  web:\n    host: 192.0.2.1\n", { path: "services.web.port", line: 3, column: 5, message: 'endpoint information is missing: field "port" is required (1-65535), or give "fwmark"' }],
    ["a backend without host", "services:\n  web:\n    port: 80\n    backends:\n      a: { port: 80 }\n", { path: "services.web.backends.a.host", line: 5, column: 10, message: 'endpoint information is missing: field "host" is required' }],
    ["an unknown service flag", "services:\n  web:\n    port: 80\n    flags: sh-port|sh-nope\n", { path: "services.web.flags", line: 4, column: 12, message: expect.stringMatching(/^specified flag is unknown: field "flags" must be one of sh-fallback, /) as unknown as string }],
    ["a timeout without persistence", "services:\n  web:\n    port: 80\n    persistent: false\n    timeout: 60\n", { path: "services.web.timeout", line: 5, column: 14, message: 'field "timeout" sets the persistence timeout: it needs "persistent": true' }],
    ["a bad pulse interval", "services:\n  web:\n    port: 80\n    backends:\n      a:\n        host: 198.51.100.1\n        port: 80\n        pulse:\n          interval: 5 parsecs\n", { path: "services.web.backends.a.pulse.interval", line: 9, column: 21, message: expect.stringMatching(/^invalid interval format: "5 parsecs"/) as unknown as string }],
    ["a bad pulse type", "services:\n  web:\n    port: 80\n    backends:\n      a: { host: 198.51.100.1, port: 80, pulse: { type: icmp } }\n", { path: "services.web.backends.a.pulse.type", line: 5, column: 57, message: expect.stringMatching(/^specified pulse type is unknown: "icmp"/) as unknown as string }],
    ["an unresolvable host", "services:\n  web:\n    host: nowhere.example\n    port: 80\n", { path: "services.web.host", line: 3, column: 11, message: 'unable to resolve field "host" ("nowhere.example"): lookup nowhere.example: no such host' }],
    ["mixed address families", "services:\n  web:\n    host: 192.0.2.1\n    port: 80\n    backends:\n      a: { host: \"2001:db8::1\", port: 80 }\n", { path: "services.web.backends.a.host", line: 6, column: 18, message: "incompatible address families: backend 2001:db8::1 is IPv6 but service [web] is IPv4" }],
    ["lower threshold above upper", "services:\n  web:\n    port: 80\n    backends:\n      a: { host: 198.51.100.1, port: 80, upper_threshold: 5, lower_threshold: 6 }\n", { path: "services.web.backends.a.lower_threshold", line: 5, column: 79, message: 'field "lower_threshold" (6) must not exceed "upper_threshold" (5); the kernel refuses it' }],
    // what core would refuse between objects
    ["two services on one address", "services:\n  a: { host: 192.0.2.1, port: 80 }\n  b: { host: 192.0.2.1, port: 80 }\n", { path: "services.b", line: 3, column: 6, message: "service [b] has the same address, port and protocol (tcp:192.0.2.1:80) as service [a]" }],
    ["two backends on one address", "services:\n  web:\n    port: 80\n    backends:\n      a: { host: 198.51.100.1, port: 80 }\n      b: { host: 198.51.100.1, port: 80 }\n", { path: "services.web.backends.b", line: 6, column: 10, message: "backend [b] has the same address (198.51.100.1:80) as backend [a] of service [web]" }],
    ["a service ID with a slash", "services:\n  a/b: { port: 80 }\n", { path: "services.a/b", line: 2, column: 8, message: 'a service ID must be non-empty and cannot contain "/" (got "a/b")' }],
    ["a backend ID with a slash", "services:\n  web:\n    port: 80\n    backends:\n      x/y: { host: 198.51.100.1, port: 80 }\n", { path: "services.web.backends.x/y", line: 5, column: 12, message: 'a backend ID must be non-empty and cannot contain "/" (got "x/y")' }],
  ])("%s", async (_name, text, expected) => {
    expect(await problemsOf(text)).toEqual([expected]);
  });

  it("formats as file:line:column: path: message", async () => {
    try {
      await yamlConfigNamed("services:\n  web:\n    port: 80\n    backends:\n      web-1: { host: 198.51.100.1, port: \"x\" }\n", "gorb.yaml");
      throw new Error("expected a ConfigError");
    } catch (e) {
      expect((e as ConfigError).message).toBe('gorb.yaml:5:42: services.web.backends.web-1.port: invalid value: field "port" must be an integer from 0 to 65535 (got "x")');
    }
    expect(formatProblem({ file: "g.json", path: "services.web.port", message: "m" })).toBe("g.json: services.web.port: m");
    expect(formatProblem({ file: "g.json", path: "", message: "m" })).toBe("g.json: m");
  });

  it("reports every problem at once, not just the first", async () => {
    const problems = await problemsOf("lisen: 1\nflush: 2\nservices:\n  a: { port: x }\n  b: { port: 80, nope: 1 }\n  c:\n    port: 80\n    backends: { z: 5 }\n");
    expect(problems.map((p) => p.path)).toEqual(["lisen", "flush", "services.a.port", "services.b.nope", "services.c.backends.z"]);
    const semantic = await problemsOf("services:\n  a: { host: nowhere.example, port: 80 }\n  b: { port: 80, flags: x }\n");
    expect(semantic.map((p) => p.path)).toEqual(["services.a.host", "services.b.flags"]);
  });

  it("TOML and JSON problems name the path (no line numbers)", async () => {
    const toml = files.write("bad.toml", '[services.web]\nport = "x"\n');
    await expect(loadConfig(toml)).rejects.toThrow(`${toml}: services.web.port: invalid value: field "port" must be an integer from 0 to 65535 (got "x")`);
    const json = files.write("bad.json", JSON.stringify({ services: { web: { port: 80, backends: { a: { host: "198.51.100.1", port: 80, weight: "heavy" } } } } }));
    await expect(loadConfig(json)).rejects.toThrow(`${json}: services.web.backends.a.weight: invalid value: field "weight" must be an integer from -2147483648 to 2147483647 (got "heavy")`);
  });

  it.each([
    ["broken.toml", "[services.web\nport = 80\n", /^.*broken\.toml: invalid TOML: /],
    ["broken.json", '{"services": {', /^.*broken\.json: invalid JSON: /],
    ["gorb.ini", "listen=:80\n", /gorb\.ini: unknown config file format: the name must end in \.yaml, \.yml, \.toml, \.json$/],
  ])("%s", async (name, text, message) => {
    const path = files.write(name, text);
    await expect(readConfig(path)).rejects.toThrow(message);
  });

  it("a missing file", async () => {
    await expect(readConfig(`${files.dir}/absent.yaml`)).rejects.toThrow(`${files.dir}/absent.yaml: cannot read the config file: no such file`);
  });
});

describe("helpers", () => {
  it.each([
    ["a.yaml", "yaml"],
    ["a.YML", "yaml"],
    ["/etc/gorb/gorb.toml", "toml"],
    ["x.json", "json"],
    ["x.conf", undefined],
    ["noext", undefined],
  ])("formatOf(%s)", (path, format) => {
    expect(formatOf(path)).toBe(format as never);
  });

  it("formatPath quotes segments that would be ambiguous", () => {
    expect(formatPath(["services", "web", "backends", "web-1", "port"])).toBe("services.web.backends.web-1.port");
    expect(formatPath(["services", "web.v2", "port"])).toBe('services."web.v2".port');
    expect(formatPath(["services", "my web"])).toBe('services."my web"');
  });
});

describe("YAML conveniences", () => {
  it("x- keys hold anchors; merge keys reuse them", async () => {
    const config = await yamlConfig(`
x-note: anything goes here
x-health: &health { type: http, interval: 5s, args: { path: /health } }
x-backend: &backend { port: 8080, pulse: *health }
services:
  web:
    host: 192.0.2.1
    port: 80
    backends:
      web-1: { <<: *backend, host: 198.51.100.1 }
      web-2: { <<: *backend, host: 198.51.100.2, weight: 5 }
`);
    const backends = config.services.get("web")!.backends;
    expect(backends.get("web-1")!.options).toMatchObject({ port: 8080, weight: 100, pulse: { type: "http", interval: "5s", args: { path: "/health" } } });
    expect(backends.get("web-2")!.options).toMatchObject({ port: 8080, weight: 5, pulse: { type: "http" } });
  });
});
