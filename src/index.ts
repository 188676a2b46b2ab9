/**
 * The public surface of the `sluice` package. Today: the Airbyte protocol Schemas and codecs, the
 * connector runtime that runs any Airbyte-protocol executable, and the kit for writing connectors
 * in TypeScript. Importing it does no I/O.
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
export { fullIpc, IpcOptions } from "./engine/IpcOptions.ts"
