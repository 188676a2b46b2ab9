/**
 * The errors of the workload API: Schema-tagged with the HTTP status the API answers with. A call on
 * a workload that has ended is 410 Gone (the worker stops); a call that comes too early is 409.
 * Imports only `effect` and scheduler models.
 */
import * as Schema from "effect/Schema"
import { WorkloadId, WorkloadStatus } from "./Workload.ts"

export class WorkloadNotFound extends Schema.TaggedError<WorkloadNotFound>()("WorkloadNotFound", {
  workloadId: WorkloadId
}, { httpApiStatus: 404 }) {
  override get message() {
    return `workload ${this.workloadId} does not exist`
  }
}

/** The workload has ended (success, failure or cancelled): its worker must stop. */
export class WorkloadGone extends Schema.TaggedError<WorkloadGone>()("WorkloadGone", {
  workloadId: WorkloadId,
  status: WorkloadStatus,
  call: Schema.String
}, { httpApiStatus: 410 }) {
  override get message() {
    return `workload ${this.workloadId} has ended (${this.status}); ${this.call} is refused`
  }
}

/** The call is not valid in the workload's current active status (e.g. heartbeat before running). */
export class WorkloadTransitionInvalid extends Schema.TaggedError<WorkloadTransitionInvalid>()("WorkloadTransitionInvalid", {
  workloadId: WorkloadId,
  status: WorkloadStatus,
  call: Schema.String
}, { httpApiStatus: 409 }) {
  override get message() {
    return `workload ${this.workloadId} is ${this.status}: ${this.call} is not allowed yet`
  }
}

/** A workload with this id exists already. */
export class WorkloadExists extends Schema.TaggedError<WorkloadExists>()("WorkloadExists", {
  workloadId: WorkloadId
}, { httpApiStatus: 409 }) {
  override get message() {
    return `workload ${this.workloadId} exists already`
  }
}
