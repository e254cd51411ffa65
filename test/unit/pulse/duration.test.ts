import { describe, expect, it } from "bun:test";
import { formatDuration, parseDuration } from "../../../src/pulse/duration.ts";

describe("parseDuration", () => {
  it.each([
    ["10s", 10_000],
    [" 10SEC ", 10_000],
    ["5seconds", 5_000],
    ["1m", 60_000],
    ["2min", 120_000],
    ["3Minutes", 180_000],
    ["1h", 3_600_000],
    ["2hours", 7_200_000],
    ["+7s", 7_000],
    ["-5s", -5_000],
    ["0s", 0],
  ] as const)("reads GORB's form %p", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ["500ms", 500],
    ["1m30s", 90_000],
    ["1h2m3.5s", 3_723_500],
    ["1.5h", 5_400_000],
    [".5s", 500],
    ["250us", 0.25],
    ["100µs", 0.1],
    ["1000000ns", 1],
    ["0", 0],
    ["-1m30s", -90_000],
  ] as const)("reads Go's form %p", (text, ms) => {
    expect(parseDuration(text)).toBeCloseTo(ms, 9);
  });

  it.each([
    [30, 30_000],
    [0.5, 500],
    [0, 0],
  ] as const)("reads a number %p as seconds", (n, ms) => {
    expect(parseDuration(n)).toBe(ms);
  });

  it.each(["", "10", "10 s", "1hour", "s", "1m30", "1d", "abc", "1s2", "--1s", "1.2.3s"])("refuses %p", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it("refuses non-finite numbers", () => {
    expect(parseDuration(Number.NaN)).toBeUndefined();
    expect(parseDuration(Number.POSITIVE_INFINITY)).toBeUndefined();
  });
});

describe("formatDuration", () => {
  it.each([
    [120_000, "2m"],
    [5_000, "5s"],
    [1_500, "1.5s"],
    [250, "250ms"],
  ] as const)("formats %p as %p", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
