/**
 * GORB clients' flows against the compiled binary on the real kernel, checked with ipvsadm
 * (runs inside the VM): create, PATCH a weight, Sky's drain (PATCH 0, wait, DELETE), delete,
 * and bad requests that must change nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, startGorb, type RunningGorb } from "./gorb-binary.ts";
import { ipvsadm } from "./ipvsadm.ts";

let gorb: RunningGorb;
beforeAll(async () => {
  ipvsadm(["-C"]);
  gorb = await startGorb();
});
afterAll(async () => {
  await gorb?.stop();
  ipvsadm(["-C"]);
});

const save = () => ipvsadm(["-Sn"]).trim();

describe("a GORB client against dist/gorb on the kernel", () => {
  test("README flow: create a service and backends", async () => {
    expect((await call(gorb.url, "PUT", "/service/web", { host: "192.0.2.1", port: 80, protocol: "tcp", method: "rr" })).status).toBe(200);
    // GORB's README sends pulse args as strings; numbers work too.
    const b1 = await call(gorb.url, "PUT", "/service/web/web-1", {
      host: "198.51.100.1",
      port: 8080,
      method: "nat",
      weight: 50,
      pulse: { type: "none" },
    });
    expect(b1.status).toBe(200);
    const b2 = await call(gorb.url, "PUT", "/service/web/web-2", {
      host: "198.51.100.2",
      port: 8080,
      pulse: { type: "none", interval: "10s" },
    });
    expect(b2.status).toBe(200);
    // The kernel lists destinations newest first; compare as sets of rules.
    expect(save().split("\n").sort()).toEqual(
      [
        "-A -t 192.0.2.1:80 -s rr",
        "-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 50",
        "-a -t 192.0.2.1:80 -r 198.51.100.2:8080 -m -w 100",
      ].sort(),
    );
    const got = JSON.parse((await call(gorb.url, "GET", "/service/web")).text);
    expect([...got.backends].sort()).toEqual(["web-1", "web-2"]);
  });

  test("PATCH a backend's weight", async () => {
    expect((await call(gorb.url, "PATCH", "/service/web/web-1", { weight: 7 })).status).toBe(200);
    expect(save()).toContain("-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 7");
  });

  test("sky-uk PATCH of the service changes the scheduler in place", async () => {
    expect((await call(gorb.url, "PATCH", "/service/web", { host: "192.0.2.1", port: 80, method: "wlc" })).status).toBe(200);
    expect(save().split("\n")[0]).toBe("-A -t 192.0.2.1:80 -s wlc");
    expect(save()).toContain("198.51.100.1:8080");
  });

  test("bad requests change nothing in the kernel", async () => {
    const before = save();
    const cases: [string, string, unknown][] = [
      ["PUT", "/service/web", { host: "192.0.2.1", port: 80 }], // exists: 409
      ["PUT", "/service/bad", { host: "192.0.2.9", port: 80, method: "no-such-scheduler" }],
      ["PUT", "/service/bad", { host: "192.0.2.9", port: 70000 }],
      ["PUT", "/service/web/web-3", { host: "2001:db8::3", port: 80 }], // family mismatch
      ["PUT", "/service/web/web-1", { host: "198.51.100.9", port: 80 }], // exists: 409
      ["PUT", "/service/nope/x", { host: "198.51.100.9", port: 80 }], // no service: 404
      ["PATCH", "/service/web/web-1", { weight: -3 }],
      ["PATCH", "/service/web", { host: "192.0.2.2", port: 80 }], // host change: 400
      ["PUT", "/service/web/web-4", "{not json"],
    ];
    for (const [method, path, body] of cases) {
      const r = await call(gorb.url, method, path, body);
      expect(r.status, `${method} ${path} ${JSON.stringify(body)} → ${r.status} ${r.text}`).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(JSON.parse(r.text).error).toBeString();
    }
    expect(save()).toBe(before);
  });

  test("Sky's drain: PATCH weight 0, wait, DELETE", async () => {
    expect((await call(gorb.url, "PATCH", "/service/web/web-2", { weight: 0 })).status).toBe(200);
    expect(save()).toContain("-r 198.51.100.2:8080 -m -w 0");
    await Bun.sleep(200);
    expect((await call(gorb.url, "DELETE", "/service/web/web-2")).status).toBe(200);
    expect(save()).not.toContain("198.51.100.2");
    expect((await call(gorb.url, "GET", "/service/web/web-2")).status).toBe(404);
  });

  test("IPv6 and fwmark services", async () => {
    expect((await call(gorb.url, "PUT", "/service/v6", { host: "2001:db8::1", port: 443 })).status).toBe(200);
    expect((await call(gorb.url, "PUT", "/service/v6/a", { host: "2001:db8::a", port: 8443, pulse: { type: "none" } })).status).toBe(200);
    expect((await call(gorb.url, "PUT", "/service/mark", { fwmark: 12, method: "rr" })).status).toBe(200);
    expect((await call(gorb.url, "PUT", "/service/mark/m1", { host: "198.51.100.40", port: 0, method: "dr", pulse: { type: "none" } })).status).toBe(200);
    const s = save();
    expect(s).toContain("-A -t [2001:db8::1]:443 -s wrr");
    expect(s).toContain("-a -t [2001:db8::1]:443 -r [2001:db8::a]:8443 -m -w 100");
    expect(s).toContain("-A -f 12 -s rr");
    expect(s).toContain("-a -f 12 -r 198.51.100.40:0 -g -w 100");
  });

  test("delete a service removes it and its backends", async () => {
    for (const id of ["web", "v6", "mark"]) expect((await call(gorb.url, "DELETE", `/service/${id}`)).status).toBe(200);
    expect(save()).toBe("");
    expect(JSON.parse((await call(gorb.url, "GET", "/service")).text)).toEqual([]);
  });
});
