/**
 * JobStore on PostgreSQL/PGlite through @effect/sql-pg: jobs and attempts with their state machine
 * (conditional updates decided by `JobStatus.transition`), stats, output, transport and logs. The
 * only place that writes SQL for jobs. Needs a migrated PgClient (see Database.ts).
 */
import { PgClient } from "@effect/sql-pg"
import * as Arr from "effect/Array"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type { JsonObject } from "../engine/protocol/AirbyteMessage.ts"
import type { Architecture } from "../engine/replication/Architecture.ts"
import type { AttemptFailureSummary } from "../engine/replication/FailureReason.ts"
import type { StreamSyncStats, SyncStats } from "../engine/replication/SyncStats.ts"
import type { Attempt } from "../scheduler/Attempt.ts"
import * as AttemptFailures from "../scheduler/AttemptFailures.ts"
import { AttemptNumber, JobId } from "../scheduler/Ids.ts"
import type { Job } from "../scheduler/Job.ts"
import { JobStore, type ListJobsQuery, type NewJob } from "../scheduler/JobStore.ts"
import * as JobStatus from "../scheduler/JobStatus.ts"
import {
  ActiveJobExists,
  AttemptAlreadyRunning,
  AttemptNotFound,
  JobIsTerminal,
  JobNotFound
} from "../scheduler/StoreErrors.ts"
import * as AttemptLogsSql from "./AttemptLogsSql.ts"
import * as JobRows from "./JobRows.ts"
import { orStoreError, uniqueViolation } from "./SqlFailure.ts"
import * as StatsColumns from "./StatsColumns.ts"

const ONE_ACTIVE_SYNC_INDEX = "jobs_one_active_sync_per_scope"
/** A status change lost a race this many times in a row: something rewrites the job in a loop. */
const MAX_STATUS_RACES = 5
const MAX_PAGE = 1000

const streamKey = (stream: StreamSyncStats) => `${stream.streamNamespace ?? ""}\u0000${stream.streamName}`

export const make = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient

  const findJob = (jobId: JobId) =>
    Effect.flatMap(
      sql`SELECT * FROM jobs WHERE id = ${jobId}`,
      (rows): Effect.Effect<Job, JobNotFound | Schema.SchemaError> =>
        rows[0] === undefined ? Effect.fail(new JobNotFound({ jobId })) : JobRows.toJob(rows[0])
    )

  /** The attempt's row id, or AttemptNotFound. */
  const attemptIdOf = (jobId: JobId, attemptNumber: AttemptNumber) =>
    Effect.flatMap(
      Effect.flatMap(sql`SELECT id FROM attempts WHERE job_id = ${jobId} AND attempt_number = ${attemptNumber}`, JobRows.idsOf),
      (ids) => ids[0] === undefined ? Effect.fail(new AttemptNotFound({ jobId, attemptNumber })) : Effect.succeed(ids[0])
    )

  /**
   * Moves the job to `to` with a conditional UPDATE. When no row changed, the transition function
   * decides on the current status: terminal → left alone, illegal → IllegalJobTransition, allowed →
   * the status moved meanwhile, so try again.
   */
  const setStatus = (jobId: JobId, to: JobStatus.JobStatus) =>
    Effect.gen(function*() {
      for (let race = 0; race < MAX_STATUS_RACES; race++) {
        const updated = yield* sql`UPDATE jobs SET status = ${to}, updated_at = now()
          WHERE id = ${jobId} AND status IN ${sql.in(JobStatus.sourcesOf(to))} RETURNING *`
        if (updated[0] !== undefined) return { job: yield* JobRows.toJob(updated[0]), changed: true }
        const current = yield* findJob(jobId)
        const outcome = yield* Effect.fromResult(JobStatus.transition(current.status, to, jobId))
        if (outcome === "unchanged") return { job: current, changed: false }
      }
      return yield* Effect.die(new Error(`job ${jobId}: the change to ${to} lost ${MAX_STATUS_RACES} races in a row`))
    })

  /** Ends a running attempt; false when it had already ended (it is left alone). */
  const endAttempt = (
    jobId: JobId,
    attemptNumber: AttemptNumber,
    status: "failed" | "succeeded",
    summary: AttemptFailureSummary | undefined
  ) =>
    Effect.gen(function*() {
      const failureSummary = summary === undefined ? null : sql.json(AttemptFailures.limit(summary))
      const ended = yield* sql`UPDATE attempts
        SET status = ${status}, failure_summary = ${failureSummary}, ended_at = now(), updated_at = now()
        WHERE job_id = ${jobId} AND attempt_number = ${attemptNumber} AND status = 'running' RETURNING id`
      if (ended.length > 0) return true
      yield* attemptIdOf(jobId, attemptNumber)
      return false
    })

  const updateAttempt = (jobId: JobId, attemptNumber: AttemptNumber, column: "output" | "transport", value: unknown) =>
    Effect.flatMap(
      sql`UPDATE attempts SET ${sql(column)} = ${sql.json(value)}, updated_at = now()
        WHERE job_id = ${jobId} AND attempt_number = ${attemptNumber} RETURNING id`,
      (rows) => rows.length === 0 ? Effect.fail(new AttemptNotFound({ jobId, attemptNumber })) : Effect.void
    )

  const activeSyncOf = (scope: string) =>
    Effect.flatMap(
      sql`SELECT id FROM jobs WHERE scope = ${scope} AND config_type = 'sync'
        AND status IN ${sql.in(JobStatus.nonTerminalJobStatuses)}`,
      JobRows.idsOf
    )

  const enqueueJob = Effect.fn("JobStore.enqueueJob")(function*(job: NewJob) {
    for (let race = 0; race < MAX_STATUS_RACES; race++) {
      const inserted = yield* sql`INSERT INTO jobs (config_type, scope, status, config, owner)
        VALUES (${job.configType}, ${job.scope}, 'pending', ${sql.json(job.config)}, ${job.owner ?? null}) RETURNING *`.pipe(
        Effect.catchIf((error) => uniqueViolation(error) === ONE_ACTIVE_SYNC_INDEX, () => Effect.succeed(undefined))
      )
      if (inserted?.[0] !== undefined) return yield* JobRows.toJob(inserted[0])
      const active = yield* activeSyncOf(job.scope)
      if (active[0] !== undefined) {
        return yield* new ActiveJobExists({ connection: job.scope, existingJobId: JobId.make(active[0]) })
      }
    }
    return yield* Effect.die(new Error(`enqueue for ${job.scope} lost ${MAX_STATUS_RACES} races in a row`))
  }, orStoreError("JobStore.enqueueJob"))

  const queueJob = Effect.fn("JobStore.queueJob")(function*(jobId: JobId) {
    // A retry waits for capacity again: incomplete → pending → queued (the table has no shortcut).
    if ((yield* findJob(jobId)).status === "incomplete") yield* setStatus(jobId, "pending")
    return (yield* setStatus(jobId, "queued")).job
  }, orStoreError("JobStore.queueJob"))

  const createAttempt = Effect.fn("JobStore.createAttempt")(function*(jobId: JobId) {
    return yield* sql.withTransaction(Effect.gen(function*() {
      const locked = yield* sql`SELECT * FROM jobs WHERE id = ${jobId} FOR UPDATE`
      if (locked[0] === undefined) return yield* new JobNotFound({ jobId })
      const job = yield* JobRows.toJob(locked[0])
      if (JobStatus.isTerminal(job.status)) return yield* new JobIsTerminal({ jobId, status: job.status })
      const running = yield* Effect.flatMap(
        sql`SELECT attempt_number FROM attempts WHERE job_id = ${jobId} AND status = 'running'`,
        Schema.decodeUnknownEffect(Schema.Array(JobRows.AttemptNumberRow))
      )
      if (running[0] !== undefined) {
        return yield* new AttemptAlreadyRunning({ jobId, attemptNumber: AttemptNumber.make(running[0].attempt_number) })
      }
      yield* setStatus(jobId, "running")
      const inserted = yield* sql`INSERT INTO attempts (job_id, attempt_number, status)
        SELECT ${jobId}, count(*), 'running' FROM attempts WHERE job_id = ${jobId} RETURNING *`
      return yield* JobRows.toAttempt(inserted[0])
    }))
  }, orStoreError("JobStore.createAttempt"))

  const failAttempt = Effect.fn("JobStore.failAttempt")(
    function*(jobId: JobId, attemptNumber: AttemptNumber, summary: AttemptFailureSummary) {
      yield* sql.withTransaction(Effect.gen(function*() {
        if (yield* endAttempt(jobId, attemptNumber, "failed", summary)) yield* setStatus(jobId, "incomplete")
      }))
    },
    Effect.catchTag("JobNotFound", Effect.die),
    orStoreError("JobStore.failAttempt")
  )

  const succeedAttempt = Effect.fn("JobStore.succeedAttempt")(
    function*(jobId: JobId, attemptNumber: AttemptNumber) {
      yield* sql.withTransaction(Effect.gen(function*() {
        if (yield* endAttempt(jobId, attemptNumber, "succeeded", undefined)) yield* setStatus(jobId, "succeeded")
      }))
    },
    Effect.catchTag("JobNotFound", Effect.die),
    orStoreError("JobStore.succeedAttempt")
  )

  const failJob = Effect.fn("JobStore.failJob")(function*(jobId: JobId) {
    return (yield* setStatus(jobId, "failed")).job
  }, orStoreError("JobStore.failJob"))

  const cancelJob = Effect.fn("JobStore.cancelJob")(
    function*(jobId: JobId, summary: AttemptFailureSummary) {
      return yield* sql.withTransaction(Effect.gen(function*() {
        const { job, changed } = yield* setStatus(jobId, "cancelled")
        if (changed) {
          yield* sql`UPDATE attempts SET status = 'failed', failure_summary = ${sql.json(AttemptFailures.limit(summary))},
            ended_at = now(), updated_at = now() WHERE job_id = ${jobId} AND status = 'running'`
        }
        return job
      }))
    },
    Effect.catchTag("IllegalJobTransition", Effect.die),
    orStoreError("JobStore.cancelJob")
  )

  const writeStats = Effect.fn("JobStore.writeStats")(
    function*(jobId: JobId, attemptNumber: AttemptNumber, totals: SyncStats, perStream: ReadonlyArray<StreamSyncStats>) {
      yield* sql.withTransaction(Effect.gen(function*() {
        const attemptId = yield* attemptIdOf(jobId, attemptNumber)
        yield* sql`INSERT INTO sync_stats ${sql.insert({ attempt_id: attemptId, ...StatsColumns.toColumns(totals) })}
          ON CONFLICT (attempt_id) DO UPDATE SET ${StatsColumns.updateFromExcluded(sql)}`
        const latest = [...new Map(perStream.map((stream) => [streamKey(stream), stream])).values()]
        const rows = latest.map((stream) => ({
          attempt_id: attemptId,
          stream_name: stream.streamName,
          stream_namespace: stream.streamNamespace ?? null,
          was_resumed: stream.wasResumed,
          ...StatsColumns.toColumns(stream.stats)
        }))
        if (Arr.isArrayNonEmpty(rows)) {
          yield* sql`INSERT INTO stream_stats ${sql.insert(rows)}
            ON CONFLICT (attempt_id, stream_name, (COALESCE(stream_namespace, '')))
            DO UPDATE SET ${StatsColumns.updateFromExcluded(sql, ["was_resumed"])}`
        }
      }))
    },
    orStoreError("JobStore.writeStats")
  )

  const writeOutput = Effect.fn("JobStore.writeOutput")(
    function*(jobId: JobId, attemptNumber: AttemptNumber, output: JsonObject) {
      yield* updateAttempt(jobId, attemptNumber, "output", output)
    },
    orStoreError("JobStore.writeOutput")
  )

  const setTransport = Effect.fn("JobStore.setTransport")(
    function*(jobId: JobId, attemptNumber: AttemptNumber, architecture: Architecture) {
      yield* updateAttempt(jobId, attemptNumber, "transport", architecture)
    },
    orStoreError("JobStore.setTransport")
  )

  const getJob = Effect.fn("JobStore.getJob")(function*(jobId: JobId) {
    const job = yield* findJob(jobId)
    const rows = yield* sql`SELECT * FROM attempts WHERE job_id = ${jobId} ORDER BY attempt_number`
    const attempts = yield* Effect.forEach(rows, JobRows.toAttempt)
    if (attempts.length === 0) return { job, attempts }
    const ids = attempts.map((attempt) => attempt.id)
    const totals = yield* Effect.flatMap(
      sql`SELECT * FROM sync_stats WHERE attempt_id IN ${sql.in(ids)}`,
      JobRows.totalsByAttempt
    )
    const streams = yield* Effect.flatMap(
      sql`SELECT * FROM stream_stats WHERE attempt_id IN ${sql.in(ids)}
        ORDER BY attempt_id, stream_namespace NULLS FIRST, stream_name`,
      JobRows.streamsByAttempt
    )
    return {
      job,
      attempts: attempts.map((attempt): Attempt => {
        const total = totals.get(attempt.id)
        return { ...attempt, ...(total === undefined ? {} : { totalStats: total }), streamStats: streams.get(attempt.id) ?? [] }
      })
    }
  }, orStoreError("JobStore.getJob"))

  const listJobs = Effect.fn("JobStore.listJobs")(function*(query: ListJobsQuery) {
    if (query.status !== undefined && query.status.length === 0) return { jobs: [] }
    const limit = Math.min(Math.max(Math.trunc(query.limit), 1), MAX_PAGE)
    const clauses = [
      ...(query.connection === undefined ? [] : [sql`scope = ${query.connection}`]),
      ...(query.status === undefined ? [] : [sql`status IN ${sql.in(query.status)}`]),
      ...(query.configType === undefined ? [] : [sql`config_type = ${query.configType}`]),
      ...(query.cursor === undefined ? [] : [sql`id < ${query.cursor}`])
    ]
    const rows = yield* sql`SELECT * FROM jobs WHERE ${sql.and(clauses)} ORDER BY id DESC LIMIT ${limit + 1}`
    const jobs: ReadonlyArray<Job> = yield* JobRows.toJobs(rows.slice(0, limit))
    const last = jobs[jobs.length - 1]
    return rows.length > limit && last !== undefined ? { jobs, nextCursor: last.id } : { jobs }
  }, orStoreError("JobStore.listJobs"))

  const orphans = Effect.fn("JobStore.orphans")(function*(now: number, staleAfterMs: number) {
    const staleBefore = new Date(now - staleAfterMs)
    const rows = yield* sql`SELECT * FROM jobs AS j
      WHERE j.owner IS NOT NULL AND j.status IN ${sql.in(JobStatus.nonTerminalJobStatuses)}
        AND COALESCE(
          (SELECT max(h.created_at) FROM dataplane_heartbeat_log AS h WHERE h.dataplane_id = j.owner),
          j.updated_at
        ) < ${staleBefore}
      ORDER BY j.id`
    return yield* JobRows.toJobs(rows)
  }, orStoreError("JobStore.orphans"))

  const adopt = Effect.fn("JobStore.adopt")(function*(jobId: JobId, from: string, to: string) {
    const rows = yield* sql`UPDATE jobs SET owner = ${to}, updated_at = now()
      WHERE id = ${jobId} AND owner = ${from} AND status IN ${sql.in(JobStatus.nonTerminalJobStatuses)} RETURNING id`
    return rows.length > 0
  }, orStoreError("JobStore.adopt"))

  const failNonTerminalJobs = Effect.fn("JobStore.failNonTerminalJobs")(function*(connection: string) {
    const summary = AttemptFailures.abandoned(yield* Clock.currentTimeMillis)
    const failable = JobStatus.sourcesOf("failed").filter((status) => !JobStatus.isTerminal(status))
    return yield* sql.withTransaction(Effect.gen(function*() {
      const ids = yield* Effect.flatMap(
        sql`UPDATE jobs SET status = 'failed', updated_at = now()
          WHERE scope = ${connection} AND status IN ${sql.in(failable)} RETURNING id`,
        JobRows.idsOf
      )
      if (ids.length > 0) {
        yield* sql`UPDATE attempts SET status = 'failed', failure_summary = ${sql.json(summary)},
          ended_at = now(), updated_at = now() WHERE job_id IN ${sql.in(ids)} AND status = 'running'`
      }
      return ids.map((id) => JobId.make(id)).sort((a, b) => a - b)
    }))
  }, orStoreError("JobStore.failNonTerminalJobs"))

  const logs = AttemptLogsSql.make(sql, attemptIdOf)

  return JobStore.of({
    enqueueJob,
    queueJob,
    createAttempt,
    failAttempt,
    succeedAttempt,
    failJob,
    cancelJob,
    writeStats,
    writeOutput,
    setTransport,
    getJob,
    listJobs,
    appendLogs: logs.appendLogs,
    readLogs: logs.readLogs,
    orphans,
    adopt,
    failNonTerminalJobs
  })
})

/** JobStore on the SQL database; needs a migrated PgClient (Database.layerPglite, layerPostgres…). */
export const layer = Layer.effect(JobStore, make)
