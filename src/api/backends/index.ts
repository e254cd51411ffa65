/**
 * @module Routes of backends (real servers): PUT|GET|PATCH|DELETE /service/{vs}/{rs}. Backend IDs
 * are scoped to their service (GORB's were global).
 */
import { Elysia } from "elysia";
import type { BackendInput } from "../../core/model.ts";
import { compileValidator } from "../validate.ts";
import { ok, readJsonBody, tabJson, type BodyShape } from "../http.ts";
import { emptyOk, errorResponses, jsonBody, ref, type ApiDeps } from "../deps.ts";
import { BACKEND_ERROR_PREFIXES, BackendModel } from "./model.ts";
import { backendView } from "./view.ts";

const validator = compileValidator(BackendModel, BACKEND_ERROR_PREFIXES);
const CHOICES = ["method", "tunnel_type", "tunnel_checksum"];
const PUT_SHAPE: BodyShape = { nested: ["pulse"], lowerValues: CHOICES, absentWhenEmpty: CHOICES };
/** GORB's PATCH read only `weight`; Go clients send whole structs, so zero-valued fields mean "not given". */
const PATCH_SHAPE: BodyShape = { ...PUT_SHAPE, absentWhenEmpty: [...CHOICES, "host"], absentWhenZero: ["port"] };

async function backendBody(request: Request, deps: ApiDeps, shape: BodyShape): Promise<BackendInput> {
  return validator.check(await readJsonBody(request, deps.maxBodyBytes, shape)) as BackendInput;
}

const tags = ["backends"];

export function backendRoutes(deps: ApiDeps) {
  const { core } = deps;
  return new Elysia({ name: "gorb/backends", seed: deps.instance })
    .put(
      "/service/:vs/:rs",
      async ({ params, request }) => {
        await core.createBackend(params.vs, params.rs, await backendBody(request, deps, PUT_SHAPE));
        return ok();
      },
      {
        detail: {
          tags,
          summary: "Add a backend",
          description:
            "Adds real server `rs` to service `vs` and starts its health checks. 404 without the service; 409 when `rs` exists in it or another backend of it has the same address and port; 400 when the address family differs from the service's.",
          requestBody: jsonBody("Backend", "The backend"),
          responses: { ...emptyOk, ...errorResponses(400, 404, 409, 413, 500) },
        },
      },
    )
    .get("/service/:vs/:rs", async ({ params }) => tabJson(backendView(await core.getBackend(params.vs, params.rs))), {
      detail: {
        tags,
        summary: "Show a backend",
        description: "Its options (`weight` is the weight IPVS has now), its health-check metrics and the kernel's counters.",
        responses: { "200": { description: "The backend", content: { "application/json": { schema: ref("BackendView") } } }, ...errorResponses(404) },
      },
    })
    .patch(
      "/service/:vs/:rs",
      async ({ params, request }) => {
        await core.updateBackend(params.vs, params.rs, await backendBody(request, deps, PATCH_SHAPE));
        return ok();
      },
      {
        detail: {
          tags,
          summary: "Change a backend",
          description:
            'Changes only the fields given (GORB changed only `weight`, and set 0 when it was absent). `{"weight": 0}` drains the backend. Empty strings, null and port 0 count as "not given".',
          requestBody: jsonBody("Backend", "The fields to change"),
          responses: { ...emptyOk, ...errorResponses(400, 404, 409, 413, 500) },
        },
      },
    )
    .delete(
      "/service/:vs/:rs",
      async ({ params }) => {
        await core.deleteBackend(params.vs, params.rs);
        return ok();
      },
      {
        detail: {
          tags,
          summary: "Remove a backend",
          description: "Removes the real server from IPVS and stops its health checks.",
          responses: { ...emptyOk, ...errorResponses(404, 500) },
        },
      },
    );
}
