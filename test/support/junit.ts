/** @module Counts from a bun:test JUnit report, the one format every tier writes. */
export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

export function readJunitCounts(xml: string): Counts | undefined {
  const m = /<testsuites\b[^>]*>/.exec(xml);
  if (!m) return undefined;
  const attr = (name: string) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(m[0])?.[1] ?? 0);
  const tests = attr("tests");
  const failed = attr("failures") + attr("errors");
  const skipped = attr("skipped");
  return { passed: tests - failed - skipped, failed, skipped };
}
