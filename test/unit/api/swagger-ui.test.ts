/**
 * Opens Swagger UI in headless Chromium (Debian's `chromium`, driven by playwright-core) with every
 * request that is not for the loopback server blocked, and checks that the operations are listed.
 * Skipped (with the reason printed) when no Chromium is installed; in CI (CI=true) that is a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { setup } from "./helpers.ts";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser", process.env.CHROMIUM_PATH ?? ""].find((p) => p !== "" && existsSync(p));
if (!CHROMIUM) console.warn("swagger-ui.test.ts: skipped, no chromium (apt-get install chromium)");
const inCi = process.env.CI === "true" || process.env.CI === "1";

it.if(inCi)("Chromium is installed for the Swagger UI test (apt-get install chromium)", () => {
  expect(CHROMIUM).toBeDefined();
});

describe.skipIf(!CHROMIUM)("Swagger UI in headless Chromium", () => {
  let browser: Browser;
  let server: { stop(force?: boolean): Promise<void> | void; port?: number } | undefined;
  let base = "";

  beforeAll(async () => {
    const { app } = setup();
    app.listen({ hostname: "127.0.0.1", port: 0 });
    server = app.server!;
    base = `http://127.0.0.1:${app.server!.port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop(true);
  });

  it("lists every operation with no request leaving the host", async () => {
    const page = await browser.newPage();
    const blocked: string[] = [];
    const served: string[] = [];
    await page.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === "127.0.0.1" || url.hostname === "localhost" || url.hostname === "[::1]") {
        served.push(url.pathname);
        return route.continue();
      }
      if (url.protocol === "data:" || url.protocol === "blob:") return route.continue();
      blocked.push(url.href);
      return route.abort();
    });
    await page.goto(`${base}/swagger`);
    await page.waitForSelector(".opblock", { timeout: 20_000 });
    const operations = await page.$$eval(".opblock-summary", (nodes) =>
      nodes.map((n) => `${n.querySelector(".opblock-summary-method")?.textContent?.trim()} ${n.querySelector(".opblock-summary-path")?.getAttribute("data-path")}`),
    );
    expect(operations.sort()).toEqual(
      [
        "GET /service",
        "PUT /service/{vs}",
        "GET /service/{vs}",
        "PATCH /service/{vs}",
        "DELETE /service/{vs}",
        "PUT /service/{vs}/{rs}",
        "GET /service/{vs}/{rs}",
        "PATCH /service/{vs}/{rs}",
        "DELETE /service/{vs}/{rs}",
        "GET /reconcile",
        "POST /reconcile",
        "GET /status",
      ].sort(),
    );
    expect(blocked).toEqual([]);
    expect(served).toContain("/openapi.json");
    expect(served).toContain("/swagger/swagger-ui-bundle.js");
    await page.close();
  }, 60_000);
});
