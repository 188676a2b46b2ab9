/**
 * The "rename" mapper: renames one top-level field of one stream in its records, its JSON schema
 * (`properties`, `required`) and its primary key and cursor. Imports only src/engine, effect and node
 * builtins.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as M from "../../engine/protocol/AirbyteMessage.ts"
import type { MiddlewarePlugin } from "../../engine/replication/Middleware.ts"
import * as Target from "./StreamTarget.ts"

export const RenameMapperConfig = Schema.Struct({
  type: Schema.Literal("rename"),
  stream: Schema.String.annotate({ description: "Stream name, or namespace.name" }),
  field: Schema.String.annotate({ description: "Top-level field to rename" }),
  to: Schema.String.annotate({ description: "New name; must not already exist in the stream" })
})
export type RenameMapperConfig = typeof RenameMapperConfig.Type

/** Assigns an own property, also for a `__proto__` key of the input (plain assignment would not). */
const setOwn = (out: Record<string, unknown>, key: string, value: unknown) => {
  if (key === "__proto__") Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  else out[key] = value
}

type FieldPath = ReadonlyArray<string>
const renamePath = (path: FieldPath, field: string, to: string): FieldPath => (path[0] === field ? [to, ...path.slice(1)] : path)
const renamePaths = (paths: ReadonlyArray<FieldPath>, field: string, to: string) => paths.map((p) => renamePath(p, field, to))

const renameInStream = (configured: M.ConfiguredAirbyteStream, field: string, to: string): M.ConfiguredAirbyteStream => {
  const withSchema = Target.rewriteSchema(configured, (properties, required) => {
    const renamed: Record<string, unknown> = {}
    for (const key of Object.keys(properties)) setOwn(renamed, key === field ? to : key, properties[key])
    return { properties: renamed, required: required?.map((name) => (name === field ? to : name)) }
  })
  const { stream } = withSchema
  return {
    ...withSchema,
    stream: {
      ...stream,
      ...(stream.source_defined_primary_key === undefined ? {} : { source_defined_primary_key: renamePaths(stream.source_defined_primary_key, field, to) }),
      ...(stream.default_cursor_field === undefined ? {} : { default_cursor_field: renamePath(stream.default_cursor_field, field, to) })
    },
    ...(withSchema.primary_key === undefined ? {} : { primary_key: renamePaths(withSchema.primary_key, field, to) }),
    ...(withSchema.cursor_field === undefined ? {} : { cursor_field: renamePath(withSchema.cursor_field, field, to) })
  }
}

export const renameMapper: MiddlewarePlugin<RenameMapperConfig> = {
  id: "rename",
  description: "Renames a top-level field in records, schema, primary key and cursor.",
  config: RenameMapperConfig,
  make: Effect.fn("mappers.rename.make")(function*(config, context) {
    const target = yield* Target.resolveStream("rename", context, config.stream)
    yield* Target.requireField("rename", target, config.field, `${context.path}.field`)
    const { field, to } = config
    const toPath = `${context.path}.to`
    if (to.length === 0) return yield* Target.configError("rename", toPath, "to must be a non-empty field name")
    if (to === "__proto__") return yield* Target.configError("rename", toPath, "the field name __proto__ is not supported")
    if (to === field) return yield* Target.configError("rename", toPath, `to is the same name as field ('${field}'); remove this mapper or pick another name`)
    if (target.properties !== undefined && Object.hasOwn(target.properties, to)) {
      return yield* Target.configError(
        "rename",
        toPath,
        `stream '${Target.qualifiedName(target.configured.stream)}' already has a field '${to}'; drop it first or pick another name`
      )
    }
    return {
      id: "rename",
      catalog: Target.rewriteStream(context.catalog, target.index, (s) => renameInStream(s, field, to)),
      process: Target.mapRecords(target, (data) => {
        if (!Object.hasOwn(data, field)) return data
        const out: Record<string, unknown> = {}
        for (const key in data) {
          if (key === field) setOwn(out, to, data[key])
          else if (key !== to) setOwn(out, key, data[key])
        }
        return out
      })
    }
  })
}
