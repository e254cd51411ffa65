import { describe, expect, it } from "bun:test";
import { DEFAULT_FLAGS, FlagError, parseFlags, parseListen } from "../../../src/config/flags.ts";

describe("parseFlags", () => {
  it.each<[string[], Partial<typeof DEFAULT_FLAGS>]>([
    [[], {}],
    [["--ipvs", "memory"], { ipvs: "memory" }],
    [["-ipvs=auto"], { ipvs: "auto" }],
    [["-l", "127.0.0.1:0", "-i", "lo"], { listen: "127.0.0.1:0", iface: "lo" }],
    [["--listen=[::1]:4672"], { listen: "[::1]:4672" }],
    [["-h"], { help: true }],
    [["--help=false"], { help: false }],
  ])("%j", (argv, expected) => {
    expect(parseFlags(argv)).toEqual({ ...DEFAULT_FLAGS, ...expected });
  });

  it.each([[["--ipvs", "fake"]], [["-x"]], [["-l"]], [["stray"]], [["-h=maybe"]]])("refuses %j", (argv) => {
    expect(() => parseFlags(argv)).toThrow(FlagError);
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
