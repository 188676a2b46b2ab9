/**
 * Where a mapper applies: one stream of the configured catalog and its top-level fields. Resolves and
 * validates them (errors name the config path), rewrites that stream in the catalog, and maps the
 * stream's RECORDs batch by batch. Imports only src/engine, effect and node builtins.
 */
import * as Effect from "effect/Effect"
import type * as M from "../../engine/protocol/AirbyteMessage.ts"
import { MiddlewareConfigError, type MiddlewareContext } from "../../engine/replication/Middleware.ts"

/** A resolved stream: records match it by name, and by namespace when the catalog stream has one. */
export interface StreamTarget {
  readonly index: number
  readonly configured: M.ConfiguredAirbyteStream
  readonly name: string
  readonly namespace: string | undefined
  /** Top-level `json_schema.properties`; undefined when the stream declares none (schemaless). */
  readonly properties: Readonly<Record<string, unknown>> | undefined
}

const isObject = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** `namespace.name`, or `name` when the stream has no namespace. */
export const qualifiedName = (stream: M.AirbyteStream): string =>
  stream.namespace === undefined ? stream.name : `${stream.namespace}.${stream.name}`

const listed = (names: ReadonlyArray<string>, max = 30): string =>
  names.length === 0 ? "(none)" : names.length <= max ? names.join(", ") : `${names.slice(0, max).join(", ")}, … (${names.length} in all)`

export const propertiesOf = (stream: M.AirbyteStream): Readonly<Record<string, unknown>> | undefined => {
  const properties = stream.json_schema["properties"]
  return isObject(properties) ? properties : undefined
}

export const configError = (middleware: string, path: string, message: string) =>
  new MiddlewareConfigError({ middleware, path, message })

/** Finds `stream` (a name, or `namespace.name`) in the catalog the middleware receives. */
export const resolveStream = (middleware: string, context: MiddlewareContext, stream: string, key = "stream") =>
  Effect.suspend(() => {
    const streams = context.catalog.streams
    let matches = streams.flatMap((s, index) => (s.stream.name === stream ? [index] : []))
    if (matches.length === 0) matches = streams.flatMap((s, index) => (qualifiedName(s.stream) === stream ? [index] : []))
    const path = `${context.path}.${key}`
    const available = listed(streams.map((s) => qualifiedName(s.stream)))
    if (matches.length === 0) {
      return Effect.fail(configError(middleware, path, `no stream '${stream}' in the configured catalog; available streams: ${available}`))
    }
    if (matches.length > 1) {
      return Effect.fail(configError(middleware, path, `stream name '${stream}' is ambiguous (several namespaces); write it as namespace.name, one of: ${available}`))
    }
    const index = matches[0]!
    const configured = streams[index]!
    return Effect.succeed<StreamTarget>({
      index,
      configured,
      name: configured.stream.name,
      namespace: configured.stream.namespace,
      properties: propertiesOf(configured.stream)
    })
  })

/** Fails unless `field` is a top-level property of the stream (schemaless streams accept any name). */
export const requireField = (middleware: string, target: StreamTarget, field: string, path: string) =>
  Effect.suspend(() => {
    if (field.length === 0) return Effect.fail(configError(middleware, path, "field must be a non-empty top-level property name"))
    if (field === "__proto__") return Effect.fail(configError(middleware, path, "the field name __proto__ is not supported"))
    if (target.properties === undefined || Object.hasOwn(target.properties, field)) return Effect.void
    return Effect.fail(configError(
      middleware,
      path,
      `stream '${qualifiedName(target.configured.stream)}' has no top-level field '${field}'; its fields: ${listed(Object.keys(target.properties))}`
    ))
  })

/** Whether `field` (or a path under it) is the stream's primary key or cursor, as configured. */
export const keyRole = (configured: M.ConfiguredAirbyteStream, field: string): "primary key" | "cursor" | undefined => {
  const primaryKey = configured.primary_key ?? configured.stream.source_defined_primary_key ?? []
  if (primaryKey.some((path) => path[0] === field)) return "primary key"
  const cursor = configured.cursor_field ??
    (configured.stream.source_defined_cursor === true ? configured.stream.default_cursor_field : undefined) ?? []
  return cursor[0] === field ? "cursor" : undefined
}

/**
 * Fails when the destination deduplicates on `field` and the mapper would break that: a randomised
 * value (encrypt) breaks the primary key and cursor, a hash breaks the cursor's ordering.
 */
export const forbidDedupKey = (
  middleware: string,
  path: string,
  configured: M.ConfiguredAirbyteStream,
  field: string,
  forbidden: ReadonlyArray<"primary key" | "cursor">,
  what: string
) => {
  const role = keyRole(configured, field)
  if (configured.destination_sync_mode !== "append_dedup" || role === undefined || !forbidden.includes(role)) return Effect.void
  return Effect.fail(configError(
    middleware,
    path,
    `field '${field}' is the ${role} of stream '${qualifiedName(configured.stream)}', which the destination deduplicates on (append_dedup); ${what} it would break deduplication — use another mapper or sync mode`
  ))
}

/** The catalog with stream `index` replaced by `f` of it. */
export const rewriteStream = (
  catalog: M.ConfiguredAirbyteCatalog,
  index: number,
  f: (configured: M.ConfiguredAirbyteStream) => M.ConfiguredAirbyteStream
): M.ConfiguredAirbyteCatalog => ({ ...catalog, streams: catalog.streams.map((s, i) => (i === index ? f(s) : s)) })

/** The stream with its json_schema's `properties` and `required` rewritten (when it declares them). */
export const rewriteSchema = (
  configured: M.ConfiguredAirbyteStream,
  f: (properties: Readonly<Record<string, unknown>>, required: ReadonlyArray<unknown> | undefined) => {
    readonly properties: Record<string, unknown>
    readonly required: ReadonlyArray<unknown> | undefined
  }
): M.ConfiguredAirbyteStream => {
  const properties = propertiesOf(configured.stream)
  if (properties === undefined) return configured
  const required = configured.stream.json_schema["required"]
  const next = f(properties, Array.isArray(required) ? required : undefined)
  const json_schema: Record<string, unknown> = { ...configured.stream.json_schema, properties: next.properties }
  if (next.required !== undefined) json_schema["required"] = next.required
  return { ...configured, stream: { ...configured.stream, json_schema } }
}

/** The stream with the JSON schema of `field` replaced. */
export const replaceFieldSchema = (configured: M.ConfiguredAirbyteStream, field: string, schema: Readonly<Record<string, unknown>>) =>
  rewriteSchema(configured, (properties, required) => ({
    properties: Object.hasOwn(properties, field) ? { ...properties, [field]: schema } : { ...properties },
    required
  }))

/** The schema of a field whose non-null values become strings (hashes, ciphertexts). */
export const nullableString: Readonly<Record<string, unknown>> = { type: ["null", "string"] }

/**
 * The text a value is hashed or encrypted from: a string as is, anything else as JSON with object keys
 * sorted (so equal values give equal text whatever the source's key order).
 */
export const canonicalText = (value: unknown): string => (typeof value === "string" ? value : canonicalJson(value))

const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  if (isObject(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`
  }
  return JSON.stringify(value) ?? "null"
}

/**
 * A batch processor that applies `f` to the data of the target's RECORDs: `f` returns the same object
 * (message forwarded as is), a new object (envelope copied) or undefined (record dropped). Every other
 * message is forwarded unchanged and in order; the input batch is returned when nothing changed.
 */
export const mapRecords = (
  target: Pick<StreamTarget, "name" | "namespace">,
  f: (data: M.JsonObject) => M.JsonObject | undefined
) => {
  const { name, namespace } = target
  return (batch: ReadonlyArray<M.AirbyteMessage>): ReadonlyArray<M.AirbyteMessage> => {
    let out: Array<M.AirbyteMessage> | undefined
    for (let i = 0; i < batch.length; i++) {
      const message = batch[i]!
      let next: M.AirbyteMessage | undefined = message
      if (message.type === "RECORD") {
        const record = message.record
        if (record.stream === name && (namespace === undefined || record.namespace === namespace)) {
          const data = f(record.data)
          if (data === undefined) next = undefined
          else if (data !== record.data) next = { ...message, record: { ...record, data } }
        }
      }
      if (out === undefined && next !== message) out = batch.slice(0, i)
      if (out !== undefined && next !== undefined) out.push(next)
    }
    return out ?? batch
  }
}
