import { describe, expect, it } from "bun:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import { setup } from "./helpers.ts";

async function spec() {
  const { req } = setup();
  const res = await req("GET", "/openapi.json");
  expect(res.status).toBe(200);
  return res.json;
}

describe("OpenAPI", () => {
  it("passes a standard validator", async () => {
    const doc = await spec();
    await SwaggerParser.validate(structuredClone(doc));
    expect(doc.openapi).toStartWith("3.");
  });

  it("documents every route with its models, descriptions and examples", async () => {
    const doc = await spec();
    expect(Object.keys(doc.paths).sort()).toEqual(["/reconcile", "/service", "/service/{vs}", "/service/{vs}/{rs}", "/status"]);
    expect(Object.keys(doc.paths["/reconcile"]).sort()).toEqual(["get", "post"]);
    expect(Object.keys(doc.paths["/service/{vs}"]).sort()).toEqual(["delete", "get", "patch", "put"]);
    expect(Object.keys(doc.paths["/service/{vs}/{rs}"]).sort()).toEqual(["delete", "get", "patch", "put"]);
    expect(doc.paths["/service/{vs}"].put.requestBody.content["application/json"].schema.$ref).toBe("#/components/schemas/Service");
    const schemas = doc.components.schemas;
    for (const name of ["Service", "Backend", "Pulse", "ServiceView", "BackendView", "ServiceList", "Error", "Reconcile", "Repair", "Status"]) expect(schemas[name]).toBeDefined();
    expect(schemas.Service.properties.method.anyOf.map((o: { const: string }) => o.const)).toContain("wrr");
    expect(schemas.Service.properties.port.description).toBeString();
    expect(schemas.Service.examples.length).toBeGreaterThan(0);
    expect(schemas.Backend.properties.weight.description).toContain("100");
    for (const [path, ops] of Object.entries<Record<string, { summary?: string; description?: string }>>(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        expect({ path, method, summary: typeof op.summary, description: typeof op.description }).toEqual({ path, method, summary: "string", description: "string" });
      }
    }
  });

  it("serves Swagger UI with local assets only", async () => {
    const { req } = setup();
    const page = await req("GET", "/swagger");
    expect(page.status).toBe(200);
    expect(page.text).toContain("/swagger/swagger-ui-bundle.js");
    expect(page.text).not.toMatch(/https?:\/\//);
    const js = await req("GET", "/swagger/swagger-ui-bundle.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toStartWith("text/javascript");
    expect(js.text.length).toBeGreaterThan(100_000);
    expect((await req("GET", "/swagger/swagger-ui.css")).status).toBe(200);
    expect((await req("GET", "/swagger/nope.js")).status).toBe(404);
  });
});
