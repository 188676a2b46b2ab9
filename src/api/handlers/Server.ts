/**
 * The API's routes: every group's handlers, the two auth schemes and OpenAPI at
 * /api/v1/openapi.json, as one router layer. Needs the stores, the JobRunner, ConnectionSpecs and
 * ApiSettings; the CLI serves it (NodeHttpServer) and tests call it through HttpApiTest.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { HttpApiBuilder, HttpApiMiddleware } from "effect/http-api"
import { Api, OPENAPI_PATH } from "../Api.ts"
import { ApiSettings } from "./ApiSettings.ts"
import { apiAuthLayer, workerAuthLayer } from "./AuthHandlers.ts"
import { connectionsHandlers } from "./ConnectionsHandlers.ts"
import { jobsHandlers } from "./JobsHandlers.ts"
import { workloadsHandlers } from "./WorkloadsHandlers.ts"

export const healthHandlers = HttpApiBuilder.group(
  Api,
  "health",
  Effect.fn(function*(handlers) {
    const settings = yield* ApiSettings
    return handlers.handleAll({
      health: () => Effect.succeed({ status: "ok" as const, dataplane: settings.dataplane, version: settings.version })
    })
  })
)

/** The auth middlewares, provided with provideMerge: the routes resolve them too. */
export const authLayer = Layer.mergeAll(apiAuthLayer, workerAuthLayer, HttpApiMiddleware.layerProblemDetails({ includeDetails: true }))

export const handlersLayer = Layer.mergeAll(healthHandlers, connectionsHandlers, jobsHandlers, workloadsHandlers).pipe(
  Layer.provideMerge(authLayer)
)

export const routes = HttpApiBuilder.layer(Api, { openapiPath: OPENAPI_PATH }).pipe(Layer.provide(handlersLayer))
