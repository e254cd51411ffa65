import { describe, expect, it } from "bun:test";
import { applyAllDownPolicy, isAllDown, isAllDownPolicy, type AllDownInput } from "../../../src/pulse/all-down.ts";

const b = (configured: number, effective: number, status: AllDownInput["status"]): AllDownInput => ({ configured, effective, status });

describe("applyAllDownPolicy", () => {
  const allDown = [b(100, 0, "down"), b(50, 0, "down"), b(0, 0, "up")];

  it("zero (GORB) leaves every down backend at 0", () => {
    expect(applyAllDownPolicy("zero", allDown)).toEqual([0, 0, 0]);
  });

  it("keep restores the configured weights so traffic still flows", () => {
    expect(applyAllDownPolicy("keep", allDown)).toEqual([100, 50, 0]);
  });

  it("one sets weight 1 on every backend, except those drained at 0", () => {
    expect(applyAllDownPolicy("one", allDown)).toEqual([1, 1, 0]);
  });

  it.each(["zero", "keep", "one"] as const)("%s passes effective weights through while one backend serves", (policy) => {
    const mixed = [b(100, 0, "down"), b(50, 25, "up"), b(10, 10, "unknown")];
    expect(applyAllDownPolicy(policy, mixed)).toEqual([0, 25, 10]);
  });

  it("treats recovering backends truncated to 0 as serving nothing", () => {
    const stuck = [b(1, 0, "down"), b(1, 0, "up")];
    expect(isAllDown(stuck)).toBe(true);
    expect(applyAllDownPolicy("keep", stuck)).toEqual([1, 1]);
  });

  it("is never triggered by a service whose backends are all drained, or empty", () => {
    expect(isAllDown([b(0, 0, "down")])).toBe(false);
    expect(isAllDown([])).toBe(false);
    expect(applyAllDownPolicy("one", [b(0, 0, "down")])).toEqual([0]);
    expect(applyAllDownPolicy("keep", [])).toEqual([]);
  });

  it("is not triggered while a backend is still unknown (it keeps its configured weight)", () => {
    expect(isAllDown([b(100, 0, "down"), b(100, 100, "unknown")])).toBe(false);
  });
});

describe("isAllDownPolicy", () => {
  it("accepts the three policies only", () => {
    expect(["zero", "keep", "one", "ZERO", "", 1].map(isAllDownPolicy)).toEqual([true, true, true, false, false, false]);
  });
});
