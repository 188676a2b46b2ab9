/**
 * The job and attempt state machines (reference/airbyte-platform.md §2): closed status vocabularies
 * and THE job transition function, which every status change goes through. Pure; imports only `effect`.
 */
import * as Data from "effect/Data"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"

export const JobStatus = Schema.Literals(["pending", "queued", "running", "incomplete", "failed", "succeeded", "cancelled"])
export type JobStatus = typeof JobStatus.Type

export const AttemptStatus = Schema.Literals(["running", "failed", "succeeded"])
export type AttemptStatus = typeof AttemptStatus.Type

export const jobStatuses: ReadonlyArray<JobStatus> = JobStatus.literals
export const terminalJobStatuses: ReadonlyArray<JobStatus> = ["failed", "succeeded", "cancelled"]
export const nonTerminalJobStatuses: ReadonlyArray<JobStatus> = ["pending", "queued", "running", "incomplete"]

export const isTerminal = (status: JobStatus): boolean => terminalJobStatuses.includes(status)
export const isTerminalAttempt = (status: AttemptStatus): boolean => status !== "running"

/** Airbyte's `JobStatus.VALID_STATUS_CHANGES`. */
const allowed: { readonly [From in JobStatus]: ReadonlyArray<JobStatus> } = {
  pending: ["queued", "running", "failed", "cancelled", "incomplete"],
  queued: ["pending", "running", "cancelled", "failed"],
  running: ["incomplete", "succeeded", "failed", "cancelled"],
  incomplete: ["pending", "running", "failed", "cancelled", "incomplete", "succeeded"],
  succeeded: [],
  failed: ["failed"],
  cancelled: []
}

/** A status change the table forbids from a non-terminal status (a bug in the caller, not data). */
export class IllegalJobTransition extends Data.TaggedError("IllegalJobTransition")<{
  readonly from: JobStatus
  readonly to: JobStatus
  readonly jobId?: number
}> {
  override get message() {
    const job = this.jobId === undefined ? "a job" : `job ${this.jobId}`
    return `${job} cannot go from ${this.from} to ${this.to}; allowed from ${this.from}: ${allowed[this.from].join(", ") || "nothing"}`
  }
}

/** `changed`: write the new status. `unchanged`: the job is terminal and is left alone, silently. */
export type TransitionOutcome = "changed" | "unchanged"

/**
 * Decides a job status change: a terminal job is left alone (`unchanged`, as Airbyte's
 * `updateJobStatus`), an allowed change is `changed`, anything else fails with IllegalJobTransition.
 */
export const transition = (
  from: JobStatus,
  to: JobStatus,
  jobId?: number
): Result.Result<TransitionOutcome, IllegalJobTransition> => {
  if (isTerminal(from)) return Result.succeed("unchanged")
  if (allowed[from].includes(to)) return Result.succeed("changed")
  return Result.fail(new IllegalJobTransition({ from, to, ...(jobId === undefined ? {} : { jobId }) }))
}

/** The statuses from which a job may change to `to` (for conditional `UPDATE … WHERE status IN`). */
export const sourcesOf = (to: JobStatus): ReadonlyArray<JobStatus> =>
  nonTerminalJobStatuses.filter((from) => allowed[from].includes(to))
