/**
 * The storage port for connections (their redacted specs) and their replication state: the latest
 * STREAM/GLOBAL/LEGACY state handed to the next read, plus the history of which attempt committed
 * what. The scheduler calls it; `src/store/` implements it. Declares no SQL.
 */
import * as Context from "effect/Context"
import * as Schema from "effect/Schema"
import type * as Effect from "effect/Effect"
import * as M from "../engine/protocol/AirbyteMessage.ts"
import type { StateInput } from "../engine/replication/ConnectionState.ts"
import { AttemptNumber, ConnectionId, JobId } from "./Ids.ts"
import { EpochMs } from "./Job.ts"
import type { ConnectionNotFound, StoreError } from "./StoreErrors.ts"

export const ConnectionRecord = Schema.Struct({
  name: ConnectionId,
  /** The decoded connection spec with secrets redacted by the caller. */
  spec: M.JsonObject,
  createdAt: EpochMs,
  updatedAt: EpochMs
})
export type ConnectionRecord = typeof ConnectionRecord.Type

/** A defined StateInput as JSON: STREAM/GLOBAL states, or a LEGACY blob. */
export const StoredState = Schema.Union([Schema.Array(M.AirbyteStateMessage), M.JsonObject])

export interface StateCommit {
  readonly jobId: JobId
  readonly attemptNumber: AttemptNumber
  /** What the destination acknowledged: STREAM or GLOBAL states (in order), or a LEGACY blob. */
  readonly state: StateInput
}

export const StateHistoryEntry = Schema.Struct({
  kind: Schema.Literals(["commit", "reset"]),
  jobId: Schema.optionalKey(JobId),
  attemptNumber: Schema.optionalKey(AttemptNumber),
  /** What was committed, as given (absent for a reset). */
  state: Schema.optionalKey(StoredState),
  at: EpochMs
})
export type StateHistoryEntry = typeof StateHistoryEntry.Type

export class ConnectionStore extends Context.Service<ConnectionStore, {
  /** Creates the connection or replaces its spec. Its state is kept. */
  upsert(name: ConnectionId, spec: M.JsonObject): Effect.Effect<ConnectionRecord, StoreError>

  get(name: ConnectionId): Effect.Effect<ConnectionRecord, ConnectionNotFound | StoreError>

  /** All connections by name. */
  readonly list: Effect.Effect<ReadonlyArray<ConnectionRecord>, StoreError>

  /** Deletes the connection with its state and state history; its jobs stay as history. */
  delete(name: ConnectionId): Effect.Effect<void, ConnectionNotFound | StoreError>

  /**
   * The state to pass to the next `read`: the GLOBAL state, else the STREAM states (one per stream,
   * ordered by namespace and name), else the LEGACY blob, else undefined (start from scratch).
   */
  getState(connection: ConnectionId): Effect.Effect<StateInput, ConnectionNotFound | StoreError>

  /**
   * Saves states the destination acknowledged, in one transaction, with Airbyte's merge rules: a
   * STREAM state replaces that stream's state and drops any GLOBAL or LEGACY one; a GLOBAL state or
   * a LEGACY blob replaces everything. Engine fields (`id`, `partition_id`, stats) are dropped. Adds
   * a history row naming the job and attempt. Undefined commits nothing. Only after the destination
   * acknowledged: a failed attempt resumes from here.
   */
  commitState(connection: ConnectionId, commit: StateCommit): Effect.Effect<void, ConnectionNotFound | StoreError>

  /** Forgets the current state (the next read starts from scratch) and records the reset in history. */
  resetState(connection: ConnectionId): Effect.Effect<void, ConnectionNotFound | StoreError>

  /** The newest `limit` history entries, newest first. */
  stateHistory(
    connection: ConnectionId,
    limit: number
  ): Effect.Effect<ReadonlyArray<StateHistoryEntry>, ConnectionNotFound | StoreError>
}>()("sluice/scheduler/ConnectionStore") {}
