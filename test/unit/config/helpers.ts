/** Test helpers for config files: a temp dir to write them in, and parse+resolve from text. */
import { afterAll } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig, resolveConfig, type ConfigFile, type ResolveContext } from "../../../src/config/file.ts";
import { fakeResolve } from "../api/helpers.ts";

export { fakeResolve };

/** A temp dir removed after the file's tests; `write(name, text)` returns the path. */
export function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), "gorb-config-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    write(name: string, text: string): string {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
  };
}

/** YAML text → a resolved ConfigFile (fake DNS, default VIP 192.0.2.1). */
export async function yamlConfig(text: string, ctx: ResolveContext = {}): Promise<ConfigFile> {
  return resolveConfig(parseConfig(text, "test.yaml"), { resolve: fakeResolve, defaultHost: "192.0.2.1", ...ctx });
}
