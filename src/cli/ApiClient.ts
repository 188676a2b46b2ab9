/**
 * The typed client of the Sluice API (HttpApiClient over FetchHttpClient) with the bearer token on
 * every request: used by `sluice worker` (its workload token) and `sluice jobs --server` (the API
 * token). Composition-root code.
 */
import * as Context from "effect/Context"
import { flow } from "effect/Function"
import * as Layer from "effect/Layer"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http"
import { HttpApiClient, HttpApiMiddleware } from "effect/http-api"
import { Api } from "../api/Api.ts"
import { ApiAuth, WorkerAuth } from "../api/Auth.ts"

export class SluiceClient extends Context.Service<SluiceClient, HttpApiClient.ForApi<typeof Api>>()("sluice/cli/SluiceClient") {}

const withToken = (token: string | undefined) =>
<R extends HttpClientRequest.HttpClientRequest>(request: R) =>
  token === undefined || token === "" ? request : HttpClientRequest.bearerToken(request, token)

export const layer = (baseUrl: string, token: string | undefined) => {
  const bearer = withToken(token)
  return Layer.effect(
    SluiceClient,
    HttpApiClient.make(Api, {
      transformClient: (client) => client.pipe(HttpClient.mapRequest(flow(HttpClientRequest.prependUrl(baseUrl.replace(/\/$/, "")))))
    })
  ).pipe(
    Layer.provide(HttpApiMiddleware.layerClient(ApiAuth, ({ next, request }) => next(bearer(request)))),
    Layer.provide(HttpApiMiddleware.layerClient(WorkerAuth, ({ next, request }) => next(bearer(request)))),
    Layer.provide(FetchHttpClient.layer)
  )
}

export type Client = HttpApiClient.ForApi<typeof Api>
