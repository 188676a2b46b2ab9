/**
 * The workload model (reference/airbyte-platform.md §5): what a launcher runs for a job attempt —
 * statuses, types, priorities, ids — and THE workload transition table every status change obeys.
 * Schema-first (persisted and served over HTTP); pure; imports only `effect` and scheduler models.
 */
import * as Schema from "effect/Schema"
import { AttemptNumber, ConnectionId, JobId } from "./Ids.ts"
import { EpochMs } from "./Job.ts"

/** A workload's id, as Airbyte's: `<connection>_<jobId>_<attempt>_sync`, `<jobId>_spec`, … */
export const WorkloadId = Schema.NonEmptyString.check(Schema.isMaxLength(256)).pipe(Schema.brand("WorkloadId"))
export type WorkloadId = typeof WorkloadId.Type

/** The id of a launcher instance (one per `sluice serve` process), Airbyte's dataplane. */
export const DataplaneId = Schema.NonEmptyString.pipe(Schema.brand("DataplaneId"))
export type DataplaneId = typeof DataplaneId.Type

export const WorkloadStatus = Schema.Literals(["pending", "claimed", "launched", "running", "success", "failure", "cancelled"])
export type WorkloadStatus = typeof WorkloadStatus.Type

export const WorkloadType = Schema.Literals(["sync", "check", "discover", "spec"])
export type WorkloadType = typeof WorkloadType.Type

export const activeStatuses: ReadonlyArray<WorkloadStatus> = ["pending", "claimed", "launched", "running"]
export const terminalStatuses: ReadonlyArray<WorkloadStatus> = ["success", "failure", "cancelled"]
export const isActive = (status: WorkloadStatus): boolean => activeStatuses.includes(status)
export const isTerminal = (status: WorkloadStatus): boolean => terminalStatuses.includes(status)

/** Airbyte's WorkloadPriority: spec is always HIGH, sync DEFAULT, check and discover HIGH (interactive). */
export const PRIORITY_DEFAULT = 0
export const PRIORITY_HIGH = 1
export const priorityOf = (type: WorkloadType): number => type === "sync" ? PRIORITY_DEFAULT : PRIORITY_HIGH

/** The calls that change a workload's status (the transport-independent verbs of the workload API). */
export type WorkloadCall = "claim" | "launch" | "running" | "heartbeat" | "succeed" | "fail" | "cancel"

/** From-statuses each call accepts (reference §5.1); `claim` from `claimed` only by the same dataplane. */
export const allowedFrom: { readonly [Call in WorkloadCall]: ReadonlyArray<WorkloadStatus> } = {
  claim: ["pending", "claimed"],
  launch: ["claimed", "launched"],
  running: ["claimed", "launched", "running"],
  heartbeat: ["running"],
  succeed: activeStatuses,
  fail: activeStatuses,
  cancel: activeStatuses
}

/** The status a call leaves the workload in. */
export const targetOf: { readonly [Call in WorkloadCall]: WorkloadStatus } = {
  claim: "claimed",
  launch: "launched",
  running: "running",
  heartbeat: "running",
  succeed: "success",
  fail: "failure",
  cancel: "cancelled"
}

/**
 * What a call that matched no row means, from the current status: `repeat` — a terminal call repeated
 * on the state it already produced, a logged no-op; `gone` — the workload has ended (HTTP 410);
 * `invalid` — an active workload not yet in a status the call accepts (e.g. heartbeat before running).
 */
export const onMismatch = (call: WorkloadCall, current: WorkloadStatus): "repeat" | "gone" | "invalid" => {
  if (isTerminal(current)) return targetOf[call] === current && (call === "succeed" || call === "fail" || call === "cancel") ? "repeat" : "gone"
  return "invalid"
}

export const Workload = Schema.Struct({
  id: WorkloadId,
  type: WorkloadType,
  status: WorkloadStatus,
  jobId: JobId,
  attemptNumber: AttemptNumber,
  connection: Schema.optionalKey(ConnectionId),
  priority: Schema.Int,
  mutexKey: Schema.optionalKey(Schema.String),
  dataplaneId: Schema.optionalKey(DataplaneId),
  /** When the workload was enqueued (schedule time). */
  createdAt: EpochMs,
  /** When the worker reported `running` (start time), recorded apart from the schedule time. */
  startedAt: Schema.optionalKey(EpochMs),
  updatedAt: EpochMs,
  lastHeartbeatAt: Schema.optionalKey(EpochMs),
  deadline: Schema.optionalKey(EpochMs),
  terminationSource: Schema.optionalKey(Schema.String),
  terminationReason: Schema.optionalKey(Schema.String)
})
export type Workload = typeof Workload.Type

/** Airbyte's WorkloadIdGenerator. */
export const syncId = (connection: string, jobId: number, attempt: number) => `${connection}_${jobId}_${attempt}_sync`
export const checkId = (actor: string, jobId: number, attempt: number) => `${actor}_${jobId}_${attempt}_check`
export const discoverId = (actor: string, jobId: number, attempt: number) => `${actor}_${jobId}_${attempt}_discover`
export const specId = (jobId: number) => `${jobId}_spec`
