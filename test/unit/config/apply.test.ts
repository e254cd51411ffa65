import { describe, expect, it } from "bun:test";
import {
  applyConfig,
  applyConfigChanges,
  configReloader,
  describeChange,
  formatResult,
  patchOf,
  reloadConfig,
  settleConfig,
  type ChangeResult,
  type ConfigTarget,
} from "../../../src/config/apply.ts";
import { diffConfig, type ConfigChange } from "../../../src/config/diff.ts";
import { EMPTY_CONFIG, loadConfig } from "../../../src/config/file.ts";
import type { MemoryIpvs } from "../../../src/ipvs/memory-ipvs.ts";
import { serviceId } from "../../../src/ipvs/keys.ts";
import { setup } from "../api/helpers.ts";
import { fakeResolve, tempDir, yamlConfig } from "./helpers.ts";

const files = tempDir();

const BASE = `
services:
  web:
    host: 192.0.2.1
    port: 80
    backends:
      web-1: { host: 198.51.100.1, port: 8080 }
      web-2: { host: 198.51.100.2, port: 8080, weight: 50 }
  dns:
    host: 192.0.2.53
    port: 53
    protocol: udp
    method: rr
    backends:
      ns1: { host: 198.51.100.53, port: 53, pulse: { type: none } }
`;

/** The kernel table as short strings: "tcp:192.0.2.1:80 wrr 198.51.100.1:8080=100 ...". */
async function kernel(ipvs: MemoryIpvs): Promise<string[]> {
  const table = await ipvs.table();
  return table
    .map(({ service, destinations }) =>
      [serviceId(service.key), service.scheduler, ...destinations.map((d) => `${d.address}:${d.port}=${d.weight}`).sort()].join(" "),
    )
    .sort();
}

const outcomes = (results: readonly ChangeResult[]) => results.map((r) => `${describeChange(r.change)}: ${r.outcome}`);

describe("applyConfigChanges on a Core over MemoryIpvs", () => {
  it("a first apply creates every service and backend", async () => {
    const { core, ipvs } = setup();
    const config = await yamlConfig(BASE);
    const { results, config: applied } = await applyConfig(core, EMPTY_CONFIG, config);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(outcomes(results)).toEqual([
      "create service [dns]: created",
      "create service [web]: created",
      "create backend [dns/ns1]: created",
      "create backend [web/web-1]: created",
      "create backend [web/web-2]: created",
    ]);
    expect(applied).toBe(config);
    expect(core.listServices()).toEqual(["dns", "web"]);
    expect(await kernel(ipvs)).toEqual(["tcp:192.0.2.1:80 wrr 198.51.100.1:8080=100 198.51.100.2:8080=50", "udp:192.0.2.53:53 rr 198.51.100.53:53=100"]);
    await core.stop();
  });

  it("a reload applies only the difference", async () => {
    const { core, ipvs } = setup();
    const first = await yamlConfig(BASE);
    await applyConfig(core, EMPTY_CONFIG, first);
    const next = await yamlConfig(
      BASE.replace("weight: 50", "weight: 70").replace("      ns1:", "      ns2: { host: 198.51.100.54, port: 53 }\n      ns1:").replace("    method: rr\n", "    method: lc\n"),
    );
    const { results } = await applyConfig(core, first, next);
    expect(outcomes(results)).toEqual(["update service [dns]: updated", "update backend [web/web-2]: updated", "create backend [dns/ns2]: created"]);
    expect(await kernel(ipvs)).toEqual([
      "tcp:192.0.2.1:80 wrr 198.51.100.1:8080=100 198.51.100.2:8080=70",
      "udp:192.0.2.53:53 lc 198.51.100.53:53=100 198.51.100.54:53=100",
    ]);
    await core.stop();
  });

  it("deletes backends and services the file no longer declares, and leaves the API's alone", async () => {
    const { core, ipvs, req } = setup();
    const first = await yamlConfig(BASE);
    await applyConfig(core, EMPTY_CONFIG, first);
    expect((await req("PUT", "/service/api", { host: "192.0.2.9", port: 443 })).status).toBe(200);
    const next = await yamlConfig(`services: { web: { host: 192.0.2.1, port: 80, backends: { web-1: { host: 198.51.100.1, port: 8080 } } } }`);
    const { results } = await applyConfig(core, first, next);
    expect(outcomes(results)).toEqual(["delete backend [web/web-2]: deleted", "delete service [dns]: deleted"]);
    expect(core.listServices()).toEqual(["api", "web"]);
    expect(await kernel(ipvs)).toEqual(["tcp:192.0.2.1:80 wrr 198.51.100.1:8080=100", "tcp:192.0.2.9:443 wrr"]);
    await core.stop();
  });

  it("a changed port re-creates the service with its backends", async () => {
    const { core, ipvs } = setup();
    const first = await yamlConfig(BASE);
    await applyConfig(core, EMPTY_CONFIG, first);
    const { results } = await applyConfig(core, first, await yamlConfig(BASE.replace("    port: 80\n", "    port: 8000\n")));
    expect(outcomes(results)).toEqual([
      "delete service [web] (its identity changed from tcp:192.0.2.1:80 to tcp:192.0.2.1:8000): deleted",
      "create service [web]: created",
      "create backend [web/web-1]: created",
      "create backend [web/web-2]: created",
    ]);
    expect(await kernel(ipvs)).toContain("tcp:192.0.2.1:8000 wrr 198.51.100.1:8080=100 198.51.100.2:8080=50");
    expect(await kernel(ipvs)).toHaveLength(2);
    await core.stop();
  });

  it("tolerates a state that moved: creates update, updates create, deletes of nothing are done", async () => {
    const { core, ipvs, req } = setup();
    // Already there (restored state, or made through the API) with other settings.
    expect((await req("PUT", "/service/web", { host: "192.0.2.1", port: 80, method: "lc" })).status).toBe(200);
    expect((await req("PUT", "/service/web/web-1", { host: "198.51.100.1", port: 8080, weight: 5 })).status).toBe(200);
    const config = await yamlConfig(BASE);
    const results = await applyConfigChanges(core, diffConfig(EMPTY_CONFIG, config));
    expect(outcomes(results)).toEqual([
      "create service [dns]: created",
      "create service [web]: updated",
      "create backend [dns/ns1]: created",
      "create backend [web/web-1]: updated",
      "create backend [web/web-2]: created",
    ]);
    expect(await kernel(ipvs)).toContain("tcp:192.0.2.1:80 wrr 198.51.100.1:8080=100 198.51.100.2:8080=50");

    // Deleted through the API meanwhile: the file's delete and update still succeed.
    expect((await req("DELETE", "/service/web/web-2")).status).toBe(200);
    expect((await req("DELETE", "/service/dns")).status).toBe(200);
    const changes: ConfigChange[] = [
      { kind: "delete-backend", service: "web", backend: "web-2" },
      { kind: "delete-service", service: "dns" },
      { kind: "update-backend", service: "web", backend: "web-3", input: { host: "198.51.100.3", port: 8080 } },
    ];
    expect(outcomes(await applyConfigChanges(core, changes))).toEqual([
      "delete backend [web/web-2]: absent",
      "delete service [dns]: absent",
      "update backend [web/web-3]: created",
    ]);
    await core.stop();
  });

  it("runs changes in order even when given out of order", async () => {
    const { core } = setup();
    const config = await yamlConfig(BASE);
    const results = await applyConfigChanges(core, diffConfig(EMPTY_CONFIG, config).reverse());
    expect(results.every((r) => r.ok)).toBe(true);
    await core.stop();
  });

  it("reports failures per change, skips the backends of a service that failed, and retries them on the next reload", async () => {
    const { core, ipvs, req } = setup();
    // The API holds web's address under another ID: creating web conflicts.
    expect((await req("PUT", "/service/other", { host: "192.0.2.1", port: 80 })).status).toBe(200);
    const config = await yamlConfig(BASE);
    const { results, config: applied } = await applyConfig(core, EMPTY_CONFIG, config);
    expect(results.map(formatResult)).toEqual([
      "create service [dns]: created",
      expect.stringMatching(/^create service \[web\]: failed: specified object already exists: /) as unknown as string,
      "create backend [dns/ns1]: created",
      "create backend [web/web-1]: skipped: the creation of service [web] failed",
      "create backend [web/web-2]: skipped: the creation of service [web] failed",
    ]);
    expect(results.filter((r) => !r.ok).map((r) => r.outcome)).toEqual(["failed", "skipped", "skipped"]);
    // What failed is left out of the applied config...
    expect([...applied.services.keys()]).toEqual(["dns"]);
    // ...so once the conflict is gone, reloading the same file creates it.
    expect((await req("DELETE", "/service/other")).status).toBe(200);
    const again = await applyConfig(core, applied, config);
    expect(outcomes(again.results)).toEqual(["create service [web]: created", "create backend [web/web-1]: created", "create backend [web/web-2]: created"]);
    expect(again.config).toBe(config);
    expect(await kernel(ipvs)).toHaveLength(2);
    await core.stop();
  });

  it("a backend whose address another backend holds fails alone", async () => {
    const { core, req } = setup();
    const first = await yamlConfig(BASE);
    await applyConfig(core, EMPTY_CONFIG, first);
    expect((await req("PUT", "/service/web/api-1", { host: "198.51.100.7", port: 8080 })).status).toBe(200);
    const next = await yamlConfig(BASE.replace("198.51.100.2, port: 8080, weight: 50", "198.51.100.7, port: 8080, weight: 50").replace("weight: 50", "weight: 60"));
    const { results, config: applied } = await applyConfig(core, first, next);
    expect(results.map((r) => [describeChange(r.change), r.outcome])).toEqual([["update backend [web/web-2]", "failed"]]);
    expect(results[0]!.error).toMatch(/^specified object already exists/);
    // The failed update keeps its previous version, so the next reload tries again.
    expect(applied.services.get("web")!.backends.get("web-2")).toBe(first.services.get("web")!.backends.get("web-2")!);
    expect(diffConfig(applied, next).map(describeChange)).toEqual(["update backend [web/web-2]"]);
    await core.stop();
  });
});

describe("updates send only what differs", () => {
  /** A core whose update commands are recorded. */
  function spied() {
    const { core, ipvs, req } = setup();
    const calls: string[] = [];
    const target: ConfigTarget = {
      get snapshot() {
        return core.snapshot;
      },
      createService: (id, input) => core.createService(id, input),
      updateService: (id, patch) => (calls.push(`updateService ${id} ${JSON.stringify(patch)}`), core.updateService(id, patch)),
      deleteService: (id) => core.deleteService(id),
      createBackend: (s, id, input) => core.createBackend(s, id, input),
      updateBackend: (s, id, patch) => (calls.push(`updateBackend ${s}/${id} ${JSON.stringify(patch)}`), core.updateBackend(s, id, patch)),
      deleteBackend: (s, id) => core.deleteBackend(s, id),
    };
    return { core, ipvs, req, target, calls };
  }

  it("a weight change patches the weight alone (the health checks go on)", async () => {
    const { core, target, calls } = spied();
    const first = await yamlConfig(BASE);
    await applyConfig(target, EMPTY_CONFIG, first);
    await applyConfig(target, first, await yamlConfig(BASE.replace("weight: 50", "weight: 70").replace("    method: rr\n", "    method: lc\n")));
    expect(calls).toEqual(['updateService dns {"method":"lc"}', 'updateBackend web/web-2 {"weight":70}']);
    await core.stop();
  });

  it("state that already matches (restored at start) is left as it is", async () => {
    const { core, target, calls } = spied();
    const config = await yamlConfig(BASE);
    await applyConfig(target, EMPTY_CONFIG, config);
    // A restart: the state is there, the file is applied from scratch again.
    const { results } = await applyConfig(target, EMPTY_CONFIG, config);
    expect(results.map((r) => r.outcome)).toEqual(["unchanged", "unchanged", "unchanged", "unchanged", "unchanged"]);
    expect(calls).toEqual([]);
    await core.stop();
  });

  it("a field dropped from the file goes back to its default", async () => {
    const { core, target, calls } = spied();
    const first = await yamlConfig(`services: { web: { port: 80, persistent: true, timeout: 60, backends: { a: { host: 198.51.100.1, port: 80, upper_threshold: 9 } } } }`);
    await applyConfig(target, EMPTY_CONFIG, first);
    await applyConfig(target, first, await yamlConfig(`services: { web: { port: 80, backends: { a: { host: 198.51.100.1, port: 80 } } } }`));
    expect(calls).toEqual(['updateService web {"persistent":false}', 'updateBackend web/a {"upper_threshold":0}']);
    expect(core.snapshot.services.get("web")!.options).toMatchObject({ persistent: false, timeout: 0 });
    await core.stop();
  });

  it("patchOf", () => {
    expect(patchOf({ a: 1, b: { c: 2 }, d: 3 }, { a: 1, b: { c: 3 }, d: 3 })).toEqual({ b: { c: 3 } });
    expect(patchOf({ a: 1 }, { a: 1 })).toEqual({});
  });
});

describe("settleConfig", () => {
  it("keeps what failed at its previous version, or drops it when it had none", async () => {
    const before = await yamlConfig(BASE);
    const after = await yamlConfig(BASE.replace("weight: 50", "weight: 70").replace("    method: rr\n", "    method: lc\n").replace("      ns1:", "      ns2: { host: 198.51.100.54, port: 53 }\n      ns1:"));
    const fail = (change: ConfigChange): ChangeResult => ({ change, ok: false, outcome: "failed", error: "x" });
    const settled = settleConfig(before, after, [
      fail({ kind: "update-service", service: "dns", input: {} }),
      fail({ kind: "update-backend", service: "web", backend: "web-2", input: {} }),
      fail({ kind: "delete-backend", service: "web", backend: "web-1" }),
    ]);
    expect(settled.services.get("dns")).toBe(before.services.get("dns")!);
    expect(settled.services.get("web")!.backends.get("web-2")).toBe(before.services.get("web")!.backends.get("web-2")!);
    expect(settled.services.get("web")!.backends.get("web-1")).toBe(before.services.get("web")!.backends.get("web-1")!);
    const created = settleConfig(before, after, [fail({ kind: "create-backend", service: "dns", backend: "ns2", input: {} })]);
    expect([...created.services.get("dns")!.backends.keys()]).toEqual(["ns1"]);
    expect(settleConfig(before, after, [])).toBe(after);
  });
});

describe("reloadConfig", () => {
  it("reads the file again and applies what changed", async () => {
    const { core, ipvs } = setup();
    const path = files.write("reload.yaml", BASE);
    const first = await loadConfig(path, { resolve: fakeResolve });
    await applyConfig(core, EMPTY_CONFIG, first);
    files.write("reload.yaml", `listen: ":8080"\n${BASE.replace("weight: 50", "weight: 1")}`);
    const outcome = await reloadConfig(core, first, { resolve: fakeResolve });
    expect(outcome.ok).toBe(true);
    expect(outcomes(outcome.results)).toEqual(["update backend [web/web-2]: updated"]);
    expect(outcome.changedOptions).toEqual(["listen"]);
    expect(await kernel(ipvs)).toContain("tcp:192.0.2.1:80 wrr 198.51.100.1:8080=100 198.51.100.2:8080=1");
    await core.stop();
  });

  it("changes nothing when the new file is invalid", async () => {
    const { core, ipvs } = setup();
    const path = files.write("bad-reload.yaml", BASE);
    const first = await loadConfig(path, { resolve: fakeResolve });
    await applyConfig(core, EMPTY_CONFIG, first);
    const before = await kernel(ipvs);
    files.write("bad-reload.yaml", BASE.replace("weight: 50", "weight: 7").replace("port: 53, pulse", "port: fifty-three, pulse"));
    const outcome = await reloadConfig(core, first, { resolve: fakeResolve });
    expect(outcome.ok).toBe(false);
    expect(outcome.config).toBe(first);
    expect(outcome.results).toEqual([]);
    expect(outcome.problems.map((p) => `${p.line}: ${p.path}`)).toEqual(["15: services.dns.backends.ns1.port"]);
    expect(await kernel(ipvs)).toEqual(before);
    await core.stop();
  });
});

describe("configReloader (SIGHUP)", () => {
  it("logs each reload and keeps the applied config between them", async () => {
    const { core, ipvs } = setup();
    const path = files.write("hup.yaml", BASE);
    const first = await loadConfig(path, { resolve: fakeResolve });
    const start = await applyConfig(core, EMPTY_CONFIG, first);
    const lines: string[] = [];
    const reloader = configReloader(core, start.config, { path, resolve: fakeResolve }, (l) => lines.push(l));

    files.write("hup.yaml", `vipi: lo\n${BASE.replace("weight: 50", "weight: 5")}`);
    await reloader.reload();
    expect(lines).toEqual([
      "config reload: update backend [web/web-2]: updated",
      `config reload: ${path}: 1 change`,
      'config reload: option "vipi" changed in the file: restart gorb to apply it',
    ]);

    lines.length = 0;
    files.write("hup.yaml", "services: { web: { port: x } }\n");
    await reloader.reload();
    expect(lines).toEqual([`config reload: ${path} has a problem; nothing was changed`, expect.stringMatching(/^config reload: .*hup\.yaml:1:26: services\.web\.port: /) as unknown as string]);

    // Two signals at once run one after the other; the second finds nothing to do.
    lines.length = 0;
    files.write("hup.yaml", BASE);
    const [a, b] = await Promise.all([reloader.reload(), reloader.reload()]);
    expect(a.results.map((r) => describeChange(r.change))).toEqual(["update backend [web/web-2]"]);
    expect(b.results).toEqual([]);
    expect(reloader.current.services.get("web")!.backends.get("web-2")!.options.weight).toBe(50);
    expect(await kernel(ipvs)).toContain("tcp:192.0.2.1:80 wrr 198.51.100.1:8080=100 198.51.100.2:8080=50");
    await core.stop();
  });
});
