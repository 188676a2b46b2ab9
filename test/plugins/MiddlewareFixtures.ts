/**
 * Shared fixtures of the middleware plugin tests: a configured catalog (a deduplicated stream with a
 * primary key and cursor, a namespaced stream, a schemaless stream), message builders, deep freezing
 * to prove inputs are never mutated, and helpers that build middlewares through the registry.
 */
import { Effect } from "effect"
import type * as M from "../../src/engine/protocol/AirbyteMessage.ts"
import type { Middleware } from "../../src/engine/replication/Middleware.ts"
import { makeMiddlewares } from "../../src/plugins/middleware.ts"

export const connectionId = "conn-1"

export const users: M.ConfiguredAirbyteStream = {
  stream: {
    name: "users",
    json_schema: {
      type: "object",
      properties: {
        id: { type: "integer" },
        email: { type: "string" },
        name: { type: ["null", "string"] },
        age: { type: ["null", "integer"] },
        score: { type: "number" },
        active: { type: "boolean" },
        tags: { type: "array", items: { type: "string" } },
        profile: { type: "object" },
        updated_at: { type: "string", format: "date-time" }
      },
      required: ["id", "email"]
    },
    supported_sync_modes: ["full_refresh", "incremental"],
    source_defined_primary_key: [["id"]],
    default_cursor_field: ["updated_at"],
    source_defined_cursor: true
  },
  sync_mode: "incremental",
  cursor_field: ["updated_at"],
  primary_key: [["id"]],
  destination_sync_mode: "append_dedup"
}

export const orders: M.ConfiguredAirbyteStream = {
  stream: {
    name: "orders",
    namespace: "shop",
    json_schema: {
      type: "object",
      properties: { order_id: { type: "string" }, user_email: { type: "string" }, total: { type: "number" } }
    },
    supported_sync_modes: ["full_refresh"]
  },
  sync_mode: "full_refresh",
  primary_key: [["order_id"]],
  destination_sync_mode: "append"
}

export const events: M.ConfiguredAirbyteStream = {
  stream: { name: "events", json_schema: { type: "object" }, supported_sync_modes: ["full_refresh"] },
  sync_mode: "full_refresh",
  destination_sync_mode: "append"
}

export const catalog: M.ConfiguredAirbyteCatalog = { streams: [users, orders, events] }

export const record = (stream: string, data: M.JsonObject, namespace?: string): M.AirbyteMessage => ({
  type: "RECORD",
  record: { stream, data, emitted_at: 1_700_000_000_000, ...(namespace === undefined ? {} : { namespace }) }
})

export const state = (n: number): M.AirbyteMessage => ({
  type: "STATE",
  state: { type: "STREAM", stream: { stream_descriptor: { name: "users" }, stream_state: { n } } }
})

export const log = (message: string): M.AirbyteMessage => ({ type: "LOG", log: { level: "INFO", message } })

export const alice = { id: 1, email: "alice@example.com", name: "Alice", age: 31, score: 9.5, active: true, tags: ["a", "vip"], updated_at: "2024-05-01T10:00:00Z" }
export const bob = { id: 2, email: "bob@example.com", name: null, score: 3, active: false, tags: [], updated_at: "2024-06-01T10:00:00Z" }

/** Freezes `value` and everything it holds, so any mutation throws in strict-mode test code. */
export const deepFreeze = <A>(value: A): A => {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

/** Builds the middlewares of `configs` through the registry (decode + make, catalog threaded). */
export const build = (configs: ReadonlyArray<{ readonly type: string; readonly [key: string]: unknown }>, against = catalog, connection = connectionId) =>
  makeMiddlewares(configs, { catalog: against, connectionId: connection })

/** The single middleware of one config. */
export const one = (config: { readonly type: string; readonly [key: string]: unknown }, against = catalog, connection = connectionId) =>
  Effect.map(build([config], against, connection), ({ middlewares }): Middleware => middlewares[0]!)

/** The error `configs` are rejected with. */
export const rejected = (configs: ReadonlyArray<{ readonly type: string; readonly [key: string]: unknown }>, against = catalog) =>
  Effect.flip(build(configs, against))

/** The data of the RECORDs in `batch`. */
export const dataOf = (batch: ReadonlyArray<M.AirbyteMessage>): ReadonlyArray<M.JsonObject> =>
  batch.flatMap((m) => (m.type === "RECORD" ? [m.record.data] : []))

/** The properties of stream `name` in `of`. */
export const propertiesOf = (of: M.ConfiguredAirbyteCatalog, name: string): Record<string, unknown> => {
  const s = of.streams.find((c) => c.stream.name === name)
  const properties = s?.stream.json_schema["properties"]
  return typeof properties === "object" && properties !== null ? { ...properties } : {}
}
