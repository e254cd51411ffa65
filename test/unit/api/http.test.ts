import { describe, expect, it } from "bun:test";
import { setup } from "./helpers.ts";

describe("routing", () => {
  it.each([
    ["POST", "/service/web", "GET, HEAD, PUT, PATCH, DELETE"],
    ["POST", "/service/web/a", "GET, HEAD, PUT, PATCH, DELETE"],
    ["PUT", "/service", "GET, HEAD"],
    ["DELETE", "/service", "GET, HEAD"],
    ["OPTIONS", "/service/web", "GET, HEAD, PUT, PATCH, DELETE"],
    ["POST", "/openapi.json", "GET, HEAD"],
  ])("answers %s %s with 405 and Allow", async (method, path, allow) => {
    const { req } = setup();
    const res = await req(method, path);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe(allow);
    expect(res.json.error).toContain(method);
  });

  it("answers an unknown route with 404 and a JSON error", async () => {
    const { req } = setup();
    const res = await req("GET", "/services");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.json.error).toContain("404 page not found");
    expect((await req("GET", "/service/a/b/c")).status).toBe(404);
  });

  it("refuses IDs holding a slash (GORB's router could not match them)", async () => {
    const { req } = setup();
    const res = await req("PUT", "/service/a%2Fb", { port: 80 });
    expect(res.status).toBe(400);
    expect(res.json.error).toContain('"/"');
  });

  it("decodes percent-encoded IDs", async () => {
    const { req } = setup();
    expect((await req("PUT", "/service/web%20one", { port: 80 })).status).toBe(200);
    expect((await req("GET", "/service")).json).toEqual(["web one"]);
  });
});

describe("request bodies", () => {
  it("matches keys case-insensitively and ignores unknown ones, like Go", async () => {
    const { req, ipvs } = setup();
    const res = await req("PUT", "/service/web", { PORT: 80, Protocol: "UDP", Method: "RR", whatever: [1, 2] });
    expect(res.status).toBe(200);
    expect((await ipvs.services())[0]).toMatchObject({ key: { protocol: "udp", port: 80 }, scheduler: "rr" });
    expect((await req("PUT", "/service/web/a", { Host: "10.0.0.1", PORT: 80, Pulse: { TYPE: "none", Interval: "5s" } })).status).toBe(200);
    expect((await req("GET", "/service/web/a")).json.options.pulse).toMatchObject({ type: "none", interval: "5s" });
  });

  it("keeps the keys of pulse.args as given (a free-form map in GORB)", async () => {
    const { req } = setup();
    await req("PUT", "/service/web", { port: 80 });
    await req("PUT", "/service/web/a", { host: "10.0.0.1", port: 80, pulse: { type: "http", args: { path: "/Health", X: "y" } } });
    expect((await req("GET", "/service/web/a")).json.options.pulse.args).toEqual({ path: "/Health", X: "y" });
  });

  it("takes null as 'all defaults' and null fields as absent", async () => {
    const { req } = setup();
    expect((await req("PUT", "/service/web", { port: 80, host: null, method: null })).status).toBe(200);
    expect((await req("GET", "/service/web")).json.options.method).toBe("wrr");
  });

  it.each([
    ["", "empty"],
    ["   ", "empty"],
    ["{", "not valid JSON"],
    ["[]", "must be a JSON object"],
    ["42", "must be a JSON object"],
    ['"x"', "must be a JSON object"],
    ['{"port": 80} trailing', "not valid JSON"],
  ])("refuses the body %p with 400", async (body, text) => {
    const { req } = setup();
    const res = await req("PUT", "/service/web", body);
    expect(res.status).toBe(400);
    expect(res.json.error).toContain(text);
  });

  it("refuses bodies over the limit with 413", async () => {
    const { req } = setup({ maxBodyBytes: 1024 });
    const big = JSON.stringify({ port: 80, padding: "x".repeat(2000) });
    const res = await req("PUT", "/service/web", big);
    expect(res.status).toBe(413);
    expect(res.json.error).toContain("1024");
    // Without a content-length header too (chunked).
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    const { app } = setup({ maxBodyBytes: 1024 });
    const chunked = await app.handle(new Request("http://localhost/service/web", { method: "PUT", body: stream }));
    expect(chunked.status).toBe(413);
  });

  it("writes errors as TAB-indented {\"error\": ...}", async () => {
    const { req } = setup();
    const res = await req("GET", "/service/nope");
    expect(res.text).toBe('{\n\t"error": "unable to locate specified object: service [nope]"\n}');
  });
});
