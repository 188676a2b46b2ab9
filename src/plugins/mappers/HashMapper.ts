/**
 * The "hash" mapper: replaces one field of one stream with the hex digest (sha256, sha512 or md5) of
 * its value, optionally salted as `salt + ":" + value`; null and absent values stay as they are.
 * Imports only src/engine, effect and node builtins.
 */
import * as Crypto from "node:crypto"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { MiddlewarePlugin } from "../../engine/replication/Middleware.ts"
import * as Target from "./StreamTarget.ts"

export const HashMethod = Schema.Literals(["sha256", "sha512", "md5"])
export type HashMethod = typeof HashMethod.Type

export const HashMapperConfig = Schema.Struct({
  type: Schema.Literal("hash"),
  stream: Schema.String.annotate({ description: "Stream name, or namespace.name" }),
  field: Schema.String.annotate({ description: "Top-level field to hash" }),
  method: Schema.optionalKey(HashMethod).annotate({ description: "Digest algorithm (default sha256)" }),
  salt: Schema.optionalKey(Schema.String.check(Schema.isNonEmpty())).annotate({
    description: "When set, the digest is of `salt:value`; unsalted digests of guessable values are reversible by lookup"
  })
})
export type HashMapperConfig = typeof HashMapperConfig.Type

export const hashMapper: MiddlewarePlugin<HashMapperConfig> = {
  id: "hash",
  description: "Replaces a field with the hex digest of its value (sha256 by default); null stays null.",
  config: HashMapperConfig,
  make: Effect.fn("mappers.hash.make")(function*(config, context) {
    const target = yield* Target.resolveStream("hash", context, config.stream)
    yield* Target.requireField("hash", target, config.field, `${context.path}.field`)
    yield* Target.forbidDedupKey("hash", `${context.path}.field`, target.configured, config.field, ["cursor"], "hashing")
    const { field } = config
    const method = config.method ?? "sha256"
    const prefix = config.salt === undefined ? "" : `${config.salt}:`
    return {
      id: "hash",
      catalog: Target.rewriteStream(context.catalog, target.index, (s) => Target.replaceFieldSchema(s, field, Target.nullableString)),
      process: Target.mapRecords(target, (data) => {
        const value = data[field]
        if (value === undefined || value === null) return data
        return { ...data, [field]: Crypto.hash(method, prefix + Target.canonicalText(value), "hex") }
      })
    }
  })
}
