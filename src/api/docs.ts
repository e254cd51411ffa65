/**
 * @module OpenAPI 3 at /openapi.json, generated from the routes and the TypeBox models, and
 * Swagger UI at /swagger from assets embedded in the binary (swagger-ui-dist, imported as files
 * so `bun build --compile` carries them): the page loads nothing from outside the host.
 */
import { Elysia } from "elysia";
import { openapi } from "@elysiajs/openapi";
import { Type, type TSchema } from "@sinclair/typebox";
import swaggerCss from "swagger-ui-dist/swagger-ui.css" with { type: "file" };
import swaggerBundle from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };
import favicon from "swagger-ui-dist/favicon-32x32.png" with { type: "file" };
import { BackendModel, BackendViewModel, PulseModel } from "./backends/model.ts";
import { ServiceListModel, ServiceModel, ServiceViewModel } from "./services/model.ts";
import { BackendStatsModel, StatsModel } from "./stats.ts";
import { ReconcileModel, RepairModel, StatusModel, VipModel, VipRepairModel } from "./reconcile/model.ts";

export const OPENAPI_PATH = "/openapi.json";
export const SWAGGER_PATH = "/swagger";

const ErrorModel = Type.Object(
  { error: Type.String({ description: "What went wrong; GORB's fixed text first where GORB had one." }) },
  { title: "Error", examples: [{ error: "specified object already exists: service [web] exists" }] },
);

/** Plain JSON Schema (TypeBox's symbols dropped). */
const plain = (schema: TSchema) => JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;

const MODELS: Record<string, TSchema> = {
  Service: ServiceModel,
  Backend: BackendModel,
  Pulse: PulseModel,
  ServiceView: ServiceViewModel,
  BackendView: BackendViewModel,
  ServiceList: ServiceListModel,
  Stats: StatsModel,
  BackendStats: BackendStatsModel,
  Error: ErrorModel,
  Repair: RepairModel,
  VipRepair: VipRepairModel,
  Vip: VipModel,
  Reconcile: ReconcileModel,
  Status: StatusModel,
};

const ASSETS: Record<string, { path: string; type: string }> = {
  "swagger-ui.css": { path: swaggerCss, type: "text/css; charset=utf-8" },
  "swagger-ui-bundle.js": { path: swaggerBundle, type: "text/javascript; charset=utf-8" },
  "favicon-32x32.png": { path: favicon, type: "image/png" },
};

export function docsRoutes(version: string) {
  return new Elysia({ name: "gorb/docs" })
    .use(
      openapi({
        path: SWAGGER_PATH,
        specPath: OPENAPI_PATH,
        provider: "swagger-ui",
        swagger: {
          theme: `${SWAGGER_PATH}/swagger-ui.css`,
          cdn: `${SWAGGER_PATH}/swagger-ui-bundle.js`,
          autoDarkMode: false,
          // Swagger UI would ask validator.swagger.io for a badge: nothing may leave the host.
          validatorUrl: null,
        } as Record<string, unknown>,
        documentation: {
          info: {
            title: "gorb",
            version,
            description:
              "IPVS control plane with GORB's REST API (kobolog/gorb and the sky-uk fork). Writes answer 200 with an empty body; errors answer {\"error\": \"...\"}; GET answers TAB-indented JSON.",
          },
          tags: [
            { name: "services", description: "Virtual services" },
            { name: "backends", description: "Real servers of a service" },
            { name: "reconcile", description: "Kernel drift, its repair, and the daemon's status" },
          ],
          components: { schemas: Object.fromEntries(Object.entries(MODELS).map(([name, schema]) => [name, plain(schema)])) as never },
        },
      }),
    )
    .get(
      `${SWAGGER_PATH}/:asset`,
      ({ params }) => {
        const asset = ASSETS[params.asset];
        if (!asset) return new Response(JSON.stringify({ error: "no such asset" }), { status: 404, headers: { "content-type": "application/json" } });
        return new Response(Bun.file(asset.path), { headers: { "content-type": asset.type, "cache-control": "public, max-age=86400" } });
      },
      { detail: { hide: true } },
    );
}
