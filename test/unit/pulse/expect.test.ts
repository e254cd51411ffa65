import { describe, expect, it } from "bun:test";
import { describeExpect, parseExpect, statusMatches } from "../../../src/pulse/expect.ts";

describe("parseExpect", () => {
  it.each([
    [200, [[200, 200]]],
    ["404", [[404, 404]]],
    [[200, 204], [[200, 200], [204, 204]]],
    ["200,204", [[200, 200], [204, 204]]],
    [" 200 , 301-302 ", [[200, 200], [301, 302]]],
    ["200-299", [[200, 299]]],
    [["200-299", 404], [[200, 299], [404, 404]]],
  ] as const)("reads %p", (value, ranges) => {
    expect(parseExpect(value)).toEqual(ranges as unknown as [number, number][]);
  });

  it.each([["", ""], ["abc", "abc"], ["99", "99"], ["600", "600"], ["299-200", "299-200"], ["200,", "200,"], ["empty list", []], ["float", 200.5], ["bool", true], ["null", null]] as const)(
    "refuses %s",
    (_, value) => {
      expect(parseExpect(value)).toBeUndefined();
    },
  );
});

describe("statusMatches", () => {
  const ranges = parseExpect("200-299,304")!;
  it.each([
    [200, true],
    [204, true],
    [299, true],
    [304, true],
    [300, false],
    [503, false],
  ] as const)("%p → %p", (status, ok) => {
    expect(statusMatches(ranges, status)).toBe(ok);
  });

  it("describes ranges for messages", () => {
    expect(describeExpect(ranges)).toBe("200-299, 304");
  });
});
