/**
 * The errors of the storage ports. Schema-tagged (with an HTTP status) where the API will send them;
 * Data-tagged where they stay in the process. Imports only `effect` and scheduler models.
 */
import * as Data from "effect/Data"
import * as Schema from "effect/Schema"
import { AttemptNumber, ConnectionId, JobId } from "./Ids.ts"
import type { JobStatus } from "./JobStatus.ts"

export class JobNotFound extends Schema.TaggedError<JobNotFound>()("JobNotFound", { jobId: JobId }, {
  httpApiStatus: 404
}) {
  override get message() {
    return `job ${this.jobId} does not exist`
  }
}

export class AttemptNotFound extends Schema.TaggedError<AttemptNotFound>()("AttemptNotFound", {
  jobId: JobId,
  attemptNumber: AttemptNumber
}, { httpApiStatus: 404 }) {
  override get message() {
    return `job ${this.jobId} has no attempt ${this.attemptNumber}`
  }
}

/** A sync was asked for a connection that already has a non-terminal sync job. */
export class ActiveJobExists extends Schema.TaggedError<ActiveJobExists>()("ActiveJobExists", {
  connection: Schema.String,
  existingJobId: JobId
}, { httpApiStatus: 409 }) {
  override get message() {
    return `connection ${this.connection} already has an active sync job (${this.existingJobId}); ` +
      `wait for it to end or cancel it`
  }
}

export class ConnectionNotFound extends Schema.TaggedError<ConnectionNotFound>()("ConnectionNotFound", {
  connection: ConnectionId
}, { httpApiStatus: 404 }) {
  override get message() {
    return `connection ${this.connection} does not exist`
  }
}

/** An attempt was asked for a job that has already ended. */
export class JobIsTerminal extends Data.TaggedError("JobIsTerminal")<{
  readonly jobId: JobId
  readonly status: JobStatus
}> {
  override get message() {
    return `job ${this.jobId} has ended (${this.status}); it takes no new attempt`
  }
}

/** An attempt was asked for a job whose previous attempt is still running. */
export class AttemptAlreadyRunning extends Data.TaggedError("AttemptAlreadyRunning")<{
  readonly jobId: JobId
  readonly attemptNumber: AttemptNumber
}> {
  override get message() {
    return `job ${this.jobId} still has attempt ${this.attemptNumber} running; end it before creating another`
  }
}

/**
 * The database could not do what was asked (unreachable, a failed statement, a row that does not
 * decode). `retryable` says whether trying again may help (connection loss, deadlock, serialization).
 */
export class StoreError extends Data.TaggedError("StoreError")<{
  readonly operation: string
  readonly detail: string
  readonly retryable: boolean
  readonly cause?: unknown
}> {
  override get message() {
    return `${this.operation} failed: ${this.detail}`
  }
}
