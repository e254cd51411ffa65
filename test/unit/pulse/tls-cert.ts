/** @module A self-signed certificate for HTTPS tests: made with the openssl CLI when present, else the checked-in fixture. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCert {
  readonly cert: string;
  readonly key: string;
  readonly source: "openssl" | "fixture";
}

export function testCert(): TestCert {
  if (Bun.which("openssl") !== null) {
    const dir = mkdtempSync(join(tmpdir(), "pulse-cert-"));
    try {
      const made = Bun.spawnSync([
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "2", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost,DNS:pulse.test,IP:127.0.0.1,IP:::1",
      ], { stderr: "pipe", stdout: "pipe" });
      if (made.exitCode === 0) {
        return { cert: readFileSync(join(dir, "cert.pem"), "utf8"), key: readFileSync(join(dir, "key.pem"), "utf8"), source: "openssl" };
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const fixtures = join(import.meta.dir, "fixtures");
  return { cert: readFileSync(join(fixtures, "test-cert.pem"), "utf8"), key: readFileSync(join(fixtures, "test-key.pem"), "utf8"), source: "fixture" };
}
