/**
 * Builds a connector's SPEC from its config Schema, so the JSON Schema users see and the decoder
 * the connector runs can never disagree. Imports only `effect` and the protocol.
 */
import * as Schema from "effect/Schema"
import type * as M from "../protocol/AirbyteMessage.ts"

/** The config Schema as a draft-07 JSON Schema (Airbyte's `connectionSpecification`). */
export const connectionSpecification = (config: Schema.Top, title: string): M.JsonObject => {
  const document = Schema.toJsonSchemaDocument(config)
  return { $schema: "http://json-schema.org/draft-07/schema#", title, ...document.schema }
}

export const makeSpec = (options: {
  readonly config: Schema.Top
  readonly title: string
  readonly documentationUrl?: string
  readonly supportsIncremental?: boolean
  readonly destinationSyncModes?: ReadonlyArray<M.DestinationSyncMode>
}): M.ConnectorSpecification => ({
  documentationUrl: options.documentationUrl ?? "https://github.com/sluice-dev/sluice#connectors",
  connectionSpecification: connectionSpecification(options.config, options.title),
  protocol_version: "0.3.2",
  ...(options.supportsIncremental === undefined ? {} : { supportsIncremental: options.supportsIncremental }),
  ...(options.destinationSyncModes === undefined ? {} : { supported_destination_sync_modes: options.destinationSyncModes })
})
