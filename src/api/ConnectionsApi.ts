/**
 * The connections group: CRUD addressed by name, and POST …/sync|check|discover|spec, which enqueue jobs.
 * Declaration only (handlers in ConnectionsHandlers.ts).
 */
import * as Schema from "effect/Schema"
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "effect/http-api"
import { ConnectionId } from "../scheduler/Ids.ts"
import { ActiveJobExists, ConnectionNotFound } from "../scheduler/StoreErrors.ts"
import { ConnectionExists, ConnectionInvalid } from "./ApiErrors.ts"
import { ConnectionCreate, ConnectionRead, ConnectionUpdate, ConnectorJobs, JobRead } from "./ApiModels.ts"
import { ApiAuth } from "./Auth.ts"

const byName = { name: ConnectionId }

export class ConnectionsApi extends HttpApiGroup.make("connections")
  .add(
    HttpApiEndpoint.get("list", "/connections", { success: Schema.Array(ConnectionRead) }),
    HttpApiEndpoint.get("get", "/connections/:name", { params: byName, success: ConnectionRead, error: ConnectionNotFound }),
    HttpApiEndpoint.post("create", "/connections", {
      payload: ConnectionCreate,
      success: ConnectionRead.pipe(HttpApiSchema.status(201)),
      error: [ConnectionInvalid, ConnectionExists]
    }),
    HttpApiEndpoint.put("update", "/connections/:name", {
      params: byName,
      payload: ConnectionUpdate,
      success: ConnectionRead,
      error: [ConnectionInvalid, ConnectionNotFound]
    }),
    HttpApiEndpoint.delete("delete", "/connections/:name", {
      params: byName,
      success: HttpApiSchema.NoContent,
      error: ConnectionNotFound
    }),
    HttpApiEndpoint.post("sync", "/connections/:name/sync", {
      params: byName,
      success: JobRead,
      error: [ConnectionNotFound, ActiveJobExists]
    }),
    HttpApiEndpoint.post("check", "/connections/:name/check", { params: byName, success: ConnectorJobs, error: ConnectionNotFound }),
    HttpApiEndpoint.post("discover", "/connections/:name/discover", { params: byName, success: JobRead, error: ConnectionNotFound }),
    HttpApiEndpoint.post("spec", "/connections/:name/spec", { params: byName, success: ConnectorJobs, error: ConnectionNotFound })
  )
  .middleware(ApiAuth)
{}
