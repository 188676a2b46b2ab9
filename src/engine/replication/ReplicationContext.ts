/**
 * The types shared by the replication entry point and its transports: the attempt's input, limits,
 * the commit port, and what a transport gets to run. No runtime code beyond the error class.
 */
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type { ConnectorDefinition, LogEntry } from "../ConnectorProcess.ts"
import type * as M from "../protocol/AirbyteMessage.ts"
import type { Architecture, TransportPreference } from "./Architecture.ts"
import type { ConnectionState, StateInput } from "./ConnectionState.ts"
import type * as FailureReason from "./FailureReason.ts"
import type { Middleware } from "./Middleware.ts"
import type { StatsTracker } from "./StatsTracker.ts"
import type { StreamSyncStats, SyncStats } from "./SyncStats.ts"

export interface Endpoint {
  readonly connector: ConnectorDefinition
  readonly config: unknown
}

/** A state the destination acknowledged, with the connection state and stats at that moment. */
export interface StateCommit {
  readonly state: M.AirbyteStateMessage
  readonly connectionState: StateInput
  readonly stats: SyncStats
  readonly streamStats: ReadonlyArray<StreamSyncStats>
}

export interface Progress {
  readonly stats: SyncStats
  readonly streamStats: ReadonlyArray<StreamSyncStats>
}

export interface ReplicationInput {
  readonly source: Endpoint
  readonly destination: Endpoint
  readonly catalog: M.ConfiguredAirbyteCatalog
  readonly state?: StateInput
  /** Built and validated by the caller (before any process starts); their catalog goes to the destination. */
  readonly middlewares?: ReadonlyArray<Middleware>
  readonly transport?: TransportPreference
  readonly jobId?: string
  readonly attempt?: number
  readonly onLog?: (entry: LogEntry) => void
  /**
   * The commit port: called once per acknowledged state, in order, before the next acknowledgement is
   * processed. A failure here fails the attempt with origin `persistence`.
   */
  readonly onStateCommitted?: (commit: StateCommit) => Effect.Effect<void, unknown>
  /** A CONTROL message (a connector's new config to persist). */
  readonly onControl?: (origin: "source" | "destination", config: M.JsonObject) => Effect.Effect<void, unknown>
  /** Called about once a second while data flows. */
  readonly onProgress?: (progress: Progress) => void
  /** Completes when the attempt must be cancelled. */
  readonly cancel?: Effect.Effect<void>
  readonly limits?: Partial<ReplicationLimits>
}

export interface ReplicationLimits {
  /**
   * How many source states may wait for an acknowledgement before the relay stops reading the source
   * (memory stays bounded with a destination that acknowledges late). Each costs ~200 bytes.
   */
  readonly maxPendingStates: number
  /** A destination that acknowledges nothing for this long while states wait fails with destination_timeout. */
  readonly ackTimeout: Duration.Input
  /**
   * A source that sends no message for this long while Sluice reads it (Airbyte's source heartbeat,
   * 3 h) is reported with a WARN log each time, or, with `sourceHeartbeatFailSync`, fails the attempt
   * with heartbeat_timeout. In socket mode Sluice sees the source's stdout only (states, logs, traces).
   */
  readonly sourceHeartbeatTimeout: Duration.Input
  /** Airbyte's `heartbeat.failSync`, off by default. */
  readonly sourceHeartbeatFailSync: boolean
  /** Socket mode: the number of sockets (default 2 × min(CPU) of this machine, as Airbyte). */
  readonly socketCount: number
  readonly maxLineBytes: number
  readonly killGracePeriod: Duration.Input
}

export type ReplicationStatus = "completed" | "failed" | "cancelled"

export interface ReplicationResult {
  readonly status: ReplicationStatus
  /** The connection state after the last acknowledged state (the input state when none was). */
  readonly state: StateInput
  readonly stats: SyncStats
  readonly streamStats: ReadonlyArray<StreamSyncStats>
  readonly failures: ReadonlyArray<FailureReason.FailureReason>
  readonly partialSuccess: boolean
  readonly architecture: Architecture & { readonly socketCount?: number }
}

/** Failures the engine itself detects (not a connector's exit). */
export class ReplicationError extends Data.TaggedError("ReplicationError")<{
  readonly reason: FailureReason.FailureReason
}> {}

/** What one transport needs to run. */
export interface TransportContext {
  readonly input: ReplicationInput
  readonly limits: ReplicationLimits
  readonly tracker: StatsTracker
  readonly connectionState: ConnectionState
  readonly destinationCatalog: M.ConfiguredAirbyteCatalog
  readonly serialization: Architecture["serialization"]
  /** Applies an acknowledged state: books, connection state, the caller's port. */
  readonly commit: (state: M.AirbyteStateMessage) => Effect.Effect<void, ReplicationError>
}

