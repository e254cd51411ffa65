import { describe, expect, it } from "bun:test";
import { Errno } from "../../../src/ipvs/errors.ts";
import { MemoryIpvs } from "../../../src/ipvs/memory-ipvs.ts";
import { MemoryStateStore } from "../../../src/core/store.ts";
import { VIP, setup } from "./helpers.ts";

describe("PUT /service/{vs}", () => {
  it("creates the service with GORB's defaults and answers 200 with an empty body", async () => {
    const { req, ipvs } = setup();
    const res = await req("PUT", "/service/web", { port: 80 });
    expect(res.status).toBe(200);
    expect(res.text).toBe("");
    expect(res.headers.get("content-type")).toBeNull();
    const [svc] = await ipvs.services();
    expect(svc).toMatchObject({ key: { family: "inet", protocol: "tcp", address: VIP, port: 80 }, scheduler: "wrr", flags: [], timeout: 0 });
  });

  it("echoes an empty host as empty (GORB) while using the -i address", async () => {
    const { req } = setup();
    await req("PUT", "/service/web", { port: 80 });
    const res = await req("GET", "/service/web");
    expect(res.json.options.host).toBe("");
    expect(res.json.options.address).toBe(VIP);
  });

  it("answers 409 when the ID exists", async () => {
    const { req } = setup();
    await req("PUT", "/service/web", { port: 80 });
    const res = await req("PUT", "/service/web", { port: 80 });
    expect(res.status).toBe(409);
    expect(res.json.error).toStartWith("specified object already exists");
  });

  it("answers 409 when another ID has the same address, port and protocol", async () => {
    const { req } = setup();
    await req("PUT", "/service/a", { host: "10.1.1.1", port: 80 });
    const res = await req("PUT", "/service/b", { host: "10.1.1.1", port: 80 });
    expect(res.status).toBe(409);
    expect(res.json.error).toContain("[a]");
    expect((await req("PUT", "/service/c", { host: "10.1.1.1", port: 80, protocol: "udp" })).status).toBe(200);
  });

  it.each([
    [{}, "port"],
    [{ port: 0 }, "port"],
    [null, "port"],
  ])("refuses missing endpoint information %j", async (body, field) => {
    const { req } = setup();
    const res = await req("PUT", "/service/web", body === null ? "null" : body);
    expect(res.status).toBe(400);
    expect(res.json.error).toStartWith("endpoint information is missing");
    expect(res.json.error).toContain(`"${field}"`);
  });

  it.each([
    [{ port: "80" }, "port"],
    [{ port: 70000 }, "port"],
    [{ port: -1 }, "port"],
    [{ port: 1.5 }, "port"],
    [{ port: 80, persistent: "yes" }, "persistent"],
    [{ port: 80, host: 5 }, "host"],
    [{ port: 80, netmask: 200 }, "netmask"],
  ])("refuses %j naming the field", async (body, field) => {
    const { req } = setup();
    const res = await req("PUT", "/service/web", body);
    expect(res.status).toBe(400);
    expect(res.json.error).toContain(`"${field}"`);
  });

  it("lower-cases the protocol and refuses an unknown one listing the valid ones", async () => {
    const { req, ipvs } = setup();
    expect((await req("PUT", "/service/u", { port: 53, protocol: "UDP" })).status).toBe(200);
    expect((await ipvs.services())[0]!.key).toMatchObject({ protocol: "udp" });
    const res = await req("PUT", "/service/x", { port: 53, protocol: "icmp" });
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('specified protocol is unknown: field "protocol" must be one of tcp, udp, sctp (got "icmp")');
  });

  it("supports SCTP", async () => {
    const { req, ipvs } = setup();
    expect((await req("PUT", "/service/s", { port: 3868, protocol: "sctp" })).status).toBe(200);
    expect((await ipvs.services())[0]!.key).toMatchObject({ protocol: "sctp", port: 3868 });
  });

  it("checks the scheduler name (400 listing the valid ones) and lower-cases it", async () => {
    const { req, ipvs } = setup();
    const res = await req("PUT", "/service/web", { port: 80, method: "fastest" });
    expect(res.status).toBe(400);
    expect(res.json.error).toStartWith('specified scheduler is unknown: field "method" must be one of rr, wrr, lc, wlc');
    expect((await req("PUT", "/service/web", { port: 80, method: "SH" })).status).toBe(200);
    expect((await ipvs.services())[0]!.scheduler).toBe("sh");
  });

  it("answers 500 with the kernel's reason when the scheduler module is missing", async () => {
    const { req } = setup({ ipvs: new MemoryIpvs({ schedulers: ["rr"] }) });
    const res = await req("PUT", "/service/web", { port: 80, method: "wrr" });
    expect(res.status).toBe(500);
    expect(res.json.error).toStartWith("error while calling into IPVS: the scheduler or persistence engine is unknown");
  });

  it("maps flags to IPVS flags and refuses unknown or empty items", async () => {
    const { req, ipvs } = setup();
    expect((await req("PUT", "/service/web", { port: 80, method: "sh", flags: "sh-fallback|sh-port" })).status).toBe(200);
    expect([...(await ipvs.services())[0]!.flags].sort()).toEqual(["sched1", "sched2"]);
    expect((await req("PUT", "/service/f3", { port: 81, flags: "flag-3" })).status).toBe(200);
    for (const flags of ["sh-bogus", "sh-port|", "SH-PORT"]) {
      const res = await req("PUT", "/service/x", { port: 82, flags });
      expect(res.status).toBe(400);
      expect(res.json.error).toStartWith("specified flag is unknown");
    }
  });

  it("really sets persistence: timeout 300 by default, netmask optional", async () => {
    const { req, ipvs } = setup();
    await req("PUT", "/service/p", { port: 443, persistent: true });
    await req("PUT", "/service/q", { port: 444, persistent: true, timeout: 600, netmask: 24 });
    await req("PUT", "/service/r", { port: 445 });
    const byPort = new Map((await ipvs.services()).map((s) => ["port" in s.key ? s.key.port : 0, s]));
    expect(byPort.get(443)).toMatchObject({ timeout: 300, netmask: 32 });
    expect(byPort.get(444)).toMatchObject({ timeout: 600, netmask: 24 });
    expect(byPort.get(445)).toMatchObject({ timeout: 0 });
    const res = await req("GET", "/service/q");
    expect(res.json.options).toMatchObject({ persistent: true, timeout: 600, netmask: 24 });
  });

  it("refuses a timeout with persistent false", async () => {
    const { req } = setup();
    const res = await req("PUT", "/service/p", { port: 443, persistent: false, timeout: 60 });
    expect(res.status).toBe(400);
    expect(res.json.error).toContain('"timeout"');
  });

  it("works with IPv6", async () => {
    const { req, ipvs } = setup();
    expect((await req("PUT", "/service/v6", { host: "2001:DB8::0:1", port: 80 })).status).toBe(200);
    expect((await ipvs.services())[0]).toMatchObject({ key: { family: "inet6", address: "2001:db8::1", port: 80 }, netmask: 128 });
    expect((await req("PUT", "/service/v6b", { host: "[2001:db8::2]", port: 80 })).status).toBe(200);
  });

  it("resolves host names and reports failures as 400", async () => {
    const { req, ipvs } = setup();
    expect((await req("PUT", "/service/dns", { host: "lb.example", port: 80 })).status).toBe(200);
    expect((await ipvs.services())[0]!.key).toMatchObject({ address: "192.0.2.50" });
    const res = await req("PUT", "/service/bad", { host: "nowhere.example", port: 80 });
    expect(res.status).toBe(400);
    expect(res.json.error).toContain("no such host");
  });

  it("creates firewall-mark services", async () => {
    const { req, ipvs } = setup();
    expect((await req("PUT", "/service/fw", { fwmark: 7 })).status).toBe(200);
    expect((await req("PUT", "/service/fw6", { fwmark: 8, family: "inet6" })).status).toBe(200);
    const keys = (await ipvs.services()).map((s) => s.key);
    expect(keys).toContainEqual({ family: "inet", fwmark: 7 });
    expect(keys).toContainEqual({ family: "inet6", fwmark: 8 });
    const res = await req("PUT", "/service/fwx", { fwmark: 9, port: 80 });
    expect(res.status).toBe(400);
    expect(res.json.error).toContain('"fwmark"');
    expect((await req("GET", "/service/fw")).json.options).toMatchObject({ fwmark: 7, family: "inet", host: "", port: 0 });
  });

  it("refuses an address family that contradicts the host", async () => {
    const { req } = setup();
    const res = await req("PUT", "/service/x", { host: "10.0.0.1", port: 80, family: "inet6" });
    expect(res.status).toBe(400);
    expect(res.json.error).toStartWith("incompatible address families");
  });

  it("leaves no trace when the kernel refuses", async () => {
    const store = new MemoryStateStore();
    const { req, ipvs, core } = setup({ store });
    ipvs.failNext(1, Errno.EEXIST);
    const res = await req("PUT", "/service/web", { port: 80 });
    expect(res.status).toBe(500);
    expect(res.json.error).toBe("error while calling into IPVS: the virtual service already exists");
    expect(core.listServices()).toEqual([]);
    expect(await store.load()).toEqual([]);
    expect(await ipvs.services()).toEqual([]);
    expect((await req("PUT", "/service/web", { port: 80 })).status).toBe(200);
  });

  it("answers 500 and changes nothing when the store refuses", async () => {
    const store = new MemoryStateStore();
    const { req, ipvs, core } = setup({ store });
    store.failNextWrite = new Error("disk full");
    const res = await req("PUT", "/service/web", { port: 80 });
    expect(res.status).toBe(500);
    expect(res.json.error).toBe("error while writing the state store: disk full");
    expect(core.listServices()).toEqual([]);
    expect(await ipvs.services()).toEqual([]);
  });

  it("persists the intent in the store", async () => {
    const store = new MemoryStateStore();
    const { req } = setup({ store });
    await req("PUT", "/service/web", { port: 80, method: "rr" });
    await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80 });
    const [row] = await store.load();
    expect(row).toMatchObject({ id: "web", options: { port: 80, method: "rr" }, backends: [{ id: "a", options: { host: "10.0.0.1" } }] });
  });
});

describe("GET /service and /service/{vs}", () => {
  it("lists IDs sorted, [] when empty", async () => {
    const { req } = setup();
    expect((await req("GET", "/service")).text).toBe("[]");
    await req("PUT", "/service/b", { port: 81 });
    await req("PUT", "/service/a", { port: 80 });
    const res = await req("GET", "/service");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.text).toBe('[\n\t"a",\n\t"b"\n]');
  });

  it("shows options, health and backends (null when none) as TAB-indented JSON", async () => {
    const { req } = setup();
    await req("PUT", "/service/web", { port: 80, flags: "" });
    const res = await req("GET", "/service/web");
    expect(res.status).toBe(200);
    expect(res.text).toStartWith('{\n\t"options": {\n\t\t"host": "",\n\t\t"port": 80,\n\t\t"protocol": "tcp",\n\t\t"method": "wrr",\n\t\t"flags": "",\n\t\t"persistent": false,');
    expect(res.text.endsWith("\n")).toBe(false);
    expect(res.json.health).toBe(1);
    expect(res.json.backends).toBeNull();
    expect(res.json.stats).toMatchObject({ connections: 0, bytes_in: 0, packets_out_per_second: 0 });
  });

  it("lists backend IDs sorted", async () => {
    const { req } = setup();
    await req("PUT", "/service/web", { port: 80 });
    await req("PUT", "/service/web/z", { host: "10.0.0.2", port: 80 });
    await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80 });
    expect((await req("GET", "/service/web")).json.backends).toEqual(["a", "z"]);
  });

  it("answers 404 for an unknown service", async () => {
    const { req } = setup();
    const res = await req("GET", "/service/nope");
    expect(res.status).toBe(404);
    expect(res.json.error).toStartWith("unable to locate specified object");
    expect(res.text).toStartWith('{\n\t"error": ');
  });
});

describe("PATCH /service/{vs}", () => {
  it("changes scheduler, flags and persistence", async () => {
    const { req, ipvs } = setup();
    await req("PUT", "/service/web", { port: 80, flags: "sh-port" });
    expect((await req("PATCH", "/service/web", { method: "sh", flags: "sh-fallback", persistent: true })).status).toBe(200);
    expect((await ipvs.services())[0]).toMatchObject({ scheduler: "sh", flags: ["sched1"], timeout: 300 });
    expect((await req("PATCH", "/service/web", { flags: "", persistent: false })).status).toBe(200);
    expect((await ipvs.services())[0]).toMatchObject({ scheduler: "sh", flags: [], timeout: 0 });
    expect((await req("GET", "/service/web")).json.options).toMatchObject({ method: "sh", flags: "", persistent: false, timeout: 0 });
  });

  it("keeps the fields it is not given", async () => {
    const { req, ipvs } = setup();
    await req("PUT", "/service/web", { port: 80, method: "lc", flags: "flag-3" });
    await req("PATCH", "/service/web", { persistent: true, timeout: 60 });
    expect((await ipvs.services())[0]).toMatchObject({ scheduler: "lc", flags: ["sched3"], timeout: 60 });
  });

  it("accepts the whole object a sky-uk client sends", async () => {
    const { req, ipvs } = setup();
    await req("PUT", "/service/web", { host: "10.0.0.9", port: 80 });
    const res = await req("PATCH", "/service/web", { host: "10.0.0.9", port: 80, protocol: "tcp", method: "rr", flags: "", persistent: false });
    expect(res.status).toBe(200);
    expect((await ipvs.services())[0]!.scheduler).toBe("rr");
  });

  it("creates the service when absent", async () => {
    const { req, ipvs } = setup();
    expect((await req("PATCH", "/service/web", { port: 80, method: "rr" })).status).toBe(200);
    expect((await ipvs.services())[0]).toMatchObject({ scheduler: "rr" });
    expect((await req("GET", "/service/web")).status).toBe(200);
  });

  it.each([{ port: 81 }, { protocol: "udp" }, { host: "10.9.9.9" }])("refuses a host/port/protocol change %j with 400", async (patch) => {
    const { req, ipvs } = setup();
    await req("PUT", "/service/web", { port: 80 });
    const res = await req("PATCH", "/service/web", patch);
    expect(res.status).toBe(400);
    expect(res.json.error).toBe("unable to update virtual service [web] due to host/port/protocol changing");
    expect((await ipvs.services())[0]!.key).toMatchObject({ port: 80, protocol: "tcp", address: VIP });
  });

  it("refuses an unknown scheduler and leaves the service alone", async () => {
    const { req, ipvs } = setup();
    await req("PUT", "/service/web", { port: 80 });
    expect((await req("PATCH", "/service/web", { method: "nope" })).status).toBe(400);
    expect((await ipvs.services())[0]!.scheduler).toBe("wrr");
  });

  it("rolls back when the kernel refuses", async () => {
    const { req, ipvs } = setup({ ipvs: new MemoryIpvs({ schedulers: ["wrr", "rr"] }) });
    await req("PUT", "/service/web", { port: 80 });
    const res = await req("PATCH", "/service/web", { method: "sh" });
    expect(res.status).toBe(500);
    expect((await ipvs.services())[0]!.scheduler).toBe("wrr");
    expect((await req("GET", "/service/web")).json.options.method).toBe("wrr");
  });
});

describe("DELETE /service/{vs}", () => {
  it("removes the service and its backends", async () => {
    const { req, ipvs } = setup();
    await req("PUT", "/service/web", { port: 80 });
    await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80 });
    const res = await req("DELETE", "/service/web");
    expect(res.status).toBe(200);
    expect(res.text).toBe("");
    expect(await ipvs.services()).toEqual([]);
    expect((await req("GET", "/service/web/a")).status).toBe(404);
    // The same IDs can be used again.
    expect((await req("PUT", "/service/web", { port: 80 })).status).toBe(200);
    expect((await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80 })).status).toBe(200);
  });

  it("answers 404 for an unknown service", async () => {
    const { req } = setup();
    expect((await req("DELETE", "/service/nope")).status).toBe(404);
  });

  it("keeps the service when the kernel refuses", async () => {
    const store = new MemoryStateStore();
    const { req, ipvs } = setup({ store });
    await req("PUT", "/service/web", { port: 80 });
    await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80 });
    ipvs.failNext(1, Errno.ENOMEM);
    const res = await req("DELETE", "/service/web");
    expect(res.status).toBe(500);
    expect(res.json.error).toBe("error while calling into IPVS: the kernel is out of memory");
    expect((await req("GET", "/service/web")).json.backends).toEqual(["a"]);
    expect(await ipvs.destinations((await ipvs.services())[0]!.key)).toHaveLength(1);
    expect((await store.load())[0]!.backends).toHaveLength(1);
  });
});
