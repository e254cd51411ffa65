import { describe, expect, it } from "bun:test";
import { Errno } from "../../../src/ipvs/errors.ts";
import type { ServiceKey } from "../../../src/ipvs/types.ts";
import { setup } from "./helpers.ts";

async function withService(body: Record<string, unknown> = { port: 80 }) {
  const t = setup();
  expect((await t.req("PUT", "/service/web", body)).status).toBe(200);
  const key = (await t.ipvs.services())[0]!.key as ServiceKey;
  const dests = () => t.ipvs.destinations(key);
  return { ...t, key, dests };
}

describe("PUT /service/{vs}/{rs}", () => {
  it("adds the destination with GORB's defaults (weight 100, nat) and answers 200 empty", async () => {
    const { req, dests } = await withService();
    const res = await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 8080 });
    expect(res.status).toBe(200);
    expect(res.text).toBe("");
    expect(await dests()).toMatchObject([{ address: "10.0.0.1", port: 8080, weight: 100, forward: "masq", upperThreshold: 0, lowerThreshold: 0 }]);
  });

  it.each([
    [0, 100],
    [-5, 100],
    [7, 7],
  ])("weight %p becomes %p", async (weight, expected) => {
    const { req, dests } = await withService();
    await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80, weight });
    expect((await dests())[0]!.weight).toBe(expected);
  });

  it.each([
    ["nat", "masq"],
    ["dr", "route"],
    ["tunnel", "tunnel"],
    ["ipip", "tunnel"],
    ["DR", "route"],
  ])("method %s forwards by %s", async (method, forward) => {
    const { req, dests } = await withService();
    expect((await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80, method })).status).toBe(200);
    expect<string>((await dests())[0]!.forward).toBe(forward);
  });

  it("refuses an unknown method listing the valid ones", async () => {
    const { req } = await withService();
    const res = await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80, method: "bridge" });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('specified forwarding method is unknown: field "method" must be one of nat, tunnel, ipip, dr (got "bridge")');
  });

  it("sets tunnel types, ports and checksums", async () => {
    const { req, dests } = await withService();
    await req("PUT", "/service/web/gue", { host: "10.0.0.1", port: 80, method: "tunnel", tunnel_type: "gue", tunnel_port: 6080, tunnel_checksum: "csum" });
    await req("PUT", "/service/web/gre", { host: "10.0.0.2", port: 80, method: "tunnel", tunnel_type: "GRE" });
    await req("PUT", "/service/web/ipip", { host: "10.0.0.3", port: 80, method: "ipip" });
    const byAddress = new Map((await dests()).map((d) => [d.address, d]));
    expect(byAddress.get("10.0.0.1")!.tunnel).toEqual({ type: "gue", port: 6080, checksum: "csum" });
    expect(byAddress.get("10.0.0.2")!.tunnel).toEqual({ type: "gre", port: 0, checksum: "none" });
    expect(byAddress.get("10.0.0.3")!.tunnel).toEqual({ type: "ipip", port: 0, checksum: "none" });
    expect((await req("GET", "/service/web/gue")).json.options).toMatchObject({ method: "tunnel", tunnel_type: "gue", tunnel_port: 6080, tunnel_checksum: "csum" });
  });

  it.each([
    [{ method: "nat", tunnel_type: "gre" }, "tunnel_type"],
    [{ method: "tunnel", tunnel_type: "gue" }, "tunnel_port"],
    [{ method: "tunnel", tunnel_type: "ipip", tunnel_port: 5 }, "tunnel_port"],
    [{ method: "ipip", tunnel_type: "gre" }, "tunnel_type"],
    [{ method: "tunnel", tunnel_type: "vxlan" }, "tunnel_type"],
    [{ upper_threshold: 10, lower_threshold: 20 }, "lower_threshold"],
    [{ lower_threshold: 1 }, "lower_threshold"],
    [{ upper_threshold: -1 }, "upper_threshold"],
  ])("refuses %j naming %s", async (extra, field) => {
    const { req, dests } = await withService();
    const res = await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80, ...extra });
    expect(res.status).toBe(400);
    expect(res.json.error).toContain(`"${field}"`);
    expect(await dests()).toEqual([]);
  });

  it("sets connection thresholds", async () => {
    const { req, dests } = await withService();
    await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80, upper_threshold: 100, lower_threshold: 50 });
    expect((await dests())[0]).toMatchObject({ upperThreshold: 100, lowerThreshold: 50 });
  });

  it.each([
    [{ port: 80 }, "host"],
    [{ host: "", port: 80 }, "host"],
    [{ host: "10.0.0.1" }, "port"],
  ])("refuses missing endpoint information %j", async (body, field) => {
    const { req } = await withService();
    const res = await req("PUT", "/service/web/a", body);
    expect(res.status).toBe(400);
    expect(res.json.error).toStartWith("endpoint information is missing");
    expect(res.json.error).toContain(`"${field}"`);
  });

  it("answers 404 without the service and 409 for a taken ID or address", async () => {
    const { req } = await withService();
    expect((await req("PUT", "/service/nope/a", { host: "10.0.0.1", port: 80 })).status).toBe(404);
    expect((await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80 })).status).toBe(200);
    const dup = await req("PUT", "/service/web/a", { host: "10.0.0.2", port: 80 });
    expect(dup.status).toBe(409);
    expect(dup.json.error).toStartWith("specified object already exists");
    const same = await req("PUT", "/service/web/b", { host: "10.0.0.1", port: 80 });
    expect(same.status).toBe(409);
    expect(same.json.error).toContain("[a]");
  });

  it("scopes backend IDs to their service (GORB's were global)", async () => {
    const { req } = await withService();
    await req("PUT", "/service/api", { port: 81 });
    expect((await req("PUT", "/service/web/node-1", { host: "10.0.0.1", port: 80 })).status).toBe(200);
    expect((await req("PUT", "/service/api/node-1", { host: "10.0.0.1", port: 81 })).status).toBe(200);
    expect((await req("GET", "/service/web/node-1")).json.options.port).toBe(80);
    expect((await req("GET", "/service/api/node-1")).json.options.port).toBe(81);
    expect((await req("GET", "/service/other/node-1")).status).toBe(404);
    expect((await req("DELETE", "/service/api/node-1")).status).toBe(200);
    expect((await req("GET", "/service/web/node-1")).status).toBe(200);
  });

  it("refuses a backend of another address family with 400", async () => {
    const { req } = await withService();
    const res = await req("PUT", "/service/web/a", { host: "2001:db8::1", port: 80 });
    expect(res.status).toBe(400);
    expect(res.json.error).toStartWith("incompatible address families");
  });

  it("works with IPv6 and IPv4-mapped addresses", async () => {
    const v6 = await withService({ host: "2001:db8::10", port: 80 });
    expect((await v6.req("PUT", "/service/web/a", { host: "2001:db8::1", port: 80 })).status).toBe(200);
    expect((await v6.req("PUT", "/service/web/b", { host: "web6.example", port: 80 })).status).toBe(200);
    expect((await v6.dests()).map((d) => d.address).sort()).toEqual(["2001:db8::1", "2001:db8::50"]);
    expect((await v6.req("PUT", "/service/web/c", { host: "10.0.0.1", port: 80 })).status).toBe(400);
    const v4 = await withService();
    expect((await v4.req("PUT", "/service/web/m", { host: "::ffff:10.0.0.7", port: 80 })).status).toBe(200);
    expect((await v4.dests())[0]!.address).toBe("10.0.0.7");
  });

  it("allows backends without a port on firewall-mark services", async () => {
    const { req, dests } = await withService({ fwmark: 3 });
    expect((await req("PUT", "/service/web/a", { host: "10.0.0.1" })).status).toBe(200);
    expect((await dests())[0]).toMatchObject({ address: "10.0.0.1", port: 0 });
  });

  it("accepts pulse args as numbers as well as digit strings", async () => {
    const { req } = await withService();
    const numbers = await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80, pulse: { type: "http", args: { expect: 200, port: 8080 } } });
    expect(numbers.status).toBe(200);
    const strings = await req("PUT", "/service/web/b", { host: "10.0.0.2", port: 80, pulse: { type: "http", args: { expect: "404", port: "8080" } } });
    expect(strings.status).toBe(200);
    expect((await req("GET", "/service/web/a")).json.options.pulse).toEqual({ type: "http", interval: "1m", args: { expect: 200, port: 8080 } });
  });

  it.each(["10s", "500ms", "1m30s", " 10SEC ", "2h"])("accepts the interval %p and echoes it as written", async (interval) => {
    const { req } = await withService();
    expect((await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80, pulse: { type: "TCP", interval } })).status).toBe(200);
    expect((await req("GET", "/service/web/a")).json.options.pulse).toMatchObject({ type: "tcp", interval });
  });

  it.each([
    [{ type: "icmp" }, "specified pulse type is unknown"],
    [{ interval: "soon" }, "invalid interval format"],
    [{ interval: "-5s" }, "pulse interval must be positive"],
  ])("refuses the pulse %j with GORB's text", async (pulse, text) => {
    const { req } = await withService();
    const res = await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80, pulse });
    expect(res.status).toBe(400);
    expect(res.json.error).toContain(text);
  });

  it("leaves no trace when the kernel refuses", async () => {
    const { req, ipvs, dests, core } = await withService();
    ipvs.failNext(1, Errno.ERANGE);
    const res = await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80 });
    expect(res.status).toBe(500);
    expect(res.json.error).toStartWith("error while calling into IPVS: a value is out of range");
    expect(await dests()).toEqual([]);
    expect(core.snapshot.services.get("web")!.backends.size).toBe(0);
  });
});

describe("GET /service/{vs}/{rs}", () => {
  it("shows options, metrics and the kernel's stats", async () => {
    const { req } = await withService();
    await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 8080, weight: 5, pulse: { type: "none" } });
    const res = await req("GET", "/service/web/a");
    expect(res.status).toBe(200);
    expect(res.text).toStartWith('{\n\t"options": {\n\t\t"host": "10.0.0.1",\n\t\t"port": 8080,\n\t\t"weight": 5,\n\t\t"method": "nat",\n\t\t"pulse": {');
    expect(res.json.options).toMatchObject({ vsid: "web", configured_weight: 5, address: "10.0.0.1" });
    expect(res.json.metrics).toMatchObject({ status: "unknown", health: null, uptime: 0 });
    expect(res.json.stats).toMatchObject({ active_connections: 0, inactive_connections: 0, connections: 0, bytes_out: 0 });
  });

  it("answers 404 for an unknown backend", async () => {
    const { req } = await withService();
    const res = await req("GET", "/service/web/nope");
    expect(res.status).toBe(404);
    expect(res.json.error).toStartWith("unable to locate specified object");
  });
});

describe("PATCH /service/{vs}/{rs}", () => {
  it("sets the weight; 0 drains", async () => {
    const { req, dests } = await withService();
    await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80 });
    expect((await req("PATCH", "/service/web/a", { weight: 30 })).status).toBe(200);
    expect((await dests())[0]!.weight).toBe(30);
    expect((await req("PATCH", "/service/web/a", { weight: 0 })).status).toBe(200);
    expect((await dests())[0]!.weight).toBe(0);
    expect((await req("GET", "/service/web/a")).json.options.weight).toBe(0);
  });

  it("changes only the fields it is given (no silent weight 0)", async () => {
    const { req, dests } = await withService();
    await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80, weight: 40, method: "dr", upper_threshold: 9 });
    expect((await req("PATCH", "/service/web/a", {})).status).toBe(200);
    expect((await dests())[0]).toMatchObject({ weight: 40, forward: "route", upperThreshold: 9 });
    expect((await req("PATCH", "/service/web/a", { method: "tunnel" })).status).toBe(200);
    expect((await dests())[0]).toMatchObject({ weight: 40, forward: "tunnel", upperThreshold: 9 });
  });

  it("takes a whole Go struct with zero values as 'only the weight'", async () => {
    const { req, dests } = await withService();
    await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80, method: "dr", pulse: { type: "none" } });
    const res = await req("PATCH", "/service/web/a", { host: "", port: 0, weight: 25, method: "", pulse: null, vsid: "" });
    expect(res.status).toBe(200);
    expect((await dests())[0]).toMatchObject({ address: "10.0.0.1", port: 80, weight: 25, forward: "route" });
    expect((await req("GET", "/service/web/a")).json.options.pulse.type).toBe("none");
  });

  it("moves the destination when the address changes", async () => {
    const { req, dests } = await withService();
    await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80 });
    expect((await req("PATCH", "/service/web/a", { host: "10.0.0.2" })).status).toBe(200);
    expect((await dests()).map((d) => d.address)).toEqual(["10.0.0.2"]);
  });

  it("undoes the first half of a move when the second fails", async () => {
    const { req, dests, ipvs } = await withService();
    await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80, weight: 3 });
    ipvs.failNext(2, Errno.ENOMEM); // delete-destination succeeds, add-destination fails
    const res = await req("PATCH", "/service/web/a", { host: "10.0.0.2" });
    expect(res.status).toBe(500);
    expect(await dests()).toMatchObject([{ address: "10.0.0.1", weight: 3 }]);
    expect((await req("GET", "/service/web/a")).json.options.host).toBe("10.0.0.1");
  });

  it.each([
    [{ weight: -1 }, "weight"],
    [{ weight: "5" }, "weight"],
    [{ method: "x" }, "method"],
  ])("refuses %j", async (patch, field) => {
    const { req, dests } = await withService();
    await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80 });
    const res = await req("PATCH", "/service/web/a", patch);
    expect(res.status).toBe(400);
    expect(res.json.error).toContain(`"${field}"`);
    expect((await dests())[0]!.weight).toBe(100);
  });

  it("answers 404 for an unknown backend or service", async () => {
    const { req } = await withService();
    expect((await req("PATCH", "/service/web/nope", { weight: 1 })).status).toBe(404);
    expect((await req("PATCH", "/service/nope/a", { weight: 1 })).status).toBe(404);
  });

  it("keeps the old weight when the kernel refuses", async () => {
    const { req, dests, ipvs } = await withService();
    await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80, weight: 10 });
    ipvs.failNext(1, Errno.ENOENT);
    const res = await req("PATCH", "/service/web/a", { weight: 20 });
    expect(res.status).toBe(500);
    expect(res.json.error).toBe("error while calling into IPVS: the destination does not exist in this virtual service");
    expect((await dests())[0]!.weight).toBe(10);
    expect((await req("GET", "/service/web/a")).json.options.weight).toBe(10);
  });
});

describe("DELETE /service/{vs}/{rs}", () => {
  it("removes the destination", async () => {
    const { req, dests } = await withService();
    await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80 });
    const res = await req("DELETE", "/service/web/a");
    expect(res.status).toBe(200);
    expect(res.text).toBe("");
    expect(await dests()).toEqual([]);
    expect((await req("GET", "/service/web")).json.backends).toBeNull();
  });

  it("answers 404 for an unknown backend", async () => {
    const { req } = await withService();
    expect((await req("DELETE", "/service/web/nope")).status).toBe(404);
    expect((await req("DELETE", "/service/nope/nope")).status).toBe(404);
  });

  it("keeps the backend when the kernel refuses, and a retry works", async () => {
    const { req, dests, ipvs } = await withService();
    await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80 });
    ipvs.failNext(1, Errno.EIO);
    expect((await req("DELETE", "/service/web/a")).status).toBe(500);
    expect(await dests()).toHaveLength(1);
    expect((await req("GET", "/service/web/a")).status).toBe(200);
    expect((await req("DELETE", "/service/web/a")).status).toBe(200);
    expect(await dests()).toHaveLength(0);
  });
});
