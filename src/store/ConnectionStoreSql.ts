/**
 * ConnectionStore on PostgreSQL/PGlite through @effect/sql-pg: connection specs, the current state
 * (one row per stream, or one GLOBAL or LEGACY row) and the history of commits and resets. The only
 * place that writes SQL for connections. Needs a migrated PgClient (see Database.ts).
 */
import { PgClient } from "@effect/sql-pg"
import * as Arr from "effect/Array"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as M from "../engine/protocol/AirbyteMessage.ts"
import { clean, type StateInput } from "../engine/replication/ConnectionState.ts"
import {
  ConnectionRecord,
  ConnectionStore,
  type StateCommit,
  StateHistoryEntry
} from "../scheduler/ConnectionStore.ts"
import type { ConnectionId } from "../scheduler/Ids.ts"
import { ConnectionNotFound } from "../scheduler/StoreErrors.ts"
import { orStoreError } from "./SqlFailure.ts"

const ConnectionRow = Schema.Struct({ name: Schema.String, spec: Schema.Unknown, created_at: Schema.Date, updated_at: Schema.Date })
const StateRow = Schema.Struct({ state_type: Schema.Literals(["STREAM", "GLOBAL", "LEGACY"]), state: Schema.Unknown })
const HistoryRow = Schema.Struct({
  kind: Schema.String,
  job_id: Schema.NullOr(Schema.BigInt),
  attempt_number: Schema.NullOr(Schema.Number),
  state: Schema.Unknown,
  at: Schema.Date
})
const decodeRecord = Schema.decodeUnknownEffect(ConnectionRecord)
const decodeHistory = Schema.decodeUnknownEffect(StateHistoryEntry)
const decodeState = Schema.decodeUnknownEffect(M.AirbyteStateMessage)
const decodeLegacy = Schema.decodeUnknownEffect(M.JsonObject)

const toRecord = (raw: unknown) =>
  Effect.flatMap(Schema.decodeUnknownEffect(ConnectionRow)(raw), (row) =>
    decodeRecord({ name: row.name, spec: row.spec, createdAt: row.created_at.getTime(), updatedAt: row.updated_at.getTime() }))

/** One row of connection_state to write. */
interface CurrentState {
  readonly stateType: "STREAM" | "GLOBAL" | "LEGACY"
  readonly streamName: string | null
  readonly streamNamespace: string | null
  readonly state: unknown
}

const isStateArray = (input: StateInput): input is ReadonlyArray<M.AirbyteStateMessage> => Array.isArray(input)

/**
 * What a commit does to the current state, by the engine's rules (ConnectionState.apply): STREAM
 * states upsert their stream and drop GLOBAL/LEGACY rows; a GLOBAL state or LEGACY blob replaces all.
 */
const planCommit = (input: ReadonlyArray<M.AirbyteStateMessage> | M.JsonObject) => {
  if (!isStateArray(input)) {
    return { replaceAll: true, rows: [{ stateType: "LEGACY", streamName: null, streamNamespace: null, state: input }] }
  }
  let replaceAll = false
  let single: CurrentState | undefined
  const streams = new Map<string, CurrentState>()
  for (const state of input.map(clean)) {
    const type = M.stateTypeOf(state)
    if (type === "STREAM" && state.stream !== undefined) {
      const { name, namespace } = state.stream.stream_descriptor
      single = undefined
      streams.set(`${namespace ?? ""}\u0000${name}`, { stateType: "STREAM", streamName: name, streamNamespace: namespace ?? null, state })
    } else if (type === "GLOBAL") {
      replaceAll = true
      streams.clear()
      single = { stateType: "GLOBAL", streamName: null, streamNamespace: null, state }
    } else if (state.data !== undefined && state.data !== null) {
      replaceAll = true
      streams.clear()
      single = { stateType: "LEGACY", streamName: null, streamNamespace: null, state: state.data }
    }
  }
  const rows: ReadonlyArray<CurrentState> = single === undefined ? [...streams.values()] : [single]
  return { replaceAll, rows }
}

export const make = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient

  /** Checks that the connection exists; `lock` also serializes writers of its state. */
  const requireConnection = (name: ConnectionId, lock: boolean) =>
    Effect.flatMap(
      lock
        ? sql`SELECT name FROM connections WHERE name = ${name} FOR UPDATE`
        : sql`SELECT name FROM connections WHERE name = ${name}`,
      (rows) => rows.length === 0 ? Effect.fail(new ConnectionNotFound({ connection: name })) : Effect.void
    )

  const upsert = Effect.fn("ConnectionStore.upsert")(function*(name: ConnectionId, spec: M.JsonObject) {
    const rows = yield* sql`INSERT INTO connections (name, spec) VALUES (${name}, ${sql.json(spec)})
      ON CONFLICT (name) DO UPDATE SET spec = EXCLUDED.spec, updated_at = now() RETURNING *`
    return yield* toRecord(rows[0])
  }, orStoreError("ConnectionStore.upsert"))

  const get = Effect.fn("ConnectionStore.get")(function*(name: ConnectionId) {
    const rows = yield* sql`SELECT * FROM connections WHERE name = ${name}`
    if (rows[0] === undefined) return yield* new ConnectionNotFound({ connection: name })
    return yield* toRecord(rows[0])
  }, orStoreError("ConnectionStore.get"))

  const list = Effect.flatMap(sql`SELECT * FROM connections ORDER BY name`, (rows) => Effect.forEach(rows, toRecord)).pipe(
    orStoreError("ConnectionStore.list"),
    Effect.withSpan("ConnectionStore.list")
  )

  const remove = Effect.fn("ConnectionStore.delete")(function*(name: ConnectionId) {
    const rows = yield* sql`DELETE FROM connections WHERE name = ${name} RETURNING name`
    if (rows.length === 0) return yield* new ConnectionNotFound({ connection: name })
  }, orStoreError("ConnectionStore.delete"))

  const getState = Effect.fn("ConnectionStore.getState")(function*(connection: ConnectionId) {
    yield* requireConnection(connection, false)
    const raw = yield* sql`SELECT state_type, state FROM connection_state WHERE connection = ${connection}
      ORDER BY stream_namespace NULLS FIRST, stream_name`
    const rows = yield* Effect.forEach(raw, (row) => Schema.decodeUnknownEffect(StateRow)(row))
    const global = rows.find((row) => row.state_type === "GLOBAL")
    if (global !== undefined) return [yield* decodeState(global.state)]
    const streams = rows.filter((row) => row.state_type === "STREAM")
    if (streams.length > 0) return yield* Effect.forEach(streams, (row) => decodeState(row.state))
    const legacy = rows.find((row) => row.state_type === "LEGACY")
    return legacy === undefined ? undefined : yield* decodeLegacy(legacy.state)
  }, orStoreError("ConnectionStore.getState"))

  const commitState = Effect.fn("ConnectionStore.commitState")(function*(connection: ConnectionId, commit: StateCommit) {
    const input = commit.state
    if (input === undefined) return yield* requireConnection(connection, false)
    const { replaceAll, rows } = planCommit(input)
    yield* sql.withTransaction(Effect.gen(function*() {
      yield* requireConnection(connection, true)
      yield* replaceAll
        ? sql`DELETE FROM connection_state WHERE connection = ${connection}`
        : sql`DELETE FROM connection_state WHERE connection = ${connection} AND state_type <> 'STREAM'`
      const values = rows.map((row) => ({
        connection,
        state_type: row.stateType,
        stream_name: row.streamName,
        stream_namespace: row.streamNamespace,
        state: sql.json(row.state),
        job_id: commit.jobId,
        attempt_number: commit.attemptNumber
      }))
      if (Arr.isArrayNonEmpty(values)) {
        yield* sql`INSERT INTO connection_state ${sql.insert(values)}
          ON CONFLICT (connection, state_type, (COALESCE(stream_name, '')), (COALESCE(stream_namespace, '')))
          DO UPDATE SET state = EXCLUDED.state, job_id = EXCLUDED.job_id, attempt_number = EXCLUDED.attempt_number,
            updated_at = now()`
      }
      const committed = isStateArray(input) ? input.map(clean) : input
      yield* sql`INSERT INTO state_history (connection, kind, job_id, attempt_number, state)
        VALUES (${connection}, 'commit', ${commit.jobId}, ${commit.attemptNumber}, ${sql.json(committed)})`
    }))
  }, orStoreError("ConnectionStore.commitState"))

  const resetState = Effect.fn("ConnectionStore.resetState")(function*(connection: ConnectionId) {
    yield* sql.withTransaction(Effect.gen(function*() {
      yield* requireConnection(connection, true)
      yield* sql`DELETE FROM connection_state WHERE connection = ${connection}`
      yield* sql`INSERT INTO state_history (connection, kind) VALUES (${connection}, 'reset')`
    }))
  }, orStoreError("ConnectionStore.resetState"))

  const stateHistory = Effect.fn("ConnectionStore.stateHistory")(function*(connection: ConnectionId, limit: number) {
    yield* requireConnection(connection, false)
    const count = Math.min(Math.max(Math.trunc(limit), 1), 1000)
    const raw = yield* sql`SELECT kind, job_id, attempt_number, state, at FROM state_history
      WHERE connection = ${connection} ORDER BY id DESC LIMIT ${count}`
    return yield* Effect.forEach(raw, (value) =>
      Effect.flatMap(Schema.decodeUnknownEffect(HistoryRow)(value), (row) =>
        decodeHistory({
          kind: row.kind,
          ...(row.job_id === null ? {} : { jobId: Number(row.job_id) }),
          ...(row.attempt_number === null ? {} : { attemptNumber: row.attempt_number }),
          ...(row.state === null ? {} : { state: row.state }),
          at: row.at.getTime()
        })))
  }, orStoreError("ConnectionStore.stateHistory"))

  return ConnectionStore.of({ upsert, get, list, delete: remove, getState, commitState, resetState, stateHistory })
})

/** ConnectionStore on the SQL database; needs a migrated PgClient (Database.layerPglite, layerPostgres…). */
export const layer = Layer.effect(ConnectionStore, make)
