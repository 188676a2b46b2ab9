/**
 * A connection's `streams` applied to the catalog the source discovered: which streams sync and how.
 * The defaults of config as code live here. Runs at sync time (it needs the discovered catalog).
 * Imports src/engine and `effect`.
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type * as M from "../engine/protocol/AirbyteMessage.ts"
import type { StreamConfig } from "./Config.ts"
import type { ConfigIssue } from "./ConfigErrors.ts"

/** The connection's `streams` do not fit the discovered catalog; every problem with its path. */
export class StreamsInvalid extends Data.TaggedError("StreamsInvalid")<{ readonly issues: ReadonlyArray<ConfigIssue> }> {
  override get message() {
    return `streams do not fit the source's catalog:\n${this.issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}`
  }
}

export interface CatalogOptions {
  /** Prefix of error paths, e.g. `connections.quickstart`. */
  readonly path?: string | undefined
  /** What the destination supports (its SPEC); unchecked when unknown. */
  readonly destinationSyncModes?: ReadonlyArray<M.DestinationSyncMode> | undefined
}

const qualified = (s: M.AirbyteStream) => (s.namespace === undefined ? s.name : `${s.namespace}.${s.name}`)
const samePath = (a: ReadonlyArray<string> | undefined, b: ReadonlyArray<string> | undefined) =>
  a !== undefined && b !== undefined && a.length === b.length && a.every((x, i) => x === b[i])

/**
 * The defaults, per stream: sync mode incremental where the stream supports it, else full_refresh;
 * destination sync mode append after incremental, overwrite after full_refresh (append when the
 * destination does not support overwrite); the source's default cursor and primary key. An explicit
 * cursorField on a stream whose source defines the cursor is an error (the source would ignore it); an
 * explicit primaryKey overrides the source's.
 */
const configureStream = (
  stream: M.AirbyteStream,
  config: StreamConfig,
  path: string,
  options: CatalogOptions,
  issues: Array<ConfigIssue>
): M.ConfiguredAirbyteStream | undefined => {
  const name = qualified(stream)
  const before = issues.length
  const supported = stream.supported_sync_modes
  const syncMode = config.syncMode ?? (supported.includes("incremental") ? "incremental" : "full_refresh")
  if (!supported.includes(syncMode)) {
    issues.push({ path: `${path}.syncMode`, message: `stream ${name} supports ${supported.join(", ")}, not ${syncMode}` })
  }
  const destinationModes = options.destinationSyncModes
  const defaultMode = syncMode === "incremental" ? "append" : "overwrite"
  const destinationSyncMode = config.destinationSyncMode ??
    (destinationModes !== undefined && !destinationModes.includes(defaultMode) && destinationModes.includes("append") ? "append" : defaultMode)
  if (destinationModes !== undefined && !destinationModes.includes(destinationSyncMode)) {
    issues.push({
      path: `${path}.destinationSyncMode`,
      message: `the destination supports ${destinationModes.join(", ")}, not ${destinationSyncMode}`
    })
  }
  let cursor = config.cursorField ?? stream.default_cursor_field
  if (stream.source_defined_cursor === true && config.cursorField !== undefined && !samePath(config.cursorField, stream.default_cursor_field)) {
    issues.push({
      path: `${path}.cursorField`,
      message: `the source defines the cursor of stream ${name} (${(stream.default_cursor_field ?? []).join(".") || "none"}); leave cursorField out`
    })
    cursor = stream.default_cursor_field
  }
  if (syncMode === "incremental" && (cursor === undefined || cursor.length === 0)) {
    issues.push({ path: `${path}.cursorField`, message: `incremental sync of stream ${name} needs a cursorField` })
  }
  const primaryKey = config.primaryKey ?? stream.source_defined_primary_key
  if (destinationSyncMode === "append_dedup" && (primaryKey === undefined || primaryKey.length === 0)) {
    issues.push({ path: `${path}.primaryKey`, message: `append_dedup of stream ${name} needs a primaryKey` })
  }
  if (issues.length > before) return undefined
  return {
    stream,
    sync_mode: syncMode,
    destination_sync_mode: destinationSyncMode,
    ...(cursor === undefined || cursor.length === 0 ? {} : { cursor_field: cursor }),
    ...(primaryKey === undefined || primaryKey.length === 0 ? {} : { primary_key: primaryKey })
  }
}

/**
 * The configured catalog of a connection: without `streams`, every discovered stream with the
 * defaults; with `streams`, exactly the listed ones (by name, or `namespace.name` when names repeat
 * across namespaces), each with its settings over the defaults.
 */
export const configureCatalog = (
  discovered: M.AirbyteCatalog,
  streams: { readonly [stream: string]: StreamConfig } | undefined,
  options: CatalogOptions = {}
): Effect.Effect<M.ConfiguredAirbyteCatalog, StreamsInvalid> =>
  Effect.suspend(() => {
    const prefix = options.path === undefined ? "streams" : `${options.path}.streams`
    const issues: Array<ConfigIssue> = []
    const selected: Array<readonly [M.AirbyteStream, StreamConfig, string]> = []
    if (streams === undefined) {
      for (const stream of discovered.streams) selected.push([stream, {}, `${prefix}.${qualified(stream)}`])
    } else {
      const available = discovered.streams.map(qualified).join(", ") || "(none)"
      for (const [key, config] of Object.entries(streams)) {
        const byName = discovered.streams.filter((s) => s.name === key)
        const matches = byName.length > 0 ? byName : discovered.streams.filter((s) => qualified(s) === key)
        if (matches.length === 1) selected.push([matches[0]!, config, `${prefix}.${key}`])
        else if (matches.length === 0) issues.push({ path: `${prefix}.${key}`, message: `the source has no stream ${JSON.stringify(key)}; its streams: ${available}` })
        else issues.push({ path: `${prefix}.${key}`, message: `stream name ${JSON.stringify(key)} is in several namespaces; write it as namespace.name: ${available}` })
      }
    }
    const configured = selected.flatMap(([stream, config, path]) => configureStream(stream, config, path, options, issues) ?? [])
    return issues.length > 0 ? Effect.fail(new StreamsInvalid({ issues })) : Effect.succeed({ streams: configured })
  })
