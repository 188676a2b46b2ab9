/**
 * THE declaration of Sluice's HTTP API: every group under /api/v1, bearer-token auth, OpenAPI derived
 * from it (served at /api/v1/openapi.json). Shared by the server, the typed client of the CLI and
 * workers, and the tests. Declares; implements nothing.
 */
import * as Schema from "effect/Schema"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware, OpenApi } from "effect/http-api"
import { ConnectionsApi } from "./ConnectionsApi.ts"
import { JobsApi } from "./JobsApi.ts"
import { WorkloadsApi } from "./WorkloadsApi.ts"

export const API_PREFIX = "/api/v1"
export const OPENAPI_PATH = `${API_PREFIX}/openapi.json` as const

export class HealthApi extends HttpApiGroup.make("health", { topLevel: true }).add(
  HttpApiEndpoint.get("health", "/health", {
    success: Schema.Struct({ status: Schema.Literal("ok"), dataplane: Schema.String, version: Schema.String })
  })
) {}

export class Api extends HttpApi.make("sluice")
  .add(HealthApi)
  .add(ConnectionsApi)
  .add(JobsApi)
  .add(WorkloadsApi)
  // A request that does not decode is a 400 problem listing each bad value's path.
  .middleware(HttpApiMiddleware.ProblemDetails)
  .prefix(API_PREFIX)
  .annotateMerge(OpenApi.annotations({
    title: "Sluice API",
    description: "Connections, jobs and the workload API of a Sluice server"
  }))
{}
