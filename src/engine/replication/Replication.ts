/**
 * One attempt of replication as an Effect: picks the transport, runs source and destination, keeps
 * the books (states, emitted/committed stats), hands each committed state to the caller's port the
 * moment the destination acknowledges it, and returns a typed result — failures are data, never a
 * failed Effect. No SQL, HTTP or k8s here.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { ConnectorFailure } from "../ConnectorFailure.ts"
import type * as M from "../protocol/AirbyteMessage.ts"
import { decide, socketCount } from "./Architecture.ts"
import { clean, ConnectionState } from "./ConnectionState.ts"
import * as FailureReason from "./FailureReason.ts"
import { failure, unknownAck } from "./ReplicationErrors.ts"
import {
  type ReplicationInput,
  type ReplicationLimits,
  type ReplicationResult,
  type ReplicationStatus,
  ReplicationError,
  type TransportContext
} from "./ReplicationContext.ts"
import { runSocket } from "./SocketReplication.ts"
import { StatsTracker } from "./StatsTracker.ts"
import { runStdio } from "./StdioReplication.ts"

export * from "./ReplicationContext.ts"

export const defaultLimits = (cpus: number): ReplicationLimits => ({
  maxPendingStates: 10_000,
  // Airbyte's destination-timeout.seconds (7200 s, failing the sync).
  ackTimeout: "2 hours",
  // Airbyte's heartbeat.max-seconds-between-messages (10800 s) with heartbeat.failSync off.
  sourceHeartbeatTimeout: "3 hours",
  sourceHeartbeatFailSync: false,
  socketCount: socketCount(cpus, cpus),
  maxLineBytes: 64 * 1024 * 1024,
  killGracePeriod: "10 seconds"
})

const commitPort = (context: Omit<TransportContext, "commit">) => (state: M.AirbyteStateMessage) =>
  Effect.gen(function*() {
    const acked = context.tracker.destinationState(state, Date.now())
    if (acked._tag === "Unknown") return yield* unknownAck(acked.id)
    context.connectionState.apply(state)
    const port = context.input.onStateCommitted
    if (port === undefined) return
    yield* port({
      state: clean(state),
      connectionState: context.connectionState.toInput(),
      stats: context.tracker.totals(),
      streamStats: context.tracker.streamStats()
    }).pipe(Effect.mapError((cause) =>
      failure({
        failureOrigin: "persistence",
        failureType: "system_error",
        externalMessage: "Sluice could not save a committed state; the attempt stops so no progress is lost",
        internalMessage: String(cause),
        retryable: true
      })
    ))
  })

const toReasons = (cause: Cause.Cause<unknown>): ReadonlyArray<FailureReason.FailureReason> => {
  const now = Date.now()
  const reasons: Array<FailureReason.FailureReason> = []
  for (const reason of cause.reasons) {
    if (reason._tag === "Fail") {
      const error = reason.error
      if (error instanceof ConnectorFailure) reasons.push(FailureReason.fromConnectorFailure(error, now))
      else if (error instanceof ReplicationError) reasons.push(error.reason)
      else reasons.push(FailureReason.make({ failureOrigin: "replication", failureType: "system_error", internalMessage: String(error), timestamp: now }))
    } else if (reason._tag === "Die") {
      reasons.push(FailureReason.make({
        failureOrigin: "replication",
        failureType: "system_error",
        externalMessage: "Sluice failed while replicating; this is a bug, please report it with the attempt logs",
        internalMessage: String(reason.defect),
        ...(reason.defect instanceof Error && reason.defect.stack !== undefined ? { stacktrace: reason.defect.stack } : {}),
        timestamp: now
      }))
    }
  }
  return reasons
}

const cancelledReason = (): FailureReason.FailureReason =>
  FailureReason.make({
    failureOrigin: "airbyte_platform",
    failureType: "manual_cancellation",
    externalMessage: "the attempt was cancelled",
    retryable: false,
    timestamp: Date.now()
  })

/** Runs one attempt. Never fails: every failure is in the result. */
export const replicate = (input: ReplicationInput, cpus = 2): Effect.Effect<ReplicationResult> =>
  Effect.gen(function*() {
    const limits: ReplicationLimits = { ...defaultLimits(cpus), ...input.limits }
    const middlewares = input.middlewares ?? []
    const destinationCatalog = middlewares.length === 0 ? input.catalog : middlewares[middlewares.length - 1]!.catalog
    const connectionState = new ConnectionState(input.state)
    const tracker = new StatsTracker(input.catalog, connectionState.streamKeys())
    tracker.phases.replicationStartTime = Date.now()
    const decided = decide({
      preference: input.transport ?? "auto",
      source: input.source.connector.ipc,
      destination: input.destination.connector.ipc,
      hasMiddleware: middlewares.length > 0
    })
    const result = (status: ReplicationStatus, failures: ReadonlyArray<FailureReason.FailureReason>, architecture: ReplicationResult["architecture"]): ReplicationResult => {
      tracker.phases.replicationEndTime = Date.now()
      const stats = tracker.totals()
      return {
        status,
        state: connectionState.toInput(),
        stats,
        streamStats: tracker.streamStats(),
        failures: FailureReason.summarize(failures, stats.recordsCommitted).failures,
        partialSuccess: stats.recordsCommitted > 0,
        architecture
      }
    }
    if ("_tag" in decided) {
      return result("failed", [FailureReason.make({
        failureOrigin: "replication",
        failureType: "config_error",
        externalMessage: decided.reason,
        retryable: false,
        timestamp: Date.now()
      })], { transport: "stdio", serialization: "JSONL", reason: decided.reason })
    }
    const architecture = decided.transport === "socket" ? { ...decided, socketCount: limits.socketCount } : decided
    const base = { input, limits, tracker, connectionState, destinationCatalog, serialization: decided.serialization }
    const context: TransportContext = { ...base, commit: commitPort(base) }
    const run = decided.transport === "socket" ? runSocket(context) : runStdio(context)
    let cancelled = false
    const cancellable = input.cancel === undefined ? run : Effect.raceFirst(
      run,
      Effect.flatMap(input.cancel, () => Effect.sync(() => {
        cancelled = true
      }))
    )
    const exit = yield* Effect.exit(cancellable)
    if (cancelled) return result("cancelled", [cancelledReason()], architecture)
    if (Exit.isSuccess(exit)) {
      tracker.completed()
      return result("completed", [], architecture)
    }
    return result("failed", toReasons(exit.cause), architecture)
  })
