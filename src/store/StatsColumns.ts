/**
 * SyncStats ↔ the stats columns of sync_stats and stream_stats: counts as bigint, seconds as double
 * precision, phase times as timestamptz. Exhaustive by type over SyncStats. Store-internal.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { Statement } from "effect/sql"
import type { SqlClient } from "effect/sql"
import { SyncStats } from "../engine/replication/SyncStats.ts"

type Kind = "count" | "seconds" | "time"

const columns: { readonly [K in keyof SyncStats]-?: readonly [column: string, kind: Kind] } = {
  recordsEmitted: ["records_emitted", "count"],
  bytesEmitted: ["bytes_emitted", "count"],
  recordsCommitted: ["records_committed", "count"],
  bytesCommitted: ["bytes_committed", "count"],
  recordsRejected: ["records_rejected", "count"],
  recordsFilteredOut: ["records_filtered_out", "count"],
  bytesFilteredOut: ["bytes_filtered_out", "count"],
  sourceStateMessagesEmitted: ["source_state_messages_emitted", "count"],
  destinationStateMessagesEmitted: ["destination_state_messages_emitted", "count"],
  estimatedRecords: ["estimated_records", "count"],
  estimatedBytes: ["estimated_bytes", "count"],
  meanSecondsBetweenStateMessageEmittedandCommitted: ["mean_seconds_between_state_message_emitted_and_committed", "seconds"],
  maxSecondsBetweenStateMessageEmittedandCommitted: ["max_seconds_between_state_message_emitted_and_committed", "seconds"],
  meanSecondsBeforeSourceStateMessageEmitted: ["mean_seconds_before_source_state_message_emitted", "seconds"],
  maxSecondsBeforeSourceStateMessageEmitted: ["max_seconds_before_source_state_message_emitted", "seconds"],
  replicationStartTime: ["replication_start_time", "time"],
  replicationEndTime: ["replication_end_time", "time"],
  sourceReadStartTime: ["source_read_start_time", "time"],
  sourceReadEndTime: ["source_read_end_time", "time"],
  destinationWriteStartTime: ["destination_write_start_time", "time"],
  destinationWriteEndTime: ["destination_write_end_time", "time"]
}

const entries = Object.entries(columns) as ReadonlyArray<[keyof SyncStats, readonly [string, Kind]]>

export const columnNames: ReadonlyArray<string> = entries.map(([, [column]]) => column)

/** The column values of `stats`; an absent optional field is NULL, counts are whole numbers. */
export const toColumns = (stats: SyncStats): Record<string, number | Date | null> => {
  const row: Record<string, number | Date | null> = {}
  for (const [key, [column, kind]] of entries) {
    const value = stats[key]
    row[column] = value === undefined ? null : kind === "count" ? Math.round(value) : kind === "time" ? new Date(value) : value
  }
  return row
}

const toNumber = (value: unknown): unknown =>
  typeof value === "bigint" ? Number(value) : value instanceof Date ? value.getTime() : value

/** Decodes the stats columns of a row (NULL → absent). */
export const fromRow = (row: Readonly<Record<string, unknown>>): Effect.Effect<SyncStats, Schema.SchemaError> => {
  const stats: Record<string, unknown> = {}
  for (const [key, [column]] of entries) {
    const value = row[column]
    if (value !== null && value !== undefined) stats[key] = toNumber(value)
  }
  return Schema.decodeUnknownEffect(SyncStats)(stats)
}

/** `col = EXCLUDED.col, …, updated_at = now()` for an upsert of every stats column (and `extra`). */
export const updateFromExcluded = (sql: SqlClient.SqlClient, extra: ReadonlyArray<string> = []): Statement.Fragment =>
  sql.csv([
    ...[...columnNames, ...extra].map((column) => sql`${sql(column)} = EXCLUDED.${sql(column)}`),
    sql`updated_at = now()`
  ])
