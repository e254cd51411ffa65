import { describe, expect, it } from "bun:test";
import { Value } from "@sinclair/typebox/value";
import { echoPulseSpec, normalizePulseSpec, PulseSpecError, PulseSpecSchema, type PulseSpecInput } from "../../../src/pulse/spec.ts";

/** The PulseSpecError `input` raises (fails the test if none). */
function specError(input: unknown): PulseSpecError {
  try {
    normalizePulseSpec(input as PulseSpecInput);
  } catch (error) {
    if (error instanceof PulseSpecError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

describe("normalizePulseSpec defaults", () => {
  it.each([null, undefined, {}])("fills GORB's defaults for %p: tcp every minute, 5 s timeout", (input) => {
    const spec = normalizePulseSpec(input);
    expect(spec).toEqual({
      type: "tcp", intervalMs: 60_000, timeoutMs: 5_000, rise: 1, fall: 1, window: 100,
      backoffMaxMs: null, slowStartMs: 0, host: null, port: null, http: null, dns: null,
    });
  });

  it("defaults the timeout to the interval when that is shorter than 5 s", () => {
    expect(normalizePulseSpec({ interval: "2s" }).timeoutMs).toBe(2_000);
    expect(normalizePulseSpec({ interval: "500ms" }).timeoutMs).toBe(500);
    expect(normalizePulseSpec({ interval: "10s", timeout: "7s" }).timeoutMs).toBe(7_000);
  });

  it("fills GORB's http defaults: GET / expecting 200, no redirects, no verification", () => {
    expect(normalizePulseSpec({ type: "http" }).http).toEqual({
      method: "GET", path: "/", expect: [[200, 200]], hostHeader: null, headers: {},
      tlsVerify: false, sni: null, followRedirects: false,
    });
  });
});

describe("normalizePulseSpec type", () => {
  it.each(["tcp", "TCP", " Http ", "https", "none", "NONE"])("accepts %p case-insensitively", (type) => {
    expect(normalizePulseSpec({ type, args: { name: "x" } }).type).toBe(type.trim().toLowerCase() as never);
  });

  it("refuses an unknown type, naming the field and the allowed values", () => {
    const error = specError({ type: "icmp" });
    expect(error.field).toBe("pulse.type");
    expect(error.code).toBe("PULSE_SPEC_INVALID");
    expect(error.message).toStartWith("specified pulse type is unknown");
    expect(error.message).toContain("none, tcp, http, https, dns");
  });
});

describe("normalizePulseSpec interval", () => {
  it.each([
    [" 10SEC ", 10_000],
    ["5min", 300_000],
    ["1m30s", 90_000],
    ["500ms", 500],
    [15, 15_000],
    [0.25, 250],
  ] as const)("reads %p", (interval, ms) => {
    expect(normalizePulseSpec({ interval }).intervalMs).toBe(ms);
  });

  it.each(["0s", "-5s", 0, -1, "-1m30s"])("refuses %p with GORB's message", (interval) => {
    const error = specError({ interval });
    expect(error.field).toBe("pulse.interval");
    expect(error.message).toStartWith("pulse interval must be positive");
  });

  it.each(["10", "1hour", "10 s", "fast", true])("refuses the format of %p", (interval) => {
    const error = specError({ interval });
    expect(error.field).toBe("pulse.interval");
    expect(error.message).toStartWith("invalid interval format");
    expect(error.message).toContain("1m30s");
  });

  it("refuses sub-millisecond intervals", () => {
    expect(specError({ interval: "500us" }).message).toContain("at least 1ms");
  });

  it("refuses a non-positive timeout", () => {
    expect(specError({ timeout: "0s" }).field).toBe("pulse.timeout");
  });
});

describe("normalizePulseSpec counts and options", () => {
  it("reads rise, fall and window as numbers or digit strings", () => {
    const spec = normalizePulseSpec({ rise: "3", fall: 2, window: "10" });
    expect([spec.rise, spec.fall, spec.window]).toEqual([3, 2, 10]);
  });

  it.each([
    ["rise", 0],
    ["fall", -1],
    ["rise", 1.5],
    ["window", 0],
    ["window", 1001],
    ["fall", "two"],
  ] as const)("refuses %s = %p", (key, value) => {
    const error = specError({ [key]: value });
    expect(error.field).toBe(`pulse.${key}`);
    expect(error.message).toContain("must be an integer");
  });

  it("reads back-off and slow start as durations", () => {
    const spec = normalizePulseSpec({ interval: "1s", backoff_max: "1m", slow_start: 30 });
    expect(spec.backoffMaxMs).toBe(60_000);
    expect(spec.slowStartMs).toBe(30_000);
    expect(normalizePulseSpec({ backoff_max: 0 }).backoffMaxMs).toBeNull();
    expect(normalizePulseSpec({ slow_start: "90s" }).slowStartMs).toBe(90_000);
  });

  it("refuses a back-off cap below the interval and a negative slow start", () => {
    expect(specError({ interval: "10s", backoff_max: "5s" }).field).toBe("pulse.backoff_max");
    expect(specError({ slow_start: -1 }).field).toBe("pulse.slow_start");
  });

  it("refuses args that are not an object", () => {
    expect(specError({ args: "x" as never }).field).toBe("pulse.args");
    expect(specError({ args: [] as never }).field).toBe("pulse.args");
  });
});

describe("normalizePulseSpec args", () => {
  it("accepts numbers where GORB panicked (expect, port) and digit strings as GORB wanted", () => {
    const numbers = normalizePulseSpec({ type: "http", args: { expect: 404, port: 8080 } });
    const strings = normalizePulseSpec({ type: "http", args: { expect: "404", port: "8080" } });
    expect(numbers.http!.expect).toEqual([[404, 404]]);
    expect(numbers.port).toBe(8080);
    expect(strings).toEqual(numbers);
  });

  it("reads every http argument", () => {
    const spec = normalizePulseSpec({
      type: "https",
      args: {
        method: "head", path: "/health?deep=1", expect: "200-299", host: "[::1]", port: "8443",
        host_header: "svc.example:8443", headers: { "X-Check": "gorb", "X-Num": 7 } as never, tls_verify: "true",
        sni: "svc.example", follow_redirects: true,
      },
    });
    expect(spec.host).toBe("::1");
    expect(spec.port).toBe(8443);
    expect(spec.http).toEqual({
      method: "HEAD", path: "/health?deep=1", expect: [[200, 299]], hostHeader: "svc.example:8443",
      headers: { "X-Check": "gorb", "X-Num": "7" }, tlsVerify: true, sni: "svc.example", followRedirects: true,
    });
  });

  it.each([
    ["path", "health", "pulse.args.path"],
    ["path", "/a b", "pulse.args.path"],
    ["expect", "", "pulse.args.expect"],
    ["expect", "ok", "pulse.args.expect"],
    ["port", 70000, "pulse.args.port"],
    ["port", "http", "pulse.args.port"],
    ["method", "GE T", "pulse.args.method"],
    ["method", 5, "pulse.args.method"],
    ["tls_verify", "yes", "pulse.args.tls_verify"],
    ["headers", ["x"], "pulse.args.headers"],
    ["sni", "not a name", "pulse.args.sni"],
  ] as const)("refuses args.%s = %p", (key, value, field) => {
    expect(specError({ type: "http", args: { [key]: value } as never }).field).toBe(field);
  });

  it("ignores http arguments for tcp but honours the host/port override", () => {
    const spec = normalizePulseSpec({ type: "tcp", args: { path: "ignored", host: "10.0.0.9", port: 9000 } });
    expect(spec.http).toBeNull();
    expect([spec.host, spec.port]).toEqual(["10.0.0.9", 9000]);
  });

  it("requires a name for dns and reads the record type", () => {
    expect(specError({ type: "dns" }).field).toBe("pulse.args.name");
    expect(normalizePulseSpec({ type: "dns", args: { name: "example.com" } }).dns).toEqual({ name: "example.com", record: "A" });
    expect(normalizePulseSpec({ type: "dns", args: { name: "example.com.", record: "aaaa" } }).dns).toEqual({ name: "example.com.", record: "AAAA" });
    const error = specError({ type: "dns", args: { name: "example.com", record: "MX" } });
    expect(error.field).toBe("pulse.args.record");
    expect(error.message).toContain("A, AAAA");
  });
});

describe("echoPulseSpec", () => {
  it("keeps the interval as written and the args verbatim, like GORB", () => {
    const input = { type: "HTTP", interval: " 10SEC ", args: { expect: "404" }, rise: 2 };
    expect(echoPulseSpec(input)).toEqual({ type: "http", interval: " 10SEC ", args: { expect: "404" }, rise: 2 });
    expect(Object.keys(echoPulseSpec(input))).toEqual(["type", "interval", "args", "rise"]);
  });

  it("echoes GORB's defaults for an absent pulse", () => {
    expect(echoPulseSpec(null)).toEqual({ type: "tcp", interval: "1m", args: null });
  });
});

describe("PulseSpecSchema", () => {
  it("accepts the forms normalizePulseSpec accepts", () => {
    for (const input of [
      {},
      { type: "http", interval: 10, args: { expect: [200, "204"], port: 8080, headers: { a: "b" } } },
      { type: "dns", interval: "1m30s", args: { name: "x.test" }, rise: "2", backoff_max: null, slow_start: 30 },
    ]) {
      expect(Value.Check(PulseSpecSchema, input)).toBe(true);
    }
  });

  it("refuses wrong JSON types", () => {
    expect(Value.Check(PulseSpecSchema, { interval: true })).toBe(false);
    expect(Value.Check(PulseSpecSchema, { args: { path: 5 } })).toBe(false);
  });
});
