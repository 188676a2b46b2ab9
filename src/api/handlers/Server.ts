/**
 * The API's routes: every group's handlers, the two auth schemes and OpenAPI at
 * /api/v1/openapi.json, as one router layer. Needs the stores, the JobRunner, ConnectionSpecs and
 * ApiSettings; the CLI serves it (NodeHttpServer) and tests call it through HttpApiTest.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { HttpServerError, HttpServerRequest, type HttpServerResponse } from "effect/http"
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

/**
 * Server middleware that logs each request that ended in a failure (a defect, an undeclared error,
 * an interruption by the server) with its method, path, status and cause, and nothing for the
 * others: a 500 or 503 has an empty body, so the log is where an operator finds why. Requests the
 * client aborted are not logged.
 */
export const logFailures = <E, R>(
  app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, E, R | HttpServerRequest.HttpServerRequest> =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    return yield* Effect.onError(app, (cause) => {
      if (cause.reasons.some((reason) => reason._tag === "Interrupt" && reason.annotations.has(HttpServerError.ClientAbort.key))) {
        return Effect.void
      }
      return Effect.flatMap(HttpServerError.causeResponse(cause), ([response]) =>
        Effect.logError(`${request.method} ${request.url} answered ${response.status}`, cause).pipe(
          Effect.annotateLogs({ "http.method": request.method, "http.url": request.url, "http.status": response.status })
        ))
    })
  })
