/**
 * The "pii-hash" middleware: replaces listed fields of one stream (or of every stream) with the hex
 * sha256 of `salt + ":" + value`, the salt defaulting to the connection id, so equal values hash
 * equally within a connection but not across connections. Imports only src/engine, effect and node
 * builtins.
 */
import * as Crypto from "node:crypto"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as M from "../../engine/protocol/AirbyteMessage.ts"
import { MiddlewareConfigError, type MiddlewarePlugin } from "../../engine/replication/Middleware.ts"

export const PiiHashConfig = Schema.Struct({
  type: Schema.optionalKey(Schema.Literal("pii-hash")),
  stream: Schema.optionalKey(Schema.String).annotate({ description: "Stream name or namespace.name; omit for every stream" }),
  fields: Schema.Array(Schema.String.check(Schema.isNonEmpty())).check(Schema.isNonEmpty()).annotate({
    description: "Top-level fields to hash"
  }),
  salt: Schema.optionalKey(Schema.String.check(Schema.isNonEmpty())).annotate({
    description: "Salt of the digest; defaults to the connection id. Write secret(\"ENV_NAME\") to share it across connections"
  })
})
export type PiiHashConfig = typeof PiiHashConfig.Type

const id = "pii-hash"
const fail = (path: string, message: string) => Effect.fail(new MiddlewareConfigError({ middleware: id, path, message }))

const qualified = (s: M.AirbyteStream) => (s.namespace === undefined ? s.name : `${s.namespace}.${s.name}`)

const isObject = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const propertiesOf = (s: M.AirbyteStream): Readonly<Record<string, unknown>> | undefined => {
  const properties = s.json_schema["properties"]
  return isObject(properties) ? properties : undefined
}

/** A string as is; anything else as JSON with object keys sorted. */
const canonicalText = (value: unknown): string => (typeof value === "string" ? value : canonicalJson(value))
const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  if (isObject(value)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`
  }
  return JSON.stringify(value) ?? "null"
}

/** The configured stream indexes the config applies to (all of them when `stream` is omitted). */
const resolveStreams = (catalog: M.ConfiguredAirbyteCatalog, stream: string | undefined, path: string) => {
  const all = catalog.streams.map((_, index) => index)
  if (stream === undefined) return Effect.succeed(all)
  let matches = all.filter((i) => catalog.streams[i]!.stream.name === stream)
  if (matches.length === 0) matches = all.filter((i) => qualified(catalog.streams[i]!.stream) === stream)
  const available = catalog.streams.map((s) => qualified(s.stream)).join(", ") || "(none)"
  if (matches.length === 0) return fail(`${path}.stream`, `no stream '${stream}' in the configured catalog; available streams: ${available}`)
  if (matches.length > 1) return fail(`${path}.stream`, `stream name '${stream}' is ambiguous; write it as namespace.name, one of: ${available}`)
  return Effect.succeed(matches)
}

/** Checks every field is declared where it must be, and is not a deduplicated stream's cursor. */
const checkFields = (
  catalog: M.ConfiguredAirbyteCatalog,
  indexes: ReadonlyArray<number>,
  fields: ReadonlyArray<string>,
  oneStream: boolean,
  path: string
) =>
  Effect.forEach(fields, (field, i) => {
    const at = `${path}.fields[${i}]`
    if (field === "__proto__") return fail(at, "the field name __proto__ is not supported")
    const streams = indexes.map((index) => catalog.streams[index]!)
    const declared = streams.some((s) => {
      const properties = propertiesOf(s.stream)
      return properties === undefined || Object.hasOwn(properties, field)
    })
    if (!declared) {
      const first = streams[0]!.stream
      return fail(at, oneStream
        ? `stream '${qualified(first)}' has no top-level field '${field}'; its fields: ${Object.keys(propertiesOf(first) ?? {}).join(", ")}`
        : `no stream of the catalog has a top-level field '${field}'; name a field some stream declares`)
    }
    for (const s of streams) {
      const cursor = s.cursor_field ?? (s.stream.source_defined_cursor === true ? s.stream.default_cursor_field : undefined)
      if (s.destination_sync_mode === "append_dedup" && cursor?.[0] === field) {
        return fail(at, `field '${field}' is the cursor of stream '${qualified(s.stream)}', which the destination deduplicates on (append_dedup); hashing it would break deduplication`)
      }
    }
    return Effect.void
  }, { discard: true })

const hashedSchema: Readonly<Record<string, unknown>> = { type: ["null", "string"] }

const rewriteCatalog = (catalog: M.ConfiguredAirbyteCatalog, indexes: ReadonlySet<number>, fields: ReadonlyArray<string>) => ({
  ...catalog,
  streams: catalog.streams.map((s, i) => {
    const properties = propertiesOf(s.stream)
    if (!indexes.has(i) || properties === undefined || !fields.some((f) => Object.hasOwn(properties, f))) return s
    const rewritten: Record<string, unknown> = { ...properties }
    for (const f of fields) if (Object.hasOwn(properties, f)) rewritten[f] = hashedSchema
    return { ...s, stream: { ...s.stream, json_schema: { ...s.stream.json_schema, properties: rewritten } } }
  })
})

export const piiHash: MiddlewarePlugin<PiiHashConfig> = {
  id,
  description: "Replaces PII fields with the salted sha256 of their value (salt defaults to the connection id).",
  config: PiiHashConfig,
  make: Effect.fn("piiHash.make")(function*(config, context) {
    const indexes = yield* resolveStreams(context.catalog, config.stream, context.path)
    const fields = [...new Set(config.fields)]
    yield* checkFields(context.catalog, indexes, fields, config.stream !== undefined, context.path)
    const prefix = `${config.salt ?? context.connectionId}:`
    const only = config.stream === undefined ? undefined : context.catalog.streams[indexes[0]!]!.stream
    const name = only?.name
    const namespace = only?.namespace
    const hashData = (data: M.JsonObject): M.JsonObject => {
      let out: Record<string, unknown> | undefined
      for (const field of fields) {
        const value = data[field]
        if (value === undefined || value === null) continue
        out ??= { ...data }
        out[field] = Crypto.hash("sha256", prefix + canonicalText(value), "hex")
      }
      return out ?? data
    }
    return {
      id,
      catalog: rewriteCatalog(context.catalog, new Set(indexes), fields),
      process: (batch) => {
        let out: Array<M.AirbyteMessage> | undefined
        for (let i = 0; i < batch.length; i++) {
          const message = batch[i]!
          let next = message
          if (
            message.type === "RECORD" &&
            (name === undefined || (message.record.stream === name && (namespace === undefined || message.record.namespace === namespace)))
          ) {
            const data = hashData(message.record.data)
            if (data !== message.record.data) next = { ...message, record: { ...message.record, data } }
          }
          if (out === undefined && next !== message) out = batch.slice(0, i)
          out?.push(next)
        }
        return out ?? batch
      }
    }
  })
}
