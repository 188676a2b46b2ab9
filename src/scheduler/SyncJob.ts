/**
 * Runs one sync job to its end: creates the job, runs attempts under the retry policy (discover,
 * configure the catalog, build the middleware, replicate), resumes each attempt from the last
 * committed state, and persists states, stats, logs, failures and retry counters through the ports.
 * Knows nothing of config files, SQL or terminals: callers pass resolved inputs and listen to events.
 */
import { Data, type Duration, Effect } from "effect"
import * as Runtime from "../engine/ConnectorRuntime.ts"
import type { LogEntry } from "../engine/ConnectorProcess.ts"
import type * as M from "../engine/protocol/AirbyteMessage.ts"
import type { TransportPreference } from "../engine/replication/Architecture.ts"
import * as FailureReason from "../engine/replication/FailureReason.ts"
import type { Middleware } from "../engine/replication/Middleware.ts"
import { type Endpoint, type Progress, replicate, type ReplicationResult } from "../engine/replication/Replication.ts"
import { emptyStats } from "../engine/replication/SyncStats.ts"
import * as AttemptFailures from "./AttemptFailures.ts"
import type { LogLine } from "./AttemptLog.ts"
import { ConnectionStore } from "./ConnectionStore.ts"
import type { AttemptNumber, ConnectionId, JobId } from "./Ids.ts"
import { type JobInfo, JobStore } from "./JobStore.ts"
import * as RetryManager from "./RetryManager.ts"
import type { RetryPolicy } from "./RetryPolicy.ts"
import { RetryStateStore } from "./RetryStateStore.ts"

/** Something that stops an attempt before replication starts (bad streams or mappers, failed discover). */
export class AttemptSetupFailed extends Data.TaggedError("AttemptSetupFailed")<{
  readonly reason: FailureReason.FailureReason
}> {}

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
  readonly stats: ReplicationResult["stats"]
  readonly architecture: ReplicationResult["architecture"] | undefined
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
}

const STATE_FLUSH_MS = 1000
const LOG_FLUSH_LINES = 500

const originOf = (entry: LogEntry): LogLine["origin"] => entry.origin

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

  const runAttempt = (attemptNumber: number) =>
    Effect.gen(function*() {
      const attempt = yield* jobs.createAttempt(job.id)
      const n: AttemptNumber = attempt.attemptNumber
      events.onAttemptStart?.(n)
      const logs: Array<LogLine> = []
      const flushLogs = Effect.suspend(() => {
        const lines = logs.splice(0)
        return lines.length === 0 ? Effect.void : jobs.appendLogs(job.id, n, lines).pipe(Effect.ignore)
      })
      const log = (entry: LogEntry) => {
        logs.push({ at: entry.timestamp, level: entry.level, origin: originOf(entry), message: entry.message })
        events.onLog?.(entry)
      }
      const platformLog = (level: LogLine["level"], message: string) => {
        logs.push({ at: Date.now(), level, origin: "platform", message })
      }

      const result = yield* Effect.gen(function*() {
        const state = yield* connections.getState(input.connection)
        const discovered = yield* Runtime.discover(
          { role: "source", connector: input.source.connector, jobId: String(job.id), attempt: attemptNumber, onLog: log },
          input.source.config
        ).pipe(Effect.mapError((failure) => new AttemptSetupFailed({ reason: FailureReason.fromConnectorFailure(failure, Date.now()) })))
        const catalog = yield* input.configureCatalog(discovered)
        const middlewares = yield* input.makeMiddlewares(catalog)
        platformLog("INFO", `attempt ${n}: ${catalog.streams.length} stream(s), ${state === undefined ? "no saved state" : "resuming from the saved state"}`)
        let pending: M.JsonObject | ReadonlyArray<M.AirbyteStateMessage> | undefined
        let lastFlush = 0
        const persistState = Effect.suspend(() => {
          if (pending === undefined) return Effect.void
          const toSave = pending
          pending = undefined
          lastFlush = Date.now()
          return connections.commitState(input.connection, { jobId: job.id, attemptNumber: n, state: toSave })
        })
        let lastStats = 0
        const replication = yield* replicate({
          source: input.source,
          destination: input.destination,
          catalog,
          ...(state === undefined ? {} : { state }),
          middlewares,
          transport: input.transport,
          jobId: String(job.id),
          attempt: attemptNumber,
          onLog: log,
          onProgress: (progress) => events.onProgress?.(progress),
          // The port: the state is saved at most once a second (the latest wins) and always at the end.
          onStateCommitted: (commit) =>
            Effect.gen(function*() {
              pending = commit.connectionState
              const now = Date.now()
              if (now - lastFlush >= STATE_FLUSH_MS) yield* persistState
              if (now - lastStats >= STATE_FLUSH_MS * 5) {
                lastStats = now
                yield* jobs.writeStats(job.id, n, commit.stats, commit.streamStats)
                yield* flushLogs
              } else if (logs.length >= LOG_FLUSH_LINES) yield* flushLogs
            })
        }, input.cpus)
        yield* persistState
        return replication
      }).pipe(
        Effect.catchTag("AttemptSetupFailed", (error) =>
          Effect.succeed<ReplicationResult | AttemptSetupFailed>(error)),
        Effect.onInterrupt(() =>
          Effect.gen(function*() {
            platformLog("WARN", `attempt ${n} cancelled`)
            yield* flushLogs
          })
        )
      )

      if (result instanceof AttemptSetupFailed) {
        platformLog("ERROR", result.reason.externalMessage ?? "attempt setup failed")
        yield* flushLogs
        const summary = AttemptFailures.limit({ failures: [result.reason], partialSuccess: false })
        yield* jobs.failAttempt(job.id, n, summary)
        events.onAttemptEnd?.(n, { status: "failed", failures: summary.failures, stats: emptyStats(), architecture: undefined })
        return RetryManager.failed(summary, false)
      }
      yield* jobs.setTransport(job.id, n, result.architecture)
      yield* jobs.writeStats(job.id, n, result.stats, result.streamStats)
      platformLog("INFO", `attempt ${n} ${result.status} over ${result.architecture.transport} (${result.architecture.reason})`)
      for (const failure of result.failures) platformLog("ERROR", `${failure.failureOrigin} ${failure.failureType}: ${failure.externalMessage ?? failure.internalMessage ?? ""}`)
      yield* flushLogs
      yield* jobs.writeOutput(job.id, n, { status: result.status, state: result.state ?? null })
      events.onAttemptEnd?.(n, { status: result.status, failures: result.failures, stats: result.stats, architecture: result.architecture })
      if (result.status === "completed") {
        yield* jobs.succeedAttempt(job.id, n)
        return RetryManager.succeeded(result)
      }
      if (result.status === "cancelled") return RetryManager.cancelled
      const summary = AttemptFailures.limit({ failures: result.failures, partialSuccess: result.partialSuccess })
      yield* jobs.failAttempt(job.id, n, summary)
      // Progress is judged from what was persisted for the attempt, as Airbyte does.
      const persisted = (yield* jobs.getJob(job.id)).attempts.find((a) => a.attemptNumber === n)
      return RetryManager.failed(summary, RetryManager.hasProgress(persisted?.totalStats))
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


