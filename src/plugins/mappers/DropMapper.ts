/**
 * The "drop" mapper: removes one top-level field of one stream from its records and its JSON schema.
 * A primary-key or cursor field cannot be dropped. Imports only src/engine, effect and node builtins.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { MiddlewarePlugin } from "../../engine/replication/Middleware.ts"
import * as Target from "./StreamTarget.ts"

export const DropMapperConfig = Schema.Struct({
  type: Schema.Literal("drop"),
  stream: Schema.String.annotate({ description: "Stream name, or namespace.name" }),
  field: Schema.String.annotate({ description: "Top-level field to remove" })
})
export type DropMapperConfig = typeof DropMapperConfig.Type

export const dropMapper: MiddlewarePlugin<DropMapperConfig> = {
  id: "drop",
  description: "Removes a top-level field from records and schema (not a primary-key or cursor field).",
  config: DropMapperConfig,
  make: Effect.fn("mappers.drop.make")(function*(config, context) {
    const target = yield* Target.resolveStream("drop", context, config.stream)
    yield* Target.requireField("drop", target, config.field, `${context.path}.field`)
    const { field } = config
    const role = Target.keyRole(target.configured, field)
    if (role !== undefined) {
      return yield* Target.configError(
        "drop",
        `${context.path}.field`,
        `field '${field}' is the ${role} of stream '${Target.qualifiedName(target.configured.stream)}' and cannot be dropped; hash it instead, or change the stream's ${role}`
      )
    }
    return {
      id: "drop",
      catalog: Target.rewriteStream(context.catalog, target.index, (s) =>
        Target.rewriteSchema(s, (properties, required) => {
          const { [field]: _dropped, ...kept } = properties
          return { properties: kept, required: required?.filter((name) => name !== field) }
        })),
      process: Target.mapRecords(target, (data) => {
        if (!Object.hasOwn(data, field)) return data
        const { [field]: _dropped, ...rest } = data
        return rest
      })
    }
  })
}
