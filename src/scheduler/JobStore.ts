/**
 * The storage port for jobs, attempts, their stats and logs. The scheduler calls it; `src/store/`
 * implements it. Every status change goes through `JobStatus.transition`. Declares no SQL.
 */
import * as Context from "effect/Context"
import * as Schema from "effect/Schema"
import type * as Effect from "effect/Effect"
import { JsonObject } from "../engine/protocol/AirbyteMessage.ts"
import type { Architecture } from "../engine/replication/Architecture.ts"
import type { AttemptFailureSummary } from "../engine/replication/FailureReason.ts"
import type { StreamSyncStats, SyncStats } from "../engine/replication/SyncStats.ts"
import { Attempt } from "./Attempt.ts"
import type { LogLine, LogPage } from "./AttemptLog.ts"
import type { AttemptNumber, JobId } from "./Ids.ts"
import { Job, JobConfigType } from "./Job.ts"
import type { IllegalJobTransition, JobStatus } from "./JobStatus.ts"
import type {
  ActiveJobExists,
  AttemptAlreadyRunning,
  AttemptNotFound,
  JobIsTerminal,
  JobNotFound,
  StoreError
} from "./StoreErrors.ts"

export const NewJob = Schema.Struct({
  configType: JobConfigType,
  scope: Schema.String,
  config: JsonObject,
  /** The server that runs the job's retry loop (see `Job.owner`). */
  owner: Schema.optionalKey(Schema.String)
})
export type NewJob = typeof NewJob.Type

/** A job with all its attempts (Airbyte's JobInfoRead), attempts in number order. */
export const JobInfo = Schema.Struct({ job: Job, attempts: Schema.Array(Attempt) })
export type JobInfo = typeof JobInfo.Type

export interface ListJobsQuery {
  /** Only jobs of this scope (connection). */
  readonly connection?: string
  /** Only jobs in one of these statuses. */
  readonly status?: ReadonlyArray<JobStatus>
  readonly configType?: JobConfigType
  /** At most this many jobs (1…1000). */
  readonly limit: number
  /** The `nextCursor` of the previous page. */
  readonly cursor?: JobId
}

export interface JobPage {
  /** Newest first. */
  readonly jobs: ReadonlyArray<Job>
  /** Pass as `cursor` for the next page; absent on the last page. */
  readonly nextCursor?: JobId
}

export class JobStore extends Context.Service<JobStore, {
  /**
   * Creates a job in `pending`. For `sync` jobs the database itself guarantees at most one
   * non-terminal sync job per scope: a second one fails with ActiveJobExists carrying the id of the
   * job that blocks it. Other config types are never blocked.
   */
  enqueueJob(job: NewJob): Effect.Effect<Job, ActiveJobExists | StoreError>

  /**
   * pending → queued (waiting for capacity); an incomplete job (waiting for its retry) goes through
   * pending. A terminal job is left alone and returned as is.
   */
  queueJob(jobId: JobId): Effect.Effect<Job, JobNotFound | IllegalJobTransition | StoreError>

  /**
   * In one transaction: rejects a terminal job (JobIsTerminal) or a job with a running attempt
   * (AttemptAlreadyRunning), moves the job to `running` and inserts a `running` attempt numbered
   * with the count of earlier attempts (0-based).
   */
  createAttempt(
    jobId: JobId
  ): Effect.Effect<Attempt, JobNotFound | JobIsTerminal | AttemptAlreadyRunning | IllegalJobTransition | StoreError>

  /**
   * Fails a running attempt with its summary (size-limited) and `ended_at`, and moves the job to
   * `incomplete` (it waits for a retry or `failJob`). An attempt that already ended is left alone;
   * so is a terminal job. Idempotent.
   */
  failAttempt(
    jobId: JobId,
    attemptNumber: AttemptNumber,
    summary: AttemptFailureSummary
  ): Effect.Effect<void, AttemptNotFound | IllegalJobTransition | StoreError>

  /** Marks a running attempt succeeded (with `ended_at`) and the job `succeeded`. Idempotent. */
  succeedAttempt(
    jobId: JobId,
    attemptNumber: AttemptNumber
  ): Effect.Effect<void, AttemptNotFound | IllegalJobTransition | StoreError>

  /** Ends the job `failed` (retries exhausted, or not retryable). A terminal job is left alone. */
  failJob(jobId: JobId): Effect.Effect<Job, JobNotFound | IllegalJobTransition | StoreError>

  /**
   * Ends the job `cancelled` and fails its running attempt, if any, with `summary` (see
   * `AttemptFailures.cancellation`). A terminal job is left alone. Never re-triggers anything.
   */
  cancelJob(jobId: JobId, summary: AttemptFailureSummary): Effect.Effect<Job, JobNotFound | StoreError>

  /**
   * Upserts the attempt's totals and per-stream stats (one row per stream and namespace). Called
   * while the attempt runs (progress) and at its end (final); the last write wins.
   */
  writeStats(
    jobId: JobId,
    attemptNumber: AttemptNumber,
    totals: SyncStats,
    perStream: ReadonlyArray<StreamSyncStats>
  ): Effect.Effect<void, AttemptNotFound | StoreError>

  /** Stores the attempt's final output JSON (replaces an earlier one). */
  writeOutput(
    jobId: JobId,
    attemptNumber: AttemptNumber,
    output: JsonObject
  ): Effect.Effect<void, AttemptNotFound | StoreError>

  /** Records the transport the attempt chose and why. */
  setTransport(
    jobId: JobId,
    attemptNumber: AttemptNumber,
    architecture: Architecture
  ): Effect.Effect<void, AttemptNotFound | StoreError>

  /** The job with its attempts, their stats, failure summaries and transports. */
  getJob(jobId: JobId): Effect.Effect<JobInfo, JobNotFound | StoreError>

  /** Jobs newest first, filtered, paged by cursor (stable under inserts). */
  listJobs(query: ListJobsQuery): Effect.Effect<JobPage, StoreError>

  /** Appends lines after the attempt's last line, in order, numbered from the current count. */
  appendLogs(
    jobId: JobId,
    attemptNumber: AttemptNumber,
    lines: ReadonlyArray<LogLine>
  ): Effect.Effect<void, AttemptNotFound | StoreError>

  /** Up to `limit` lines starting at line number `offset`. */
  readLogs(
    jobId: JobId,
    attemptNumber: AttemptNumber,
    offset: number,
    limit: number
  ): Effect.Effect<LogPage, AttemptNotFound | StoreError>

  /**
   * Non-terminal jobs whose owner looks dead: its latest dataplane heartbeat — or, when it never
   * logged one, the job's last update — is older than `now - staleAfterMs`. Jobs without an owner
   * are never listed. The takeover passes each to `adopt`.
   */
  orphans(now: number, staleAfterMs: number): Effect.Effect<ReadonlyArray<Job>, StoreError>

  /**
   * Moves the job to owner `to` if it is still owned by `from` and not terminal (a conditional
   * update: of several servers adopting at once, one wins). False when it lost or the job ended.
   */
  adopt(jobId: JobId, from: string, to: string): Effect.Effect<boolean, StoreError>

  /**
   * Clean-up at start, for jobs a stopped process left behind: every non-terminal job of the scope
   * ends `failed`; its running attempt fails with an `airbyte_platform` reason saying why
   * (`AttemptFailures.abandoned`). Returns the ids of the jobs it failed.
   */
  failNonTerminalJobs(connection: string): Effect.Effect<ReadonlyArray<JobId>, StoreError>
}>()("sluice/scheduler/JobStore") {}
