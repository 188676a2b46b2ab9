/**
 * The IPC capabilities a connector declares (Airbyte's `connectorIPCOptions`): which data-channel
 * transports and serializations it speaks. Used by architecture selection. Imports only `effect`.
 */
import * as Schema from "effect/Schema"

/**
 * PROTOBUF and JSONL are Airbyte's. SLUICE_PROTOBUF is Sluice's own (its connectors declare it): the
 * PROTOBUF frames with each record's data as a message type compiled per stream instead of Airbyte's
 * positional value list (protocol/TypedRows.ts); chosen only when both connectors declare it.
 */
export const Serialization = Schema.Literals(["SLUICE_PROTOBUF", "PROTOBUF", "JSONL"])
export type Serialization = typeof Serialization.Type
export const Transport = Schema.Literals(["SOCKET", "STDIO"])
export type Transport = typeof Transport.Type

export const IpcOptions = Schema.Struct({
  dataChannel: Schema.Struct({
    version: Schema.String,
    supportedSerialization: Schema.Array(Serialization),
    supportedTransport: Schema.Array(Transport)
  })
})
export type IpcOptions = typeof IpcOptions.Type

/** The data-channel version Sluice's own connectors speak. */
export const DATA_CHANNEL_VERSION = "0.0.2"

/**
 * What the built-in connectors declare: both transports, every serialization. Between two Sluice
 * connectors the source's order is its preference (replication/Architecture.ts).
 */
export const fullIpc: IpcOptions = {
  dataChannel: {
    version: DATA_CHANNEL_VERSION,
    supportedSerialization: ["SLUICE_PROTOBUF", "PROTOBUF", "JSONL"],
    supportedTransport: ["SOCKET", "STDIO"]
  }
}

/** The same for a source that writes its records as JSON lines itself (the kit's RecordWriter): JSONL first. */
export const jsonLinesIpc: IpcOptions = {
  dataChannel: { ...fullIpc.dataChannel, supportedSerialization: ["JSONL", "SLUICE_PROTOBUF", "PROTOBUF"] }
}
