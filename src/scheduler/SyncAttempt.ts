/**
 * ONE sync attempt, wherever it runs (in process for `sluice sync`, in a `sluice worker` for
 * `sluice serve`): discover, configure the catalog, build the middleware, replicate from the given
 * state, and hand committed states, progress stats and log lines to the caller's sink. Returns how
 * it ended as an `AttemptEnd`; persisting that end is the caller's (see AttemptEnd.record).
 */
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Runtime from "../engine/ConnectorRuntime.ts"
import type { LogEntry } from "../engine/ConnectorProcess.ts"
import type * as M from "../engine/protocol/AirbyteMessage.ts"
import type { TransportPreference } from "../engine/replication/Architecture.ts"
import type { StateInput } from "../engine/replication/ConnectionState.ts"
import * as FailureReason from "../engine/replication/FailureReason.ts"
import type { Middleware } from "../engine/replication/Middleware.ts"
import { type Endpoint, type Progress, replicate, type ReplicationLimits } from "../engine/replication/Replication.ts"
import type { StreamSyncStats, SyncStats } from "../engine/replication/SyncStats.ts"
import type { AttemptEnd } from "./AttemptEnd.ts"
import type { LogLine } from "./AttemptLog.ts"

/** Something that stops an attempt before replication starts (bad streams or mappers, failed discover). */
export class AttemptSetupFailed extends Data.TaggedError("AttemptSetupFailed")<{
  readonly reason: FailureReason.FailureReason
}> {}

/** Where an attempt's progress goes while it runs. */
export interface AttemptSink {
  /** Saves the connection state after an acknowledged commit (at most once a second, and at the end). */
  readonly commitState: (state: NonNullable<StateInput>) => Effect.Effect<void, unknown>
  /** Progress stats (every few seconds); the final ones travel in the AttemptEnd. */
  readonly writeStats: (totals: SyncStats, perStream: ReadonlyArray<StreamSyncStats>) => Effect.Effect<void, unknown>
  /** Log lines in order; failures to store them are the sink's to ignore. */
  readonly appendLogs: (lines: ReadonlyArray<LogLine>) => Effect.Effect<void>
}

export interface SyncAttemptInput {
  readonly jobId: number
  readonly attemptNumber: number
  readonly source: Endpoint
  readonly destination: Endpoint
  /** The last committed state of the connection (undefined: from scratch). */
  readonly state: StateInput
  readonly configureCatalog: (discovered: M.AirbyteCatalog) => Effect.Effect<M.ConfiguredAirbyteCatalog, AttemptSetupFailed>
  readonly makeMiddlewares: (catalog: M.ConfiguredAirbyteCatalog) => Effect.Effect<ReadonlyArray<Middleware>, AttemptSetupFailed>
  readonly transport: TransportPreference
  readonly cpus?: number | undefined
  /** Limits that differ from the engine's defaults (the operator's settings). */
  readonly limits?: Partial<ReplicationLimits> | undefined
  readonly onLog?: ((entry: LogEntry) => void) | undefined
  readonly onProgress?: ((progress: Progress) => void) | undefined
  /** Completes when the attempt must stop (cancel, or the workload ended): connectors are terminated. */
  readonly cancel?: Effect.Effect<void> | undefined
}

/**
 * The replication limits an operator sets (SLUICE_DESTINATION_TIMEOUT_SECONDS, SLUICE_MAX_PENDING_STATES,
 * SLUICE_SOURCE_HEARTBEAT_SECONDS, SLUICE_SOURCE_HEARTBEAT_FAIL_SYNC), as `sluice serve` sends them in a
 * workload input; unset ones keep the engine's defaults.
 */
export interface ReplicationSettings {
  readonly destinationTimeoutMs?: number
  readonly maxPendingStates?: number
  readonly sourceHeartbeatTimeoutMs?: number
  readonly sourceHeartbeatFailSync?: boolean
}

/** The engine limits for those settings (only the ones set). */
export const replicationLimits = (settings: ReplicationSettings): Partial<ReplicationLimits> => ({
  ...(settings.destinationTimeoutMs === undefined ? {} : { ackTimeout: Duration.millis(settings.destinationTimeoutMs) }),
  ...(settings.maxPendingStates === undefined ? {} : { maxPendingStates: settings.maxPendingStates }),
  ...(settings.sourceHeartbeatTimeoutMs === undefined ? {} : { sourceHeartbeatTimeout: Duration.millis(settings.sourceHeartbeatTimeoutMs) }),
  ...(settings.sourceHeartbeatFailSync === undefined ? {} : { sourceHeartbeatFailSync: settings.sourceHeartbeatFailSync })
})

const STATE_FLUSH_MS = 1000
const STATS_FLUSH_MS = 5000
const LOG_FLUSH_LINES = 500

/** Runs the attempt. Never fails: how it ended is the AttemptEnd. Interrupting it flushes the logs. */
export const runSyncAttempt = Effect.fn("SyncAttempt.run")(function*(input: SyncAttemptInput, sink: AttemptSink) {
  const n = input.attemptNumber
  const logs: Array<LogLine> = []
  const flushLogs = Effect.suspend(() => {
    const lines = logs.splice(0)
    return lines.length === 0 ? Effect.void : sink.appendLogs(lines)
  })
  const log = (entry: LogEntry) => {
    logs.push({ at: entry.timestamp, level: entry.level, origin: entry.origin, message: entry.message })
    input.onLog?.(entry)
  }
  const platformLog = (level: LogLine["level"], message: string) => {
    logs.push({ at: Date.now(), level, origin: "platform", message })
  }

  const end = yield* Effect.gen(function*() {
    const discovered = yield* Runtime.discover(
      { role: "source", connector: input.source.connector, jobId: String(input.jobId), attempt: n, onLog: log },
      input.source.config
    ).pipe(Effect.mapError((failure) => new AttemptSetupFailed({ reason: FailureReason.fromConnectorFailure(failure, Date.now()) })))
    const catalog = yield* input.configureCatalog(discovered)
    const middlewares = yield* input.makeMiddlewares(catalog)
    platformLog("INFO", `attempt ${n}: ${catalog.streams.length} stream(s), ${input.state === undefined ? "no saved state" : "resuming from the saved state"}`)
    let pending: NonNullable<StateInput> | undefined
    let lastFlush = 0
    let lastStats = 0
    const persistState = Effect.suspend(() => {
      if (pending === undefined) return Effect.void
      const toSave = pending
      pending = undefined
      lastFlush = Date.now()
      return sink.commitState(toSave)
    })
    const result = yield* replicate({
      source: input.source,
      destination: input.destination,
      catalog,
      ...(input.state === undefined ? {} : { state: input.state }),
      middlewares,
      transport: input.transport,
      jobId: String(input.jobId),
      attempt: n,
      onLog: log,
      ...(input.onProgress === undefined ? {} : { onProgress: input.onProgress }),
      ...(input.cancel === undefined ? {} : { cancel: input.cancel }),
      ...(input.limits === undefined ? {} : { limits: input.limits }),
      // The port: the state is saved at most once a second (the latest wins) and always at the end.
      onStateCommitted: (commit) =>
        Effect.gen(function*() {
          if (commit.connectionState !== undefined) pending = commit.connectionState
          const now = Date.now()
          if (now - lastFlush >= STATE_FLUSH_MS) yield* persistState
          if (now - lastStats >= STATS_FLUSH_MS) {
            lastStats = now
            yield* sink.writeStats(commit.stats, commit.streamStats)
            yield* flushLogs
          } else if (logs.length >= LOG_FLUSH_LINES) yield* flushLogs
        })
    }, input.cpus)
    const saved = yield* Effect.exit(persistState)
    const failures = saved._tag === "Success" ? result.failures : [
      ...result.failures,
      FailureReason.make({
        failureOrigin: "persistence",
        failureType: "system_error",
        externalMessage: "Sluice could not save the last committed state; the next attempt resumes from the one before",
        internalMessage: String(saved.cause),
        retryable: true,
        timestamp: Date.now()
      })
    ]
    const status = saved._tag === "Success" ? result.status : "failed"
    platformLog("INFO", `attempt ${n} ${status} over ${result.architecture.transport} (${result.architecture.reason})`)
    for (const failure of failures) {
      platformLog("ERROR", `${failure.failureOrigin} ${failure.failureType}: ${failure.externalMessage ?? failure.internalMessage ?? ""}`)
    }
    const { socketCount: _sockets, ...transport } = result.architecture
    return {
      _tag: "Replicated",
      status,
      stats: result.stats,
      streamStats: result.streamStats,
      failures,
      partialSuccess: result.partialSuccess,
      transport,
      output: { status, state: result.state ?? null }
    } satisfies AttemptEnd
  }).pipe(
    Effect.catchTag("AttemptSetupFailed", (error) => {
      platformLog("ERROR", error.reason.externalMessage ?? "attempt setup failed")
      return Effect.succeed({ _tag: "SetupFailed", reason: error.reason } satisfies AttemptEnd)
    }),
    Effect.onInterrupt(() =>
      Effect.gen(function*() {
        platformLog("WARN", `attempt ${n} cancelled`)
        yield* flushLogs
      })
    )
  )
  yield* flushLogs
  return end as AttemptEnd
})
