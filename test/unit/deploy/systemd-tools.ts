/**
 * @module Gating for the deploy tests: they need systemd-analyze (Debian package systemd) and
 * libseccomp (libseccomp2, which systemd depends on).
 * Missing in CI (CI=true) is a failure naming the package; elsewhere the tests are skipped, loudly.
 */
import { test } from "bun:test";
import { dlopen, FFIType } from "bun:ffi";

/** `test` when `tool` is on PATH; else a failing test in CI, or a loud skip. */
export function testWithTool(tool: string, debianPackage: string): typeof test {
  return testWhen(Bun.which(tool) !== null, `${tool} not found`, debianPackage);
}

/** `test` when the shared library loads (with `symbol`); else a failing test in CI, or a loud skip. */
export function testWithLibrary(file: string, symbol: string, debianPackage: string): typeof test {
  let loads = true;
  try {
    dlopen(file, { [symbol]: { args: [], returns: FFIType.ptr } }).close();
  } catch (e) {
    loads = !/cannot open shared object|no such file|not found/i.test(String(e));
  }
  return testWhen(loads, `${file} not found`, debianPackage);
}

function testWhen(available: boolean, what: string, debianPackage: string): typeof test {
  if (available) return test;
  const message = `${what}: install the Debian package ${debianPackage} (apt-get install ${debianPackage})`;
  if (process.env.CI === "true" || process.env.CI === "1") {
    test(`${what.replace(" not found", "")} is installed`, () => {
      throw new Error(message);
    });
  } else {
    console.warn(`\n!!! SKIPPING ${Bun.main.split("/").pop()}: ${message} !!!\n`);
  }
  return test.skip;
}

/** A unit file as directives: key → values in order (keys may repeat). Comments and sections dropped. */
export function parseUnit(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";") || line.startsWith("[")) continue;
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const list = out.get(key) ?? [];
    list.push(line.slice(eq + 1).trim());
    out.set(key, list);
  }
  return out;
}
