/**
 * The IPC capabilities a connector declares (Airbyte's `connectorIPCOptions`): which data-channel
 * transports and serializations it speaks. Used by architecture selection. Imports only `effect`.
 */
import { Schema } from "effect"

export const Serialization = Schema.Literals(["PROTOBUF", "JSONL"])
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

/** What the built-in connectors declare: both transports, both serializations. */
export const fullIpc: IpcOptions = {
  dataChannel: {
    version: DATA_CHANNEL_VERSION,
    supportedSerialization: ["PROTOBUF", "JSONL"],
    supportedTransport: ["SOCKET", "STDIO"]
  }
}
