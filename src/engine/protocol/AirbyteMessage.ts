/**
 * Effect Schemas for the Airbyte protocol (v0.3.2 as in `airbyte_protocol.yaml`): the message envelope
 * and every payload. Every object is open: unknown fields survive a decode/encode round trip.
 * Pure data; must not import anything outside `effect`.
 */
import * as Schema from "effect/Schema"

const Rest = [Schema.Record(Schema.String, Schema.Unknown)] as const

/** An object schema that keeps fields it does not model (the protocol's `additionalProperties: true`). */
export const open = <const F extends Schema.Struct.Fields>(fields: F) =>
  Schema.StructWithRest(Schema.Struct(fields), Rest)

const opt = Schema.optionalKey
/** A JSON object whose content the protocol leaves free (state blobs, record data, connector config). */
export const JsonObject = Schema.Record(Schema.String, Schema.Unknown)
export type JsonObject = typeof JsonObject.Type

export const StreamDescriptor = open({ name: Schema.String, namespace: opt(Schema.String) })
export type StreamDescriptor = typeof StreamDescriptor.Type

// ---------------------------------------------------------------------------------------------- RECORD

// Both lists are in the order of the socket-mode protobuf enums (index = enum number): keep it.
export const RecordChangeType = Schema.Literals(["NULLED", "TRUNCATED"])
export const RecordChangeReason = Schema.Literals([
  "SOURCE_RECORD_SIZE_LIMITATION",
  "DESTINATION_RECORD_SIZE_LIMITATION",
  "PLATFORM_RECORD_SIZE_LIMITATION",
  "SOURCE_FIELD_SIZE_LIMITATION",
  "DESTINATION_FIELD_SIZE_LIMITATION",
  "PLATFORM_FIELD_SIZE_LIMITATION",
  "SOURCE_SERIALIZATION_ERROR",
  "DESTINATION_SERIALIZATION_ERROR",
  "PLATFORM_SERIALIZATION_ERROR",
  "SOURCE_RETRIEVAL_ERROR",
  "DESTINATION_TYPECAST_ERROR"
])
export const RecordMetaChange = open({ field: Schema.String, change: RecordChangeType, reason: RecordChangeReason })
export type RecordMetaChange = typeof RecordMetaChange.Type
export const RecordMeta = open({ changes: opt(Schema.Array(RecordMetaChange)) })
export const FileReference = open({
  staging_file_url: opt(Schema.String),
  source_file_relative_path: opt(Schema.String),
  file_size_bytes: opt(Schema.Number)
})

export const AirbyteRecordMessage = open({
  namespace: opt(Schema.String),
  stream: Schema.String,
  data: JsonObject,
  emitted_at: Schema.Number,
  meta: opt(RecordMeta),
  file_reference: opt(FileReference)
})
export type AirbyteRecordMessage = typeof AirbyteRecordMessage.Type

// ----------------------------------------------------------------------------------------------- STATE

export const AirbyteStateType = Schema.Literals(["GLOBAL", "STREAM", "LEGACY"])
export type AirbyteStateType = typeof AirbyteStateType.Type
export const AirbyteStateStats = open({ recordCount: opt(Schema.Number), rejectedRecordCount: opt(Schema.Number) })
export type AirbyteStateStats = typeof AirbyteStateStats.Type
/** A state blob: the protocol says object, real connectors send null to mean "reset". */
export const StateBlob = Schema.NullOr(JsonObject)
export const AirbyteStreamState = open({ stream_descriptor: StreamDescriptor, stream_state: opt(StateBlob) })
export type AirbyteStreamState = typeof AirbyteStreamState.Type
export const AirbyteGlobalState = open({ shared_state: opt(StateBlob), stream_states: Schema.Array(AirbyteStreamState) })

export const AirbyteStateMessage = open({
  type: opt(AirbyteStateType),
  stream: opt(AirbyteStreamState),
  global: opt(AirbyteGlobalState),
  data: opt(StateBlob),
  sourceStats: opt(AirbyteStateStats),
  destinationStats: opt(AirbyteStateStats)
})
export type AirbyteStateMessage = typeof AirbyteStateMessage.Type

/** The state type as the protocol defines it: a message without `type` is LEGACY. */
export const stateTypeOf = (state: AirbyteStateMessage): AirbyteStateType => state.type ?? "LEGACY"

// ------------------------------------------------------------------------------------------------- LOG

export const LogLevel = Schema.Literals(["FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"])
export type LogLevel = typeof LogLevel.Type
export const AirbyteLogMessage = open({ level: LogLevel, message: Schema.String, stack_trace: opt(Schema.String) })
export type AirbyteLogMessage = typeof AirbyteLogMessage.Type

// ------------------------------------------------------------------------------------------------ SPEC

export const SyncMode = Schema.Literals(["full_refresh", "incremental"])
export type SyncMode = typeof SyncMode.Type
export const DestinationSyncMode = Schema.Literals(["append", "overwrite", "append_dedup", "update", "soft_delete"])
export type DestinationSyncMode = typeof DestinationSyncMode.Type

export const ConnectorSpecification = open({
  documentationUrl: opt(Schema.String),
  changelogUrl: opt(Schema.String),
  connectionSpecification: JsonObject,
  supportsIncremental: opt(Schema.Boolean),
  supportsNormalization: opt(Schema.Boolean),
  supportsDBT: opt(Schema.Boolean),
  supported_destination_sync_modes: opt(Schema.Array(DestinationSyncMode)),
  authSpecification: opt(JsonObject),
  advanced_auth: opt(JsonObject),
  protocol_version: opt(Schema.String)
})
export type ConnectorSpecification = typeof ConnectorSpecification.Type

// ----------------------------------------------------------------------------------- CONNECTION_STATUS

export const ConnectionStatus = Schema.Literals(["SUCCEEDED", "FAILED"])
export const AirbyteConnectionStatus = open({ status: ConnectionStatus, message: opt(Schema.String) })
export type AirbyteConnectionStatus = typeof AirbyteConnectionStatus.Type

// --------------------------------------------------------------------------------------------- CATALOG

const FieldPath = Schema.Array(Schema.String)
export const AirbyteStream = open({
  name: Schema.String,
  json_schema: JsonObject,
  supported_sync_modes: Schema.Array(SyncMode),
  source_defined_cursor: opt(Schema.Boolean),
  default_cursor_field: opt(FieldPath),
  source_defined_primary_key: opt(Schema.Array(FieldPath)),
  namespace: opt(Schema.String),
  is_resumable: opt(Schema.Boolean),
  is_file_based: opt(Schema.Boolean)
})
export type AirbyteStream = typeof AirbyteStream.Type
export const AirbyteCatalog = open({ streams: Schema.Array(AirbyteStream) })
export type AirbyteCatalog = typeof AirbyteCatalog.Type

export const ConfiguredAirbyteStream = open({
  stream: AirbyteStream,
  sync_mode: SyncMode,
  cursor_field: opt(FieldPath),
  destination_sync_mode: DestinationSyncMode,
  destination_object_name: opt(Schema.String),
  primary_key: opt(Schema.Array(FieldPath)),
  generation_id: opt(Schema.Number),
  minimum_generation_id: opt(Schema.Number),
  sync_id: opt(Schema.Number),
  include_files: opt(Schema.Boolean)
})
export type ConfiguredAirbyteStream = typeof ConfiguredAirbyteStream.Type
export const ConfiguredAirbyteCatalog = open({ streams: Schema.Array(ConfiguredAirbyteStream) })
export type ConfiguredAirbyteCatalog = typeof ConfiguredAirbyteCatalog.Type

// ----------------------------------------------------------------------------------------------- TRACE

export const FailureType = Schema.Literals(["system_error", "config_error", "transient_error"])
export type FailureType = typeof FailureType.Type
export const AirbyteErrorTraceMessage = open({
  message: Schema.String,
  internal_message: opt(Schema.String),
  stack_trace: opt(Schema.String),
  // Kept as a string: an unknown value falls back to system_error where it is classified.
  failure_type: opt(Schema.String),
  stream_descriptor: opt(StreamDescriptor)
})
export type AirbyteErrorTraceMessage = typeof AirbyteErrorTraceMessage.Type
export const AirbyteEstimateTraceMessage = open({
  name: Schema.String,
  type: Schema.Literals(["STREAM", "SYNC"]),
  namespace: opt(Schema.String),
  row_estimate: opt(Schema.Number),
  byte_estimate: opt(Schema.Number)
})
export const AirbyteStreamStatus = Schema.Literals(["STARTED", "RUNNING", "COMPLETE", "INCOMPLETE"])
export type AirbyteStreamStatus = typeof AirbyteStreamStatus.Type
export const AirbyteStreamStatusReason = open({
  type: Schema.Literals(["RATE_LIMITED"]),
  rate_limited: opt(open({ quota_reset: opt(Schema.Number) }))
})
export const AirbyteStreamStatusTraceMessage = open({
  stream_descriptor: StreamDescriptor,
  status: AirbyteStreamStatus,
  reasons: opt(Schema.Array(AirbyteStreamStatusReason))
})
export type AirbyteStreamStatusTraceMessage = typeof AirbyteStreamStatusTraceMessage.Type
export const AirbyteAnalyticsTraceMessage = open({ type: Schema.String, value: opt(Schema.String) })
export const AirbyteTraceType = Schema.Literals(["ERROR", "ESTIMATE", "STREAM_STATUS", "ANALYTICS"])
export const AirbyteTraceMessage = open({
  type: AirbyteTraceType,
  emitted_at: Schema.Number,
  error: opt(AirbyteErrorTraceMessage),
  estimate: opt(AirbyteEstimateTraceMessage),
  stream_status: opt(AirbyteStreamStatusTraceMessage),
  analytics: opt(AirbyteAnalyticsTraceMessage)
})
export type AirbyteTraceMessage = typeof AirbyteTraceMessage.Type

// --------------------------------------------------------------------------------------------- CONTROL

export const AirbyteControlMessage = open({
  type: Schema.Literals(["CONNECTOR_CONFIG"]),
  emitted_at: Schema.Number,
  connectorConfig: opt(open({ config: JsonObject }))
})
export type AirbyteControlMessage = typeof AirbyteControlMessage.Type

// --------------------------------------------------------------------------------- DESTINATION_CATALOG

export const DestinationCatalog = open({ operations: Schema.Array(JsonObject) })

// -------------------------------------------------------------------------------------------- ENVELOPE

const envelope = <const T extends string, const K extends string, P extends Schema.Top>(type: T, key: K, payload: P) =>
  Schema.StructWithRest(Schema.Struct({ type: Schema.Literal(type), [key]: payload } as { type: Schema.Literal<T> } & { [k in K]: P }), Rest)

export const RecordEnvelope = envelope("RECORD", "record", AirbyteRecordMessage)
export const StateEnvelope = envelope("STATE", "state", AirbyteStateMessage)
export const LogEnvelope = envelope("LOG", "log", AirbyteLogMessage)
export const SpecEnvelope = envelope("SPEC", "spec", ConnectorSpecification)
export const ConnectionStatusEnvelope = envelope("CONNECTION_STATUS", "connectionStatus", AirbyteConnectionStatus)
export const CatalogEnvelope = envelope("CATALOG", "catalog", AirbyteCatalog)
export const TraceEnvelope = envelope("TRACE", "trace", AirbyteTraceMessage)
export const ControlEnvelope = envelope("CONTROL", "control", AirbyteControlMessage)
export const DestinationCatalogEnvelope = envelope("DESTINATION_CATALOG", "destination_catalog", DestinationCatalog)

export type RecordMessage = typeof RecordEnvelope.Type
export type StateMessage = typeof StateEnvelope.Type
export type LogMessage = typeof LogEnvelope.Type
export type SpecMessage = typeof SpecEnvelope.Type
export type ConnectionStatusMessage = typeof ConnectionStatusEnvelope.Type
export type CatalogMessage = typeof CatalogEnvelope.Type
export type TraceMessage = typeof TraceEnvelope.Type
export type ControlMessage = typeof ControlEnvelope.Type

/** Any Airbyte message; `type` says which payload field is present. */
export const AirbyteMessage = Schema.Union([
  RecordEnvelope,
  StateEnvelope,
  LogEnvelope,
  SpecEnvelope,
  ConnectionStatusEnvelope,
  CatalogEnvelope,
  TraceEnvelope,
  ControlEnvelope,
  DestinationCatalogEnvelope
])
export type AirbyteMessage = typeof AirbyteMessage.Type
export type AirbyteMessageType = AirbyteMessage["type"]

export const MessageTypes: ReadonlyArray<AirbyteMessageType> = [
  "RECORD",
  "STATE",
  "LOG",
  "SPEC",
  "CONNECTION_STATUS",
  "CATALOG",
  "TRACE",
  "CONTROL",
  "DESTINATION_CATALOG"
]

/** The payload field of each message type (note the protocol's camelCase `connectionStatus`). */
export const payloadKey = {
  RECORD: "record",
  STATE: "state",
  LOG: "log",
  SPEC: "spec",
  CONNECTION_STATUS: "connectionStatus",
  CATALOG: "catalog",
  TRACE: "trace",
  CONTROL: "control",
  DESTINATION_CATALOG: "destination_catalog"
} as const satisfies Record<AirbyteMessageType, string>
