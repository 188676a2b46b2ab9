/**
 * The contract of stdio-mode middleware (stats, PII hashing, mappers): a plugin decodes its config
 * with a Schema, validates it against the configured catalog before any process starts, rewrites the
 * catalog the destination sees, and transforms RECORD batches. No SQL, HTTP or k8s.
 */
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import type * as Stream from "effect/Stream"
import type * as M from "../protocol/AirbyteMessage.ts"
import * as Batch from "../Batch.ts"

/** A middleware configuration that cannot work with this catalog; reported as a config_error. */
export class MiddlewareConfigError extends Data.TaggedError("MiddlewareConfigError")<{
  readonly middleware: string
  /** Where in the middleware's config, e.g. `mappers[1].field`. */
  readonly path: string
  readonly message: string
}> {}

export interface MiddlewareContext {
  /** The catalog as the source produces it (before this middleware's rewrite). */
  readonly catalog: M.ConfiguredAirbyteCatalog
  /** Stable per connection; the salt of PII hashing defaults to it. */
  readonly connectionId: string
  /** Where this middleware sits in the user's list, for error paths (e.g. `mappers[1]`). */
  readonly path: string
}

/**
 * One configured middleware. Contract for `process`: it receives a batch of messages in source order
 * and returns the batch to forward. It may change RECORDs (returning new objects; never mutate the
 * input) and drop RECORDs (they count as filtered out). Every other message (STATE above all) must be
 * returned unchanged and in order. It runs synchronously: one call per batch, no Effect per record.
 */
export interface Middleware {
  readonly id: string
  /** The catalog after this middleware (renamed, dropped, hashed or encrypted fields). */
  readonly catalog: M.ConfiguredAirbyteCatalog
  readonly process: (batch: ReadonlyArray<M.AirbyteMessage>) => ReadonlyArray<M.AirbyteMessage>
}

export interface MiddlewarePlugin<C> {
  readonly id: string
  readonly description: string
  /** Decodes the user's config (errors name the field). */
  readonly config: Schema.Codec<C, unknown>
  /** Builds the middleware for a catalog, or says precisely why the config does not fit it. */
  make(config: C, context: MiddlewareContext): Effect.Effect<Middleware, MiddlewareConfigError>
}

/** Applies middlewares in order, batch by batch. */
export const chain = (middlewares: ReadonlyArray<Middleware>) =>
<E, R>(messages: Stream.Stream<M.AirbyteMessage, E, R>): Stream.Stream<M.AirbyteMessage, E, R> =>
  middlewares.length === 0 ? messages : messages.pipe(Batch.mapBatch((batch) => {
    let out = batch
    for (const middleware of middlewares) {
      if (out.length === 0) break
      out = middleware.process(out)
    }
    return out
  }))

