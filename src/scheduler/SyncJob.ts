/**
 * Runs one sync job to its end in this process (`sluice sync`): creates the job, runs attempts under
 * the retry policy — each one `SyncAttempt.runSyncAttempt` from the last committed state, its end
 * persisted by `AttemptEnd.record` — and persists states, stats, logs, failures and retry counters
 * through the ports. Knows nothing of config files, SQL or terminals: callers pass resolved inputs.
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { LogEntry } from "../engine/ConnectorProcess.ts"
import type * as M from "../engine/protocol/AirbyteMessage.ts"
import type { TransportPreference } from "../engine/replication/Architecture.ts"
import type * as FailureReason from "../engine/replication/FailureReason.ts"
import type { Middleware } from "../engine/replication/Middleware.ts"
import type { Endpoint, Progress, ReplicationLimits, ReplicationResult } from "../engine/replication/Replication.ts"
import * as AttemptEnd from "./AttemptEnd.ts"
import * as AttemptFailures from "./AttemptFailures.ts"
import { ConnectionStore } from "./ConnectionStore.ts"
import type { ConnectionId, JobId } from "./Ids.ts"
import { type JobInfo, JobStore } from "./JobStore.ts"
import * as RetryManager from "./RetryManager.ts"
import type { RetryPolicy } from "./RetryPolicy.ts"
import { RetryStateStore } from "./RetryStateStore.ts"
import { type AttemptSetupFailed, runSyncAttempt } from "./SyncAttempt.ts"

export { AttemptSetupFailed } from "./SyncAttempt.ts"

export interface SyncJobEvents {
  readonly onJobCreated?: (jobId: JobId) => void
  readonly onAttemptStart?: (attemptNumber: number) => void
  readonly onAttemptEnd?: (attemptNumber: number, result: AttemptReport) => void
  readonly onBackoff?: (wait: Duration.Duration, nextAttemptNumber: number) => void
  readonly onProgress?: (progress: Progress) => void
  readonly onLog?: (entry: LogEntry) => void
}

export interface AttemptReport {
  readonly status: ReplicationResult["status"]
  readonly failures: ReadonlyArray<FailureReason.FailureReason>
  readonly stats: ReplicationResult["stats"] | undefined
  readonly architecture: { readonly transport: string; readonly reason: string } | undefined
}

export interface SyncJobInput {
  readonly connection: ConnectionId
  /** The connection spec as it ran, secrets redacted: stored on the job and the connection. */
  readonly spec: M.JsonObject
  readonly source: Endpoint
  readonly destination: Endpoint
  /** The configured catalog for a discovered one (the connection's `streams`). */
  readonly configureCatalog: (discovered: M.AirbyteCatalog) => Effect.Effect<M.ConfiguredAirbyteCatalog, AttemptSetupFailed>
  /** The middleware chain for a configured catalog (the connection's `mappers`). */
  readonly makeMiddlewares: (catalog: M.ConfiguredAirbyteCatalog) => Effect.Effect<ReadonlyArray<Middleware>, AttemptSetupFailed>
  readonly transport: TransportPreference
  readonly policy: RetryPolicy
  /**
   * Fail jobs this connection left non-terminal (a crashed process). Only safe when this process owns
   * the store (the embedded database is locked to one process).
   */
  readonly failStaleJobs: boolean
  readonly events?: SyncJobEvents
  readonly cpus?: number
  /** Replication limits that differ from the engine's defaults. */
  readonly limits?: Partial<ReplicationLimits>
}

const reportOf = (end: AttemptEnd.AttemptEnd): AttemptReport =>
  end._tag === "Replicated"
    ? { status: end.status, failures: end.failures, stats: end.stats, architecture: end.transport }
    : { status: "failed", failures: AttemptEnd.failuresOf(end), stats: undefined, architecture: undefined }

/** Runs the job; returns its final JobInfo. Interrupting it cancels the job (manual_cancellation). */
export const runSyncJob = Effect.fn("SyncJob.run")(function*(input: SyncJobInput) {
  const jobs = yield* JobStore
  const connections = yield* ConnectionStore
  const retryStates = yield* RetryStateStore
  const events = input.events ?? {}

  yield* connections.upsert(input.connection, input.spec)
  if (input.failStaleJobs) yield* jobs.failNonTerminalJobs(input.connection)
  const job = yield* jobs.enqueueJob({ configType: "sync", scope: input.connection, config: input.spec })
  events.onJobCreated?.(job.id)

  const runAttempt = () =>
    Effect.gen(function*() {
      const attempt = yield* jobs.createAttempt(job.id)
      const n = attempt.attemptNumber
      events.onAttemptStart?.(n)
      const state = yield* connections.getState(input.connection)
      const end = yield* runSyncAttempt({
        jobId: job.id,
        attemptNumber: n,
        source: input.source,
        destination: input.destination,
        state,
        configureCatalog: input.configureCatalog,
        makeMiddlewares: input.makeMiddlewares,
        transport: input.transport,
        cpus: input.cpus,
        limits: input.limits,
        onLog: events.onLog,
        onProgress: events.onProgress
      }, {
        commitState: (toSave) => connections.commitState(input.connection, { jobId: job.id, attemptNumber: n, state: toSave }),
        writeStats: (totals, perStream) => jobs.writeStats(job.id, n, totals, perStream),
        appendLogs: (lines) => jobs.appendLogs(job.id, n, lines).pipe(Effect.ignore)
      })
      events.onAttemptEnd?.(n, reportOf(end))
      return yield* AttemptEnd.record(job.id, n, end)
    })

  const outcome = yield* RetryManager.runWithRetries({
    policy: input.policy,
    connectionName: input.connection,
    runAttempt,
    onDecision: (decision) => retryStates.put(job.id, decision.state),
    onBackoff: (wait, next) => Effect.sync(() => events.onBackoff?.(wait, next))
  }).pipe(
    Effect.onInterrupt(() => jobs.cancelJob(job.id, AttemptFailures.cancellation(Date.now())).pipe(Effect.ignore))
  )
  if (outcome._tag === "Failed") yield* jobs.failJob(job.id)
  if (outcome._tag === "Cancelled") yield* jobs.cancelJob(job.id, AttemptFailures.cancellation(Date.now()))
  const info: JobInfo = yield* jobs.getJob(job.id)
  return { info, outcome }
})
