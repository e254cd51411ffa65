import { describe, expect, it } from "bun:test";
import { CHANGE_ORDER, changedOptions, diffConfig, sameJson, type ConfigChange } from "../../../src/config/diff.ts";
import { EMPTY_CONFIG } from "../../../src/config/file.ts";
import { yamlConfig } from "./helpers.ts";

const BASE = `
services:
  web:
    host: 192.0.2.1
    port: 80
    backends:
      web-1: { host: 198.51.100.1, port: 8080 }
      web-2: { host: 198.51.100.2, port: 8080, weight: 50 }
  dns:
    host: 192.0.2.53
    port: 53
    protocol: udp
    backends:
      ns1: { host: 198.51.100.53, port: 53 }
`;

/** Changes as short strings: "create-backend web/web-1". */
function short(changes: ConfigChange[]): string[] {
  return changes.map((c) => `${c.kind} ${c.service}${"backend" in c ? `/${c.backend}` : ""}`);
}

/** BASE with one replacement applied. */
const edit = (from: string, to: string) => {
  if (!BASE.includes(from)) throw new Error(`not in BASE: ${from}`);
  return BASE.replace(from, to);
};

describe("diffConfig", () => {
  it.each<[string, string, string, string[]]>([
    ["nothing to nothing", "", "", []],
    ["the same file", BASE, BASE, []],
    ["the same meaning, written differently", BASE, edit("protocol: udp", "protocol: UDP\n    method: wrr"), []],
    [
      "a first start: everything is created, services first",
      "",
      BASE,
      ["create-service dns", "create-service web", "create-backend dns/ns1", "create-backend web/web-1", "create-backend web/web-2"],
    ],
    ["all gone", BASE, "", ["delete-service dns", "delete-service web"]],
    ["a backend's weight", BASE, edit("weight: 50", "weight: 70"), ["update-backend web/web-2"]],
    ["a backend's health check", BASE, edit("port: 8080 }\n      web-2", "port: 8080, pulse: { type: http } }\n      web-2"), ["update-backend web/web-1"]],
    ["a backend moves", BASE, edit("198.51.100.1, port: 8080", "198.51.100.9, port: 8080"), ["update-backend web/web-1"]],
    ["a backend added", BASE, edit("      ns1:", "      ns2: { host: 198.51.100.54, port: 53 }\n      ns1:"), ["create-backend dns/ns2"]],
    ["a backend removed", BASE, edit("      web-2: { host: 198.51.100.2, port: 8080, weight: 50 }\n", ""), ["delete-backend web/web-2"]],
    ["a service's scheduler", BASE, edit("    port: 80\n", "    port: 80\n    method: lc\n"), ["update-service web"]],
    ["a service's persistence", BASE, edit("    port: 80\n", "    port: 80\n    persistent: true\n"), ["update-service web"]],
    [
      "a service's port: deleted and created again with its backends",
      BASE,
      edit("    port: 80\n", "    port: 8000\n"),
      ["delete-service web", "create-service web", "create-backend web/web-1", "create-backend web/web-2"],
    ],
    ["a service's protocol", BASE, edit("protocol: udp", "protocol: tcp"), ["delete-service dns", "create-service dns", "create-backend dns/ns1"]],
    // lb.example resolves to 192.0.2.50: the same kernel identity, so an in-place update
    ["a host written as a name for the same address", edit("192.0.2.53", "192.0.2.50"), edit("192.0.2.53", "lb.example"), ["update-service dns"]],
    [
      "everything at once, in order",
      BASE,
      `
services:
  web:
    host: 192.0.2.1
    port: 80
    method: rr
    backends:
      web-1: { host: 198.51.100.1, port: 8080, weight: 10 }
      web-3: { host: 198.51.100.3, port: 8080 }
  api:
    host: 192.0.2.2
    port: 443
    backends:
      a: { host: 198.51.100.7, port: 8443 }
`,
      ["delete-backend web/web-2", "delete-service dns", "update-service web", "create-service api", "update-backend web/web-1", "create-backend api/a", "create-backend web/web-3"],
    ],
  ])("%s", async (_name, before, after, expected) => {
    const changes = diffConfig(before === "" ? EMPTY_CONFIG : await yamlConfig(before), after === "" ? EMPTY_CONFIG : await yamlConfig(after));
    expect(short(changes)).toEqual(expected);
    // always in CHANGE_ORDER
    const ranks = changes.map((c) => CHANGE_ORDER.indexOf(c.kind));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
  });

  it("updates carry complete inputs, so fields dropped from the file go back to their defaults", async () => {
    const before = await yamlConfig(`services: { web: { port: 80, method: lc, persistent: true, timeout: 60, backends: { a: { host: 198.51.100.1, port: 80, upper_threshold: 9, pulse: { type: http, interval: 5s } } } } }`);
    const after = await yamlConfig(`services: { web: { port: 80, backends: { a: { host: 198.51.100.1, port: 80 } } } }`);
    const changes = diffConfig(before, after);
    expect(changes).toEqual([
      { kind: "update-service", service: "web", input: { host: "", port: 80, protocol: "tcp", method: "wrr", flags: "", persistent: false, netmask: 32, all_down: "zero" } },
      {
        kind: "update-backend",
        service: "web",
        backend: "a",
        input: { host: "198.51.100.1", port: 80, weight: 100, method: "nat", pulse: { type: "tcp", interval: "1m", args: null }, upper_threshold: 0, lower_threshold: 0 },
      },
    ]);
  });

  it("a re-created service says why", async () => {
    const changes = diffConfig(await yamlConfig(BASE), await yamlConfig(edit("    port: 80\n", "    port: 8000\n")));
    expect(changes[0]).toEqual({ kind: "delete-service", service: "web", reason: "its identity changed from tcp:192.0.2.1:80 to tcp:192.0.2.1:8000" });
  });
});

describe("changedOptions", () => {
  it.each<[string, string, string[]]>([
    ["", "", []],
    ["listen: ':1'", "listen: ':1'", []],
    ["listen: ':1'", "listen: ':2'", ["listen"]],
    ["", "flush: true\nvipi: lo", ["flush", "vipInterface"]],
    ["reconcile-interval: 30s", "reconcile-interval: 30000ms", []],
  ])("%j → %j", async (before, after, expected) => {
    expect(changedOptions((await yamlConfig(before)).options, (await yamlConfig(after)).options)).toEqual(expected as never);
  });
});

describe("sameJson", () => {
  it.each<[unknown, unknown, boolean]>([
    [{ a: 1, b: { c: 2, d: 3 } }, { b: { d: 3, c: 2 }, a: 1 }, true],
    [{ a: [1, 2] }, { a: [2, 1] }, false],
    [{ a: null }, { a: undefined }, false],
  ])("%j %j", (a, b, same) => {
    expect(sameJson(a, b)).toBe(same);
  });
});
