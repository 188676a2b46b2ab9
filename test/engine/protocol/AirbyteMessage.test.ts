/**
 * The protocol Schemas against the official JSON Schema: every message type and variant round-trips with
 * unknown fields kept at every level, and both validators agree on what is valid — except for the
 * divergences listed (and asserted) at the end.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Exit, Schema } from "effect"
import * as M from "../../../src/engine/protocol/AirbyteMessage.ts"
import * as Official from "../../support/OfficialSchema.ts"

type Path = ReadonlyArray<string | number>
type Json = Readonly<Record<string, unknown>>

interface Codec {
  readonly decode: (input: unknown) => Exit.Exit<unknown, Schema.SchemaError>
  readonly encode: (input: unknown) => Exit.Exit<unknown, Schema.SchemaError>
  readonly official: (input: unknown) => ReadonlyArray<string>
}

const codecs: { readonly message: Codec; readonly catalog: Codec } = {
  message: {
    decode: Schema.decodeUnknownExit(M.AirbyteMessage),
    encode: Schema.encodeUnknownExit(M.AirbyteMessage),
    official: Official.validateAirbyteMessage
  },
  catalog: {
    decode: Schema.decodeUnknownExit(M.ConfiguredAirbyteCatalog),
    encode: Schema.encodeUnknownExit(M.ConfiguredAirbyteCatalog),
    official: Official.validateConfiguredCatalog
  }
}

/** The per-type envelope schemas, as the JSONL decoder uses them. */
const envelopes: { readonly [K in M.AirbyteMessageType]: Codec["decode"] } = {
  RECORD: Schema.decodeUnknownExit(M.RecordEnvelope),
  STATE: Schema.decodeUnknownExit(M.StateEnvelope),
  LOG: Schema.decodeUnknownExit(M.LogEnvelope),
  SPEC: Schema.decodeUnknownExit(M.SpecEnvelope),
  CONNECTION_STATUS: Schema.decodeUnknownExit(M.ConnectionStatusEnvelope),
  CATALOG: Schema.decodeUnknownExit(M.CatalogEnvelope),
  TRACE: Schema.decodeUnknownExit(M.TraceEnvelope),
  CONTROL: Schema.decodeUnknownExit(M.ControlEnvelope),
  DESTINATION_CATALOG: Schema.decodeUnknownExit(M.DestinationCatalogEnvelope)
}

const failureOf = (exit: Exit.Exit<unknown, Schema.SchemaError>): string | undefined => {
  if (Exit.isSuccess(exit)) return undefined
  const error = Cause.squash(exit.cause)
  return error instanceof Error ? error.message : String(error)
}

const successOf = (exit: Exit.Exit<unknown, Schema.SchemaError>): unknown => {
  if (Exit.isSuccess(exit)) return exit.value
  return assert.fail(`expected success, got: ${failureOf(exit)}`)
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const UNKNOWN_KEY = "x_sluice_unknown"

/**
 * A deep copy of `value` with an unknown field added to every object at every depth (including free-form
 * blobs), whose value is itself nested, so a Schema that drops or rebuilds unknown fields is caught.
 */
const withUnknownFields = (value: unknown, at = "$"): unknown => {
  if (Array.isArray(value)) return value.map((item, i) => withUnknownFields(item, `${at}[${i}]`))
  if (!isObject(value)) return value
  const out: Record<string, unknown> = {}
  for (const [key, field] of Object.entries(value)) out[key] = withUnknownFields(field, `${at}.${key}`)
  out[UNKNOWN_KEY] = { at, list: [1, "two", null, { three: [3.5] }] }
  return out
}

const REMOVE: unique symbol = Symbol("remove")

/** A deep copy of `value` with the field at `path` replaced (or removed). */
const edit = (value: Json, path: Path, replacement: unknown): Json => {
  const copy = structuredClone(value)
  let node: unknown = copy
  for (const key of path.slice(0, -1)) {
    node = Array.isArray(node) && typeof key === "number" ? node[key] : isObject(node) ? node[key] : undefined
    if (typeof node !== "object" || node === null) throw new Error(`no object at ${String(key)} in ${path.join(".")}`)
  }
  const last = path[path.length - 1]!
  if (Array.isArray(node) && typeof last === "number") {
    if (replacement === REMOVE) node.splice(last, 1)
    else node[last] = replacement
  } else if (isObject(node)) {
    if (replacement === REMOVE) delete node[last]
    else node[last] = replacement
  }
  return copy
}

/** Our Schema's rendering of a path: `["record"]["meta"]["changes"][0]`. */
const ourPath = (path: Path) => path.map((key) => (typeof key === "number" ? `[${key}]` : `["${key}"]`)).join("")
const pointer = (path: Path) => (path.length === 0 ? "/" : `/${path.join("/")}`)

/** True when every official error is about `path`: the value there, or its absence from the parent. */
const officialErrorsAreAbout = (errors: ReadonlyArray<string>, path: Path): boolean =>
  errors.length > 0 &&
  errors.every((error) =>
    error.startsWith(`${pointer(path)} `) ||
    error === `${pointer(path.slice(0, -1))} must have required property '${String(path[path.length - 1])}'`
  )

// ------------------------------------------------------------------------------------------- samples

interface Sample {
  readonly name: string
  readonly codec: keyof typeof codecs
  readonly value: Json
}

const EMITTED_AT = 1_700_000_000_000

const record: Json = { type: "RECORD", record: { stream: "users", data: { id: 1, name: "Ada" }, emitted_at: EMITTED_AT } }
const fullRecord: Json = {
  type: "RECORD",
  record: {
    namespace: "public",
    stream: "users",
    data: { id: 1, tags: ["a", "b"], address: { city: "Paris" }, bio: null },
    emitted_at: EMITTED_AT,
    meta: {
      changes: [
        { field: "bio", change: "NULLED", reason: "SOURCE_FIELD_SIZE_LIMITATION" },
        { field: "avatar", change: "TRUNCATED", reason: "DESTINATION_TYPECAST_ERROR" }
      ]
    },
    file_reference: {
      staging_file_url: "file:///staging/users/a.csv",
      source_file_relative_path: "users/a.csv",
      file_size_bytes: 2048
    }
  }
}
const streamState: Json = {
  type: "STATE",
  state: {
    type: "STREAM",
    stream: { stream_descriptor: { name: "users", namespace: "public" }, stream_state: { cursor: "2024-01-01" } },
    sourceStats: { recordCount: 2 },
    destinationStats: { recordCount: 1.0, rejectedRecordCount: 1 },
    id: 7,
    partition_id: "9f2c"
  },
  faros_extra: { origin: "faros" }
}
const globalState: Json = {
  type: "STATE",
  state: {
    type: "GLOBAL",
    global: {
      shared_state: { lsn: 42 },
      stream_states: [
        { stream_descriptor: { name: "users", namespace: "public" }, stream_state: { done: true } },
        { stream_descriptor: { name: "orders" } }
      ]
    },
    sourceStats: { recordCount: 1e6, rejectedRecordCount: 0 },
    id: 8,
    partition_id: "a01b"
  }
}
const legacyState: Json = { type: "STATE", state: { type: "LEGACY", data: { users: { cursor: 3 } } } }
const untypedLegacyState: Json = { type: "STATE", state: { data: { cutoff: "2024-01-01" } }, id: 3 }
const log: Json = { type: "LOG", log: { level: "ERROR", message: "boom", stack_trace: "Error: boom\n    at main" } }
const spec: Json = {
  type: "SPEC",
  spec: {
    documentationUrl: "https://docs.example.com/source",
    changelogUrl: "https://docs.example.com/changelog",
    connectionSpecification: {
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      required: ["token"],
      properties: { token: { type: "string", airbyte_secret: true } }
    },
    supportsIncremental: true,
    supportsNormalization: false,
    supportsDBT: false,
    supported_destination_sync_modes: ["append", "overwrite", "append_dedup", "update", "soft_delete"],
    authSpecification: {
      auth_type: "oauth2.0",
      oauth2Specification: {
        rootObject: ["credentials", 0],
        oauthFlowInitParameters: [["client_id"], ["client_secret"]],
        oauthFlowOutputParameters: [["refresh_token"]]
      }
    },
    advanced_auth: {
      auth_flow_type: "oauth2.0",
      predicate_key: ["credentials", "auth_type"],
      predicate_value: "OAuth",
      oauth_config_specification: {
        oauth_connector_input_specification: {
          consent_url: "https://example.com/authorize?{{ client_id_key }}={{ client_id_value }}",
          access_token_url: "https://example.com/token",
          extract_output: ["access_token"],
          state: { min: 7, max: 128 }
        },
        complete_oauth_output_specification: { type: "object" }
      }
    },
    protocol_version: "0.3.2"
  }
}
const catalogStream: Json = {
  name: "users",
  namespace: "public",
  json_schema: { type: "object", properties: { id: { type: "integer" }, updated_at: { type: "string" } } },
  supported_sync_modes: ["full_refresh", "incremental"],
  source_defined_cursor: true,
  default_cursor_field: ["updated_at"],
  source_defined_primary_key: [["id"]],
  is_resumable: true,
  is_file_based: false
}
const catalog: Json = {
  type: "CATALOG",
  catalog: { streams: [catalogStream, { name: "events", json_schema: {}, supported_sync_modes: ["full_refresh"] }] }
}
const traceError: Json = {
  type: "TRACE",
  trace: {
    type: "ERROR",
    emitted_at: EMITTED_AT,
    error: {
      message: "Invalid API token",
      internal_message: "401 Unauthorized",
      stack_trace: "Error: 401\n    at fetch",
      failure_type: "config_error",
      stream_descriptor: { name: "users", namespace: "public" }
    }
  }
}
const streamStatus: Json = {
  type: "TRACE",
  trace: {
    type: "STREAM_STATUS",
    emitted_at: EMITTED_AT,
    stream_status: {
      stream_descriptor: { name: "users" },
      status: "RUNNING",
      reasons: [{ type: "RATE_LIMITED", rate_limited: { quota_reset: EMITTED_AT + 60_000 } }, { type: "RATE_LIMITED" }]
    }
  }
}
const control: Json = {
  type: "CONTROL",
  control: { type: "CONNECTOR_CONFIG", emitted_at: EMITTED_AT, connectorConfig: { config: { token: "rotated" } } }
}
const destinationCatalog: Json = {
  type: "DESTINATION_CATALOG",
  destination_catalog: {
    operations: [
      { object_name: "Contact", sync_mode: "update", json_schema: { type: "object" }, matching_keys: [["email"], ["id"]] },
      { object_name: "Lead", sync_mode: "soft_delete", json_schema: {} }
    ]
  }
}
const configuredCatalog: Json = {
  streams: [
    {
      stream: catalogStream,
      sync_mode: "incremental",
      cursor_field: ["updated_at"],
      destination_sync_mode: "append_dedup",
      destination_object_name: "Users",
      primary_key: [["id"], ["address", "city"]],
      generation_id: 3,
      minimum_generation_id: 0,
      sync_id: 17,
      include_files: false
    },
    {
      stream: { name: "events", json_schema: {}, supported_sync_modes: ["full_refresh"] },
      sync_mode: "full_refresh",
      destination_sync_mode: "overwrite"
    }
  ]
}

const message = (name: string, value: Json): Sample => ({ name, codec: "message", value })

/** Valid for both the official schema and ours. */
const validSamples: ReadonlyArray<Sample> = [
  message("RECORD, required fields only", record),
  message("RECORD with namespace, meta.changes and file_reference", fullRecord),
  message("STATE STREAM with stats and the platform's id / partition_id", streamState),
  message("STATE STREAM without stream_state", edit(streamState, ["state", "stream", "stream_state"], REMOVE)),
  message("STATE GLOBAL", globalState),
  message("STATE LEGACY", legacyState),
  message("STATE LEGACY without type", untypedLegacyState),
  message("STATE LEGACY with empty data (a reset)", { type: "STATE", state: { data: {} } }),
  message("STATE with no field at all", { type: "STATE", state: {} }),
  ...(["FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"] as const).map((level) =>
    message(`LOG ${level}`, { type: "LOG", log: { level, message: `a ${level} line` } })
  ),
  message("LOG with stack_trace", log),
  message("SPEC with every field", spec),
  message("SPEC, connectionSpecification only", { type: "SPEC", spec: { connectionSpecification: {} } }),
  message("CONNECTION_STATUS SUCCEEDED", { type: "CONNECTION_STATUS", connectionStatus: { status: "SUCCEEDED" } }),
  message("CONNECTION_STATUS FAILED with message", {
    type: "CONNECTION_STATUS",
    connectionStatus: { status: "FAILED", message: "bad token" }
  }),
  message("CATALOG", catalog),
  message("CATALOG with no streams", { type: "CATALOG", catalog: { streams: [] } }),
  message("TRACE ERROR with every field", traceError),
  message("TRACE ERROR, message only", {
    type: "TRACE",
    trace: { type: "ERROR", emitted_at: EMITTED_AT, error: { message: "boom" } }
  }),
  ...(["system_error", "transient_error"] as const).map((failure_type) =>
    message(`TRACE ERROR ${failure_type}`, edit(traceError, ["trace", "error", "failure_type"], failure_type))
  ),
  message("TRACE with a fractional emitted_at (a number in the official schema)", {
    type: "TRACE",
    trace: { type: "ANALYTICS", emitted_at: 1_700_000_000_000.5, analytics: { type: "cursor-count" } }
  }),
  message("TRACE ESTIMATE STREAM", {
    type: "TRACE",
    trace: {
      type: "ESTIMATE",
      emitted_at: EMITTED_AT,
      estimate: { name: "users", type: "STREAM", namespace: "public", row_estimate: 1000, byte_estimate: 65536 }
    }
  }),
  message("TRACE ESTIMATE SYNC", {
    type: "TRACE",
    trace: { type: "ESTIMATE", emitted_at: EMITTED_AT, estimate: { name: "all", type: "SYNC" } }
  }),
  ...(["STARTED", "RUNNING", "COMPLETE", "INCOMPLETE"] as const).map((status) =>
    message(
      `TRACE STREAM_STATUS ${status}`,
      edit(edit(streamStatus, ["trace", "stream_status", "status"], status), ["trace", "stream_status", "reasons"], REMOVE)
    )
  ),
  message("TRACE STREAM_STATUS with RATE_LIMITED reasons", streamStatus),
  message("TRACE ANALYTICS with value", {
    type: "TRACE",
    trace: { type: "ANALYTICS", emitted_at: EMITTED_AT, analytics: { type: "mongodb-cluster-version", value: "6.5" } }
  }),
  // Neither schema ties the sub-object to the trace type.
  message("TRACE ERROR without its error object", { type: "TRACE", trace: { type: "ERROR", emitted_at: EMITTED_AT } }),
  message("CONTROL CONNECTOR_CONFIG", control),
  message("CONTROL without connectorConfig", {
    type: "CONTROL",
    control: { type: "CONNECTOR_CONFIG", emitted_at: EMITTED_AT }
  }),
  message("DESTINATION_CATALOG", destinationCatalog),
  { name: "ConfiguredAirbyteCatalog", codec: "catalog", value: configuredCatalog },
  { name: "ConfiguredAirbyteCatalog, empty", codec: "catalog", value: { streams: [] } }
]

describe("valid samples", () => {
  it("cover every message type", () => {
    const types = new Set(validSamples.filter((s) => s.codec === "message").map((s) => s.value["type"]))
    assert.deepStrictEqual([...types].sort(), [...M.MessageTypes].sort())
  })

  it("assertValidAirbyteMessage passes valid messages and names the path of an invalid one", () => {
    Official.assertValidAirbyteMessage(fullRecord)
    assert.throws(() => Official.assertValidAirbyteMessage(edit(log, ["log", "level"], "LOUD")), /\/log\/level must be equal to/)
  })

  it("the official schema knows every message type we model and rejects others", () => {
    for (const type of M.MessageTypes) assert.deepStrictEqual(Official.validateAirbyteMessage({ type }), [], type)
    assert.isNotEmpty(Official.validateAirbyteMessage({ type: "RECORDS" }))
  })

  for (const sample of validSamples) {
    describe(sample.name, () => {
      const codec = codecs[sample.codec]
      const value = withUnknownFields(sample.value)

      it("is valid against the official schema, with and without unknown fields", () => {
        assert.deepStrictEqual(codec.official(sample.value), [])
        assert.deepStrictEqual(codec.official(value), [])
      })

      it("decodes and encodes back to the same object, unknown fields included at every level", () => {
        const decoded = successOf(codec.decode(value))
        assert.deepStrictEqual(decoded, value)
        const encoded = successOf(codec.encode(decoded))
        assert.deepStrictEqual(encoded, value)
        assert.deepStrictEqual(JSON.parse(JSON.stringify(encoded)), value)
      })

      if (sample.codec === "message") {
        it("decodes with its own envelope schema too", () => {
          const type = sample.value["type"] as M.AirbyteMessageType
          assert.deepStrictEqual(successOf(envelopes[type](value)), value)
        })
      }
    })
  }

  it("a STATE without type is LEGACY; a typed one keeps its type", () => {
    const stateOf = (value: Json) => {
      const decoded = successOf(codecs.message.decode(value))
      assert.isTrue(isObject(decoded) && decoded["type"] === "STATE")
      return (decoded as M.StateMessage).state
    }
    assert.strictEqual(M.stateTypeOf(stateOf(untypedLegacyState)), "LEGACY")
    assert.strictEqual(M.stateTypeOf(stateOf(legacyState)), "LEGACY")
    assert.strictEqual(M.stateTypeOf(stateOf(streamState)), "STREAM")
    assert.strictEqual(M.stateTypeOf(stateOf(globalState)), "GLOBAL")
  })

  it("keeps the platform's id and partition_id on STATE, and extra envelope fields", () => {
    const decoded = successOf(codecs.message.decode(streamState)) as M.StateMessage
    assert.strictEqual(decoded.state["id"], 7)
    assert.strictEqual(decoded.state["partition_id"], "9f2c")
    assert.deepStrictEqual(decoded["faros_extra"], { origin: "faros" })
  })
})

// ------------------------------------------------------------------------------------ invalid samples

interface Invalid {
  readonly name: string
  readonly codec: keyof typeof codecs
  readonly value: Json
  /** Where the problem is; both validators must point there. */
  readonly path: Path
  /** For failures our Schema reports without a path (the envelope union): a substring of its message. */
  readonly oursMentions?: string
}

const broken = (name: string, base: Json, path: Path, replacement: unknown): Invalid => ({
  name,
  codec: "message",
  value: edit(base, path, replacement),
  path
})
const brokenCatalog = (name: string, path: Path, replacement: unknown): Invalid => ({
  name,
  codec: "catalog",
  value: edit(configuredCatalog, path, replacement),
  path
})

/** Invalid for both the official schema and ours, at the same path. */
const invalidSamples: ReadonlyArray<Invalid> = [
  { name: "envelope: unknown type", codec: "message", value: { ...record, type: "RECORDS" }, path: ["type"], oursMentions: `"RECORD"` },
  { name: "envelope: numeric type", codec: "message", value: { ...record, type: 1 }, path: ["type"], oursMentions: `"RECORD"` },
  { name: "envelope: no type", codec: "message", value: edit(record, ["type"], REMOVE), path: ["type"], oursMentions: `"RECORD"` },
  broken("RECORD: payload not an object", record, ["record"], "users"),
  broken("RECORD: numeric stream", record, ["record", "stream"], 1),
  broken("RECORD: no stream", record, ["record", "stream"], REMOVE),
  broken("RECORD: no data", record, ["record", "data"], REMOVE),
  broken("RECORD: data is an array", record, ["record", "data"], [1, 2]),
  broken("RECORD: data is null", record, ["record", "data"], null),
  broken("RECORD: data is a string", record, ["record", "data"], "{}"),
  broken("RECORD: no emitted_at", record, ["record", "emitted_at"], REMOVE),
  broken("RECORD: emitted_at is a string", record, ["record", "emitted_at"], "2024-01-01"),
  broken("RECORD: numeric namespace", record, ["record", "namespace"], 5),
  broken("RECORD: meta.changes not an array", fullRecord, ["record", "meta", "changes"], {}),
  broken("RECORD: unknown change", fullRecord, ["record", "meta", "changes", 1, "change"], "DROPPED"),
  broken("RECORD: unknown change reason", fullRecord, ["record", "meta", "changes", 0, "reason"], "TOO_BIG"),
  broken("RECORD: change without field", fullRecord, ["record", "meta", "changes", 0, "field"], REMOVE),
  broken("RECORD: change without reason", fullRecord, ["record", "meta", "changes", 0, "reason"], REMOVE),
  broken("RECORD: file_size_bytes is a string", fullRecord, ["record", "file_reference", "file_size_bytes"], "2048"),
  broken("RECORD: numeric staging_file_url", fullRecord, ["record", "file_reference", "staging_file_url"], 1),
  broken("STATE: type PER_STREAM (named in the docs, not in the enum)", streamState, ["state", "type"], "PER_STREAM"),
  broken("STATE: lowercase type", streamState, ["state", "type"], "stream"),
  broken("STATE: stream without stream_descriptor", streamState, ["state", "stream", "stream_descriptor"], REMOVE),
  broken("STATE: stream_descriptor without name", streamState, ["state", "stream", "stream_descriptor", "name"], REMOVE),
  broken("STATE: numeric stream_descriptor namespace", streamState, ["state", "stream", "stream_descriptor", "namespace"], 1),
  broken("STATE: stream_state is a string", streamState, ["state", "stream", "stream_state"], "cursor"),
  broken("STATE: stream_state is an array", streamState, ["state", "stream", "stream_state"], []),
  broken("STATE: sourceStats.recordCount is a string", streamState, ["state", "sourceStats", "recordCount"], "2"),
  broken("STATE: destinationStats.rejectedRecordCount is a string", streamState, ["state", "destinationStats", "rejectedRecordCount"], "0"),
  broken("STATE: global without stream_states", globalState, ["state", "global", "stream_states"], REMOVE),
  broken("STATE: global stream_states not an array", globalState, ["state", "global", "stream_states"], {}),
  broken("STATE: global stream state without descriptor", globalState, ["state", "global", "stream_states", 1, "stream_descriptor"], REMOVE),
  broken("STATE: shared_state is an array", globalState, ["state", "global", "shared_state"], [42]),
  broken("STATE: LEGACY data is an array", legacyState, ["state", "data"], [1]),
  broken("STATE: LEGACY data is a string", legacyState, ["state", "data"], "{}"),
  broken("LOG: unknown level", log, ["log", "level"], "VERBOSE"),
  broken("LOG: lowercase level", log, ["log", "level"], "info"),
  broken("LOG: no message", log, ["log", "message"], REMOVE),
  broken("LOG: numeric message", log, ["log", "message"], 42),
  broken("LOG: numeric stack_trace", log, ["log", "stack_trace"], 42),
  broken("SPEC: no connectionSpecification", spec, ["spec", "connectionSpecification"], REMOVE),
  broken("SPEC: connectionSpecification is a string", spec, ["spec", "connectionSpecification"], "{}"),
  broken("SPEC: unknown destination sync mode", spec, ["spec", "supported_destination_sync_modes", 2], "upsert"),
  broken("SPEC: supportsIncremental is a string", spec, ["spec", "supportsIncremental"], "yes"),
  broken("SPEC: numeric protocol_version", spec, ["spec", "protocol_version"], 3),
  broken("CONNECTION_STATUS: unknown status", { type: "CONNECTION_STATUS", connectionStatus: { status: "FAILED" } }, [
    "connectionStatus",
    "status"
  ], "OK"),
  broken("CONNECTION_STATUS: no status", { type: "CONNECTION_STATUS", connectionStatus: { status: "FAILED" } }, [
    "connectionStatus",
    "status"
  ], REMOVE),
  broken("CONNECTION_STATUS: numeric message", { type: "CONNECTION_STATUS", connectionStatus: { status: "FAILED" } }, [
    "connectionStatus",
    "message"
  ], 500),
  broken("CATALOG: no streams", catalog, ["catalog", "streams"], REMOVE),
  broken("CATALOG: stream without name", catalog, ["catalog", "streams", 0, "name"], REMOVE),
  broken("CATALOG: stream without json_schema", catalog, ["catalog", "streams", 1, "json_schema"], REMOVE),
  broken("CATALOG: stream without supported_sync_modes", catalog, ["catalog", "streams", 1, "supported_sync_modes"], REMOVE),
  broken("CATALOG: unknown sync mode", catalog, ["catalog", "streams", 0, "supported_sync_modes", 1], "incremental_dedup"),
  broken("CATALOG: default_cursor_field is a string", catalog, ["catalog", "streams", 0, "default_cursor_field"], "updated_at"),
  broken("CATALOG: numeric primary key part", catalog, ["catalog", "streams", 0, "source_defined_primary_key", 0, 0], 1),
  broken("CATALOG: is_resumable is a string", catalog, ["catalog", "streams", 0, "is_resumable"], "true"),
  broken("TRACE: unknown type", traceError, ["trace", "type"], "WARNING"),
  broken("TRACE: no emitted_at", traceError, ["trace", "emitted_at"], REMOVE),
  broken("TRACE: emitted_at is a string", traceError, ["trace", "emitted_at"], "now"),
  broken("TRACE ERROR: no message", traceError, ["trace", "error", "message"], REMOVE),
  broken("TRACE ERROR: stream_descriptor without name", traceError, ["trace", "error", "stream_descriptor", "name"], REMOVE),
  broken("TRACE ESTIMATE: unknown type", {
    type: "TRACE",
    trace: { type: "ESTIMATE", emitted_at: EMITTED_AT, estimate: { name: "users", type: "STREAM" } }
  }, ["trace", "estimate", "type"], "TABLE"),
  broken("TRACE ESTIMATE: no name", {
    type: "TRACE",
    trace: { type: "ESTIMATE", emitted_at: EMITTED_AT, estimate: { name: "users", type: "STREAM" } }
  }, ["trace", "estimate", "name"], REMOVE),
  broken("TRACE STREAM_STATUS: unknown status", streamStatus, ["trace", "stream_status", "status"], "DONE"),
  broken("TRACE STREAM_STATUS: no stream_descriptor", streamStatus, ["trace", "stream_status", "stream_descriptor"], REMOVE),
  broken("TRACE STREAM_STATUS: unknown reason type", streamStatus, ["trace", "stream_status", "reasons", 1, "type"], "QUOTA"),
  broken("TRACE STREAM_STATUS: reason without type", streamStatus, ["trace", "stream_status", "reasons", 0, "type"], REMOVE),
  broken("TRACE STREAM_STATUS: quota_reset is a string", streamStatus, [
    "trace",
    "stream_status",
    "reasons",
    0,
    "rate_limited",
    "quota_reset"
  ], "soon"),
  broken("TRACE ANALYTICS: no type", {
    type: "TRACE",
    trace: { type: "ANALYTICS", emitted_at: EMITTED_AT, analytics: { type: "t", value: "v" } }
  }, ["trace", "analytics", "type"], REMOVE),
  broken("TRACE ANALYTICS: numeric value", {
    type: "TRACE",
    trace: { type: "ANALYTICS", emitted_at: EMITTED_AT, analytics: { type: "t", value: "v" } }
  }, ["trace", "analytics", "value"], 2),
  broken("CONTROL: unknown type", control, ["control", "type"], "CONFIG"),
  broken("CONTROL: no emitted_at", control, ["control", "emitted_at"], REMOVE),
  broken("CONTROL: connectorConfig without config", control, ["control", "connectorConfig", "config"], REMOVE),
  broken("CONTROL: config is a string", control, ["control", "connectorConfig", "config"], "{}"),
  broken("DESTINATION_CATALOG: no operations", destinationCatalog, ["destination_catalog", "operations"], REMOVE),
  broken("DESTINATION_CATALOG: operation is a string", destinationCatalog, ["destination_catalog", "operations", 0], "Contact"),
  brokenCatalog("ConfiguredAirbyteCatalog: no streams", ["streams"], REMOVE),
  brokenCatalog("ConfiguredAirbyteCatalog: no stream", ["streams", 0, "stream"], REMOVE),
  brokenCatalog("ConfiguredAirbyteCatalog: stream without name", ["streams", 1, "stream", "name"], REMOVE),
  brokenCatalog("ConfiguredAirbyteCatalog: no sync_mode", ["streams", 1, "sync_mode"], REMOVE),
  brokenCatalog("ConfiguredAirbyteCatalog: unknown sync_mode", ["streams", 0, "sync_mode"], "cdc"),
  brokenCatalog("ConfiguredAirbyteCatalog: no destination_sync_mode", ["streams", 1, "destination_sync_mode"], REMOVE),
  brokenCatalog("ConfiguredAirbyteCatalog: unknown destination_sync_mode", ["streams", 0, "destination_sync_mode"], "upsert"),
  brokenCatalog("ConfiguredAirbyteCatalog: cursor_field is a string", ["streams", 0, "cursor_field"], "updated_at"),
  brokenCatalog("ConfiguredAirbyteCatalog: flat primary_key", ["streams", 0, "primary_key", 0], "id"),
  brokenCatalog("ConfiguredAirbyteCatalog: generation_id is a string", ["streams", 0, "generation_id"], "3"),
  brokenCatalog("ConfiguredAirbyteCatalog: include_files is a string", ["streams", 0, "include_files"], "no")
]

describe("invalid samples: both the official schema and ours reject them, at the same path", () => {
  for (const sample of invalidSamples) {
    it(sample.name, () => {
      const codec = codecs[sample.codec]
      const official = codec.official(sample.value)
      assert.isTrue(officialErrorsAreAbout(official, sample.path), `official errors: ${official.join("; ")}`)

      const ours = failureOf(codec.decode(sample.value))
      if (ours === undefined) return assert.fail("our Schema accepted it")
      if (sample.oursMentions !== undefined) assert.include(ours, sample.oursMentions)
      else assert.include(ours.split("\n").map((line) => line.trim()), `at ${ourPath(sample.path)}`, ours)

      // Unknown fields elsewhere do not change the verdict of either.
      const decorated = withUnknownFields(sample.value)
      assert.isNotEmpty(codec.official(decorated))
      assert.isDefined(failureOf(codec.decode(decorated)))
    })
  }
})

// ----------------------------------------------------------------------------------------- divergences

interface Divergence extends Invalid {
  readonly because: string
}

const laxer = (name: string, base: Json, path: Path, replacement: unknown, because: string): Divergence => ({
  name,
  codec: "message",
  value: edit(base, path, replacement),
  path,
  because
})

/** Accepted by our Schema (and round-tripped as they are), rejected by the official schema. */
const oursIsLaxer: ReadonlyArray<Divergence> = [
  laxer("STATE STREAM with null stream_state", streamState, ["state", "stream", "stream_state"], null, "null means reset"),
  laxer("STATE GLOBAL with null shared_state", globalState, ["state", "global", "shared_state"], null, "null means reset"),
  laxer("STATE LEGACY with null data", legacyState, ["state", "data"], null, "null means reset"),
  laxer("STATE LEGACY without type, null data", untypedLegacyState, ["state", "data"], null, "null means reset"),
  laxer("TRACE ERROR with an unknown failure_type", traceError, ["trace", "error", "failure_type"], "oops", "classified later"),
  laxer("RECORD with fractional emitted_at", record, ["record", "emitted_at"], 1.5, "integers are Schema.Number"),
  laxer("RECORD with fractional file_size_bytes", fullRecord, ["record", "file_reference", "file_size_bytes"], 0.5, "ditto"),
  laxer("TRACE ESTIMATE with fractional row_estimate", {
    type: "TRACE",
    trace: { type: "ESTIMATE", emitted_at: EMITTED_AT, estimate: { name: "users", type: "STREAM" } }
  }, ["trace", "estimate", "row_estimate"], 0.5, "ditto"),
  laxer("STREAM_STATUS with fractional quota_reset", streamStatus, [
    "trace",
    "stream_status",
    "reasons",
    0,
    "rate_limited",
    "quota_reset"
  ], 0.5, "ditto"),
  laxer("CATALOG stream with no supported_sync_modes", catalog, ["catalog", "streams", 0, "supported_sync_modes"], [], "minItems: 1 is not modelled"),
  laxer("SPEC documentationUrl not a URI", spec, ["spec", "documentationUrl"], "docs page", "format: uri is not modelled"),
  laxer("SPEC authSpecification unknown auth_type", spec, ["spec", "authSpecification", "auth_type"], "saml", "OAuth blobs are free-form"),
  laxer("SPEC advanced_auth unknown auth_flow_type", spec, ["spec", "advanced_auth", "auth_flow_type"], "saml", "ditto"),
  laxer("DESTINATION_CATALOG operation without object_name", destinationCatalog, [
    "destination_catalog",
    "operations",
    0,
    "object_name"
  ], REMOVE, "operations are free-form objects"),
  laxer("DESTINATION_CATALOG operation with unknown sync_mode", destinationCatalog, [
    "destination_catalog",
    "operations",
    1,
    "sync_mode"
  ], "upsert", "ditto"),
  {
    name: "ConfiguredAirbyteCatalog with fractional generation_id",
    codec: "catalog",
    value: edit(configuredCatalog, ["streams", 0, "generation_id"], 2.5),
    path: ["streams", 0, "generation_id"],
    because: "integers are Schema.Number"
  }
]

/** Accepted by the official schema, rejected by ours: the official envelope requires only `type`. */
const oursIsStricter: ReadonlyArray<Divergence> = [
  { name: "RECORD without record", codec: "message", value: { type: "RECORD" }, path: ["record"], because: "payload required" },
  { name: "STATE without state", codec: "message", value: { type: "STATE" }, path: ["state"], because: "payload required" },
  {
    name: "LOG carrying a record instead of a log",
    codec: "message",
    value: { type: "LOG", record: { stream: "users", data: {}, emitted_at: EMITTED_AT } },
    path: ["log"],
    because: "payload required under the type's key"
  },
  {
    name: "CONNECTION_STATUS with snake_case connection_status",
    codec: "message",
    value: { type: "CONNECTION_STATUS", connection_status: { status: "SUCCEEDED" } },
    path: ["connectionStatus"],
    because: "the payload key is camelCase"
  }
]

describe("known divergences from the official schema", () => {
  for (const sample of oursIsLaxer) {
    it(`ours accepts, official rejects: ${sample.name} (${sample.because})`, () => {
      const codec = codecs[sample.codec]
      const official = codec.official(sample.value)
      assert.isTrue(officialErrorsAreAbout(official, sample.path), `official errors: ${official.join("; ")}`)
      const decoded = successOf(codec.decode(sample.value))
      assert.deepStrictEqual(decoded, sample.value)
      assert.deepStrictEqual(successOf(codec.encode(decoded)), sample.value)
    })
  }
  for (const sample of oursIsStricter) {
    it(`official accepts, ours rejects: ${sample.name} (${sample.because})`, () => {
      const codec = codecs[sample.codec]
      assert.deepStrictEqual(codec.official(sample.value), [])
      const ours = failureOf(codec.decode(sample.value))
      if (ours === undefined) return assert.fail("our Schema accepted it")
      assert.include(ours.split("\n").map((line) => line.trim()), `at ${ourPath(sample.path)}`, ours)
    })
  }
})
