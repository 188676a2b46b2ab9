/**
 * The public surface of the `sluice` package: config as code (defineConfig, sources, destinations,
 * mappers, secret()), the Airbyte protocol Schemas and codecs, the connector runtime that runs any
 * Airbyte-protocol executable, and the kit for writing connectors in TypeScript. Importing it does
 * no I/O.
 */
export * as AirbyteMessage from "./engine/protocol/AirbyteMessage.ts"
export * as Jsonl from "./engine/protocol/Jsonl.ts"
export * as ConnectorRuntime from "./engine/ConnectorRuntime.ts"
export { ConnectorFailure } from "./engine/ConnectorFailure.ts"
export type { ConnectorDefinition, LogEntry } from "./engine/ConnectorProcess.ts"
export { ConnectorError } from "./engine/kit/Connector.ts"
export type { ConnectorContext, DestinationConnector, InputState, SourceConnector } from "./engine/kit/Connector.ts"
export { runConnector } from "./engine/kit/ConnectorMain.ts"
export { makeSpec } from "./engine/kit/Spec.ts"
export { fullIpc, IpcOptions, jsonLinesIpc } from "./engine/IpcOptions.ts"

// Config as code: what a `sluice.config.ts` imports. Specs are plain data; nothing runs on import.
export { defineConfig } from "./config/Config.ts"
export type {
  Config,
  Connection,
  ConnectionConfig,
  IntervalText,
  ResourcesConfig,
  RetryConfig,
  Schedule,
  SluiceConfig,
  StreamConfig
} from "./config/Config.ts"
export { destinations, sources } from "./config/Connectors.ts"
export type {
  CommandConfig,
  CommandConnectorSpec,
  CommandOptions,
  ConfigValue,
  ConnectorSpec,
  DestinationSpec,
  DevNullDestinationSpec,
  FakerSourceConfig,
  FakerSourceSpec,
  JsonlDestinationConfig,
  JsonlDestinationSpec,
  PostgresDestinationConfig,
  PostgresDestinationSpec,
  PostgresSourceConfig,
  PostgresSourceSpec,
  SourceSpec,
  SslMode
} from "./config/Connectors.ts"
export { mappers } from "./config/Mappers.ts"
export type {
  DropMapperSpec,
  EncryptMapperSpec,
  FilterMapperSpec,
  HashMapperSpec,
  MapperSpec,
  PiiHashMapperSpec,
  RenameMapperSpec
} from "./config/Mappers.ts"
export { secret } from "./config/Secret.ts"
export type { Secret } from "./config/Secret.ts"
