/**
 * Rows of jobs, attempts and stats tables as sql-pg returns them (int8 as bigint, timestamptz as
 * Date, jsonb parsed, snake_case) and their decoding into the scheduler's models (camelCase, epoch
 * milliseconds, branded ids). Store-internal.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { StreamSyncStats, SyncStats } from "../engine/replication/SyncStats.ts"
import { Attempt } from "../scheduler/Attempt.ts"
import { Job } from "../scheduler/Job.ts"
import * as StatsColumns from "./StatsColumns.ts"

const Int8 = Schema.BigInt
const Timestamp = Schema.Date
const NullableTimestamp = Schema.NullOr(Schema.Date)

export const JobRow = Schema.Struct({
  id: Int8,
  config_type: Schema.String,
  scope: Schema.String,
  status: Schema.String,
  config: Schema.Unknown,
  owner: Schema.NullOr(Schema.String),
  created_at: Timestamp,
  updated_at: Timestamp
})
export type JobRow = typeof JobRow.Type

export const AttemptRow = Schema.Struct({
  id: Int8,
  job_id: Int8,
  attempt_number: Schema.Number,
  status: Schema.String,
  output: Schema.Unknown,
  failure_summary: Schema.Unknown,
  transport: Schema.Unknown,
  log_line_count: Schema.Number,
  created_at: Timestamp,
  updated_at: Timestamp,
  ended_at: NullableTimestamp
})
export type AttemptRow = typeof AttemptRow.Type

/** A stats row: the attempt it belongs to plus the stats columns, read generically. */
const StatsRow = Schema.Struct({ attempt_id: Int8 })
const StreamStatsRow = Schema.Struct({
  attempt_id: Int8,
  stream_name: Schema.String,
  stream_namespace: Schema.NullOr(Schema.String),
  was_resumed: Schema.Boolean
})

const decodeJobRow = Schema.decodeUnknownEffect(JobRow)
const decodeAttemptRow = Schema.decodeUnknownEffect(AttemptRow)
const decodeJob = Schema.decodeUnknownEffect(Job)
const decodeAttempt = Schema.decodeUnknownEffect(Attempt)

/** Rows that only carry ids (RETURNING id, lookups). */
export const IdRow = Schema.Struct({ id: Int8 })
export const AttemptNumberRow = Schema.Struct({ attempt_number: Schema.Number })
const decodeIds = Schema.decodeUnknownEffect(Schema.Array(IdRow))

/** The `id` column of each row, as numbers. */
export const idsOf = (rows: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<number>, Schema.SchemaError> =>
  Effect.map(decodeIds(rows), (decoded) => decoded.map((row) => Number(row.id)))

export const toJob = (raw: unknown): Effect.Effect<Job, Schema.SchemaError> =>
  Effect.flatMap(decodeJobRow(raw), (row) =>
    decodeJob({
      id: Number(row.id),
      configType: row.config_type,
      scope: row.scope,
      status: row.status,
      config: row.config,
      ...(row.owner === null ? {} : { owner: row.owner }),
      createdAt: row.created_at.getTime(),
      updatedAt: row.updated_at.getTime()
    }))

export const toJobs = (rows: ReadonlyArray<unknown>) => Effect.forEach(rows, toJob)

/** An attempt without its stats (`getJob` adds them from sync_stats and stream_stats). */
export const toAttempt = (raw: unknown): Effect.Effect<Attempt, Schema.SchemaError> =>
  Effect.flatMap(decodeAttemptRow(raw), (row) =>
    decodeAttempt({
      id: Number(row.id),
      jobId: Number(row.job_id),
      attemptNumber: row.attempt_number,
      status: row.status,
      createdAt: row.created_at.getTime(),
      updatedAt: row.updated_at.getTime(),
      ...(row.ended_at === null ? {} : { endedAt: row.ended_at.getTime() }),
      ...(row.output === null ? {} : { output: row.output }),
      ...(row.failure_summary === null ? {} : { failureSummary: row.failure_summary }),
      ...(row.transport === null ? {} : { transport: row.transport }),
      streamStats: [],
      logLineCount: row.log_line_count
    }))

/** Totals per attempt id from sync_stats rows. */
export const totalsByAttempt = (rows: ReadonlyArray<Readonly<Record<string, unknown>>>) =>
  Effect.forEach(rows, (row) =>
    Effect.all([Schema.decodeUnknownEffect(StatsRow)(row), StatsColumns.fromRow(row)]).pipe(
      Effect.map(([key, stats]) => [Number(key.attempt_id), stats] as const)
    )).pipe(Effect.map((pairs) => new Map<number, SyncStats>(pairs)))

/** Per-stream stats per attempt id from stream_stats rows, in row order. */
export const streamsByAttempt = (rows: ReadonlyArray<Readonly<Record<string, unknown>>>) =>
  Effect.forEach(rows, (row) =>
    Effect.all([Schema.decodeUnknownEffect(StreamStatsRow)(row), StatsColumns.fromRow(row)]).pipe(
      Effect.map(([key, stats]) => {
        const stream: StreamSyncStats = {
          streamName: key.stream_name,
          ...(key.stream_namespace === null ? {} : { streamNamespace: key.stream_namespace }),
          stats,
          wasResumed: key.was_resumed
        }
        return [Number(key.attempt_id), stream] as const
      })
    )).pipe(Effect.map((pairs) => {
      const byAttempt = new Map<number, Array<StreamSyncStats>>()
      for (const [attemptId, stream] of pairs) byAttempt.set(attemptId, [...(byAttempt.get(attemptId) ?? []), stream])
      return byAttempt
    }))
