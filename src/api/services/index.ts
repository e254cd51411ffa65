/**
 * @module Routes of virtual services: GET /service, PUT|GET|PATCH|DELETE /service/{vs}.
 */
import { Elysia } from "elysia";
import type { ServiceInput } from "../../core/model.ts";
import { compileValidator } from "../validate.ts";
import { ok, readJsonBody, tabJson } from "../http.ts";
import { emptyOk, errorResponses, jsonBody, ref, type ApiDeps } from "../deps.ts";
import { SERVICE_ERROR_PREFIXES, ServiceModel } from "./model.ts";
import { serviceView } from "./view.ts";

const validator = compileValidator(ServiceModel, SERVICE_ERROR_PREFIXES);
const CHOICES = ["protocol", "method", "family", "all_down"];
const SHAPE = { lowerValues: CHOICES, absentWhenEmpty: CHOICES } as const;

async function serviceBody(request: Request, deps: ApiDeps): Promise<ServiceInput> {
  return validator.check(await readJsonBody(request, deps.maxBodyBytes, SHAPE)) as ServiceInput;
}

const tags = ["services"];

export function serviceRoutes(deps: ApiDeps) {
  const { core } = deps;
  return new Elysia({ name: "gorb/services", seed: deps.instance })
    .get("/service", () => tabJson(core.listServices()), {
      detail: {
        tags,
        summary: "List services",
        description: "The IDs of all virtual services, sorted (GORB: unordered).",
        responses: { "200": { description: "Service IDs", content: { "application/json": { schema: ref("ServiceList") } } } },
      },
    })
    .put(
      "/service/:vs",
      async ({ params, request }) => {
        await core.createService(params.vs, await serviceBody(request, deps));
        return ok();
      },
      {
        detail: {
          tags,
          summary: "Create a service",
          description: "Creates virtual service `vs` in IPVS. 409 when `vs` exists or another service already has the same address, port and protocol (or fwmark).",
          requestBody: jsonBody("Service", "The service"),
          responses: { ...emptyOk, ...errorResponses(400, 409, 413, 500) },
        },
      },
    )
    .get("/service/:vs", async ({ params }) => tabJson(serviceView(await core.getService(params.vs))), {
      detail: {
        tags,
        summary: "Show a service",
        description: "Its options, the mean health of its backends, their IDs and the kernel's counters.",
        responses: { "200": { description: "The service", content: { "application/json": { schema: ref("ServiceView") } } }, ...errorResponses(404) },
      },
    })
    .patch(
      "/service/:vs",
      async ({ params, request }) => {
        await core.updateService(params.vs, await serviceBody(request, deps));
        return ok();
      },
      {
        detail: {
          tags,
          summary: "Change or create a service",
          description:
            "Changes the scheduler (`method`), `flags` and persistence (`persistent`, `timeout`, `netmask`); fields not given keep their value. Creates the service when absent (sky-uk fork). A change of host, port, protocol or fwmark is refused with 400.",
          requestBody: jsonBody("Service", "The fields to change"),
          responses: { ...emptyOk, ...errorResponses(400, 413, 500) },
        },
      },
    )
    .delete(
      "/service/:vs",
      async ({ params }) => {
        await core.deleteService(params.vs);
        return ok();
      },
      {
        detail: {
          tags,
          summary: "Delete a service",
          description: "Removes the service and all its backends from IPVS and stops their health checks.",
          responses: { ...emptyOk, ...errorResponses(404, 500) },
        },
      },
    );
}
