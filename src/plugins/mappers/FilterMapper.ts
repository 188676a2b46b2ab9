/**
 * The "filter" mapper: keeps the RECORDs of one stream for which a declarative predicate holds and
 * drops the others (counted as filtered out by the engine). The predicate is compiled once, at make.
 * Imports only src/engine, effect and node builtins.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { MiddlewarePlugin } from "../../engine/replication/Middleware.ts"
import * as Predicate from "./Predicate.ts"
import * as Target from "./StreamTarget.ts"

export const FilterMapperConfig = Schema.Struct({
  type: Schema.Literal("filter"),
  stream: Schema.String.annotate({ description: "Stream name, or namespace.name" }),
  keep: Predicate.Predicate.annotate({ description: "Records for which this holds are kept; the others are dropped" })
})
export type FilterMapperConfig = typeof FilterMapperConfig.Type

export const filterMapper: MiddlewarePlugin<FilterMapperConfig> = {
  id: "filter",
  description: "Keeps the records of a stream that match a declarative predicate; drops the others.",
  config: FilterMapperConfig,
  make: Effect.fn("mappers.filter.make")(function*(config, context) {
    const target = yield* Target.resolveStream("filter", context, config.stream)
    const keep = yield* Predicate.compile("filter", target, config.keep, `${context.path}.keep`)
    return {
      id: "filter",
      catalog: context.catalog,
      process: Target.mapRecords(target, (data) => (keep(data) ? data : undefined))
    }
  })
}
