/**
 * THE list of stdio-mode middleware plugins (PII hashing and the field mappers), their lookup by id
 * (duplicate ids rejected when the list is first used), and `makeMiddlewares`, which decodes a
 * connection's middleware configs and builds them in order against the configured catalog.
 * No registration by import side effect.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as M from "../engine/protocol/AirbyteMessage.ts"
import { type Middleware, MiddlewareConfigError, type MiddlewarePlugin } from "../engine/replication/Middleware.ts"
import * as SchemaErrors from "../engine/SchemaErrors.ts"
import * as Mappers from "./mappers/Mappers.ts"
import { piiHash, type PiiHashConfig } from "./pii-hash/PiiHash.ts"

/** Any middleware plugin, whatever its config type (`make` is a method: bivariant in its parameters). */
export type AnyMiddlewarePlugin = MiddlewarePlugin<unknown>

export const middlewarePlugins: ReadonlyArray<AnyMiddlewarePlugin> = [
  piiHash,
  Mappers.hashMapper,
  Mappers.renameMapper,
  Mappers.dropMapper,
  Mappers.filterMapper,
  Mappers.encryptMapper
]

/** What a pipeline may list under `mappers` (its `type` is the plugin id). */
export type MiddlewareConfig =
  | (PiiHashConfig & { readonly type: "pii-hash" })
  | Mappers.HashMapperConfig
  | Mappers.RenameMapperConfig
  | Mappers.DropMapperConfig
  | Mappers.FilterMapperConfig
  | Mappers.EncryptMapperConfig

interface Entry {
  readonly plugin: AnyMiddlewarePlugin
  readonly decode: (input: unknown, prefix: string) => Result.Result<unknown, DecodeFailure>
}

interface DecodeFailure {
  readonly path: string
  readonly message: string
}

let byId: ReadonlyMap<string, Entry> | undefined

const tokensOf = (path: string): ReadonlyArray<string> => path.match(/\[\d+\]|[^.[]+/g) ?? []

/** The longest path every issue lies under (`mappers[0].keep` for issues at `.keep.and` and `.keep.or`). */
const commonPath = (paths: ReadonlyArray<ReadonlyArray<string>>): string => {
  const first = paths[0] ?? []
  let length = first.length
  for (const tokens of paths) {
    let i = 0
    while (i < length && tokens[i] === first[i]) i++
    length = i
  }
  return first.slice(0, length).reduce((out, token) => (out === "" || token.startsWith("[") ? out + token : `${out}.${token}`), "")
}

const isGeneric = (message: string) => message === "missing key" || message === "expected no excess property"

/**
 * Decodes reporting every issue and rejecting unknown keys (a misspelt option is never silently
 * ignored). A union (the filter predicate) reports each member's issues, so the lines are ordered
 * most telling first: deepest path, then type mismatches before missing or excess keys; duplicates
 * are dropped. The error's path is the longest one all issues lie under.
 */
const strictDecoder = (schema: Schema.Codec<unknown, unknown>) => {
  const decode = Schema.decodeUnknownExit(schema)
  return (input: unknown, prefix: string): Result.Result<unknown, DecodeFailure> => {
    const exit = decode(input, { errors: "all", onExcessProperty: "error" })
    if (Exit.isSuccess(exit)) return Result.succeed(exit.value)
    const error = Cause.squash(exit.cause)
    if (!Schema.isSchemaError(error)) return Result.fail({ path: prefix, message: String(error) })
    const issues = SchemaErrors.issuesOf(error, prefix).map((issue) => ({ ...issue, tokens: tokensOf(issue.path) }))
    const ordered = issues.toSorted((a, b) =>
      b.tokens.length - a.tokens.length || Number(isGeneric(a.message)) - Number(isGeneric(b.message))
    )
    return Result.fail({
      path: commonPath(issues.map((issue) => issue.tokens)) || prefix,
      message: [...new Set(ordered.map((issue) => `${issue.path}: ${issue.message}`))].join("\n")
    })
  }
}

const index = (): ReadonlyMap<string, Entry> => {
  if (byId !== undefined) return byId
  const map = new Map<string, Entry>()
  for (const plugin of middlewarePlugins) {
    if (map.has(plugin.id)) throw new Error(`duplicate middleware plugin id '${plugin.id}' in src/plugins/middleware.ts`)
    map.set(plugin.id, { plugin, decode: strictDecoder(plugin.config) })
  }
  byId = map
  return map
}

export const findMiddlewarePlugin = (id: string): AnyMiddlewarePlugin | undefined => index().get(id)?.plugin
export const middlewarePluginIds = (): ReadonlyArray<string> => [...index().keys()]

export interface MakeMiddlewaresContext {
  /** The catalog as the source produces it. */
  readonly catalog: M.ConfiguredAirbyteCatalog
  readonly connectionId: string
}

/**
 * Decodes each config with its plugin's Schema (errors under `mappers[i]`) and builds the middlewares
 * in order, each against the catalog the previous one produced. Returns them with the final catalog,
 * the one the destination must be given. Fails with the first config that does not fit.
 */
export const makeMiddlewares = Effect.fn("middleware.makeMiddlewares")(function*(
  configs: ReadonlyArray<{ readonly type: string; readonly [key: string]: unknown }>,
  context: MakeMiddlewaresContext
) {
  const middlewares: Array<Middleware> = []
  let catalog = context.catalog
  for (let i = 0; i < configs.length; i++) {
    const path = `mappers[${i}]`
    const config: unknown = configs[i]
    const type = typeof config === "object" && config !== null && "type" in config ? config.type : undefined
    const entry = typeof type === "string" ? index().get(type) : undefined
    if (entry === undefined) {
      return yield* new MiddlewareConfigError({
        middleware: typeof type === "string" ? type : "(none)",
        path: `${path}.type`,
        message: `unknown middleware type ${JSON.stringify(type) ?? "(missing)"}; known types: ${middlewarePluginIds().join(", ")}`
      })
    }
    const decoded = entry.decode(config, path)
    if (Result.isFailure(decoded)) {
      return yield* new MiddlewareConfigError({ middleware: entry.plugin.id, ...decoded.failure })
    }
    const middleware = yield* entry.plugin.make(decoded.success, { catalog, connectionId: context.connectionId, path })
    middlewares.push(middleware)
    catalog = middleware.catalog
  }
  return { middlewares, catalog }
})
