/**
 * The shapes the HTTP API reads and writes, as Schemas over the scheduler's models: JobInfoRead
 * (Airbyte's job with attempts, stats and failure summaries), pages, connection payloads and the
 * worker's input. Imports only `effect`, engine and scheduler models.
 */
import * as Schema from "effect/Schema"
import { IpcOptions } from "../engine/IpcOptions.ts"
import { JsonObject } from "../engine/protocol/AirbyteMessage.ts"
import { AttemptFailureSummary } from "../engine/replication/FailureReason.ts"
import { SyncStats } from "../engine/replication/SyncStats.ts"
import { AttemptTransport } from "../scheduler/Attempt.ts"
import { StoredState } from "../scheduler/ConnectionStore.ts"
import { AttemptId, AttemptNumber, ConnectionId, JobId } from "../scheduler/Ids.ts"
import { EpochMs, JobConfigType } from "../scheduler/Job.ts"
import { AttemptStatus, JobStatus } from "../scheduler/JobStatus.ts"
import { WorkloadId, WorkloadStatus, WorkloadType } from "../scheduler/Workload.ts"

export const JobRead = Schema.Struct({
  id: JobId,
  configType: JobConfigType,
  /** The connection (or connector) the job ran for. */
  configId: Schema.String,
  status: JobStatus,
  createdAt: EpochMs,
  updatedAt: EpochMs
})
export type JobRead = typeof JobRead.Type

export const AttemptRead = Schema.Struct({
  id: AttemptId,
  attemptNumber: AttemptNumber,
  status: AttemptStatus,
  createdAt: EpochMs,
  updatedAt: EpochMs,
  endedAt: Schema.optionalKey(EpochMs),
  totalStats: Schema.optionalKey(SyncStats),
  streamStats: Schema.Array(Schema.Struct({
    streamName: Schema.String,
    streamNamespace: Schema.optionalKey(Schema.String),
    stats: SyncStats
  })),
  failureSummary: Schema.optionalKey(AttemptFailureSummary),
  transport: Schema.optionalKey(AttemptTransport),
  /**
   * What the attempt produced: `connectionStatus` (check), `catalog` (discover), `spec` (get_spec),
   * `status` and the final `state` (sync).
   */
  output: Schema.optionalKey(JsonObject)
})

/** Airbyte's JobInfoRead: the job with all its attempts. */
export const JobInfoRead = Schema.Struct({ job: JobRead, attempts: Schema.Array(AttemptRead) })
export type JobInfoRead = typeof JobInfoRead.Type

/** Airbyte's JobInfoLightRead: the job alone. */
export const JobInfoLightRead = Schema.Struct({ job: JobRead })

export const JobPage = Schema.Struct({
  jobs: Schema.Array(JobRead),
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor: Schema.optionalKey(JobId)
})

/** A check or a spec of a connection runs two jobs, one per connector. */
export const ConnectorJobs = Schema.Struct({ source: JobRead, destination: JobRead })

export const ConnectionRead = Schema.Struct({
  name: ConnectionId,
  /** The connection as written in a config file (secret references kept, inline secrets redacted). */
  spec: JsonObject,
  createdAt: EpochMs,
  updatedAt: EpochMs
})

export const ConnectionCreate = Schema.Struct({ name: ConnectionId, spec: JsonObject })
export const ConnectionUpdate = Schema.Struct({ spec: JsonObject })

/** One connector as the worker runs it: argv, IPC options, env and config with secrets resolved. */
export const WorkerConnector = Schema.Struct({
  command: Schema.Array(Schema.String),
  ipc: Schema.optionalKey(IpcOptions),
  env: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  cwd: Schema.optionalKey(Schema.String),
  config: JsonObject
})
export type WorkerConnector = typeof WorkerConnector.Type

/**
 * What a worker needs to run its workload, fetched once with its token over the API. It carries the
 * resolved secrets: the server resolves them and sends them only to the workload's own worker.
 */
export const WorkloadInput = Schema.Struct({
  workloadId: WorkloadId,
  type: WorkloadType,
  jobId: JobId,
  attemptNumber: AttemptNumber,
  connection: ConnectionId,
  /** check: which side to check. */
  target: Schema.optionalKey(Schema.Literals(["source", "destination"])),
  source: WorkerConnector,
  destination: WorkerConnector,
  /** The connection's `streams` and `mappers` as written (decoded by the worker). */
  streams: Schema.optionalKey(JsonObject),
  mappers: Schema.optionalKey(Schema.Array(JsonObject)),
  transport: Schema.Literals(["auto", "stdio", "socket"]),
  /** The last committed state (sync); absent: from scratch. */
  state: Schema.optionalKey(StoredState),
  heartbeatIntervalMs: Schema.Int,
  heartbeatTimeoutMs: Schema.Int,
  /** sync: the server's replication limits, when its operator set them (else the engine's defaults). */
  destinationTimeoutMs: Schema.optionalKey(Schema.Int),
  maxPendingStates: Schema.optionalKey(Schema.Int),
  sourceHeartbeatTimeoutMs: Schema.optionalKey(Schema.Int),
  sourceHeartbeatFailSync: Schema.optionalKey(Schema.Boolean)
})
export type WorkloadInput = typeof WorkloadInput.Type

export const WorkloadRead = Schema.Struct({ id: WorkloadId, status: WorkloadStatus })
