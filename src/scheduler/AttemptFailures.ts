/**
 * Failure summaries the scheduler writes itself (cancellation, clean-up after a crash) and the size
 * limits every stored summary obeys (reference §3: truncated texts, at most 10 failures, earliest
 * first). Pure; imports only engine models.
 */
import * as FailureReason from "../engine/replication/FailureReason.ts"

/** Truncates messages and stack traces and keeps the earliest MAX_FAILURES_TO_KEEP failures. */
export const limit = (summary: FailureReason.AttemptFailureSummary): FailureReason.AttemptFailureSummary => ({
  ...summary,
  failures: [...summary.failures]
    .sort((a, b) => a.timestamp - b.timestamp)
    .slice(0, FailureReason.MAX_FAILURES_TO_KEEP)
    .map(FailureReason.make)
})

/** Why the running attempt of a cancelled job failed (Airbyte's `failureSummaryForCancellation`). */
export const cancellation = (timestamp: number, partialSuccess?: boolean): FailureReason.AttemptFailureSummary => ({
  failures: [{
    failureOrigin: "airbyte_platform",
    failureType: "manual_cancellation",
    internalMessage: "Setting attempt to FAILED because the job was cancelled",
    externalMessage: "This attempt was cancelled",
    retryable: false,
    timestamp
  }],
  ...(partialSuccess === undefined ? {} : { partialSuccess })
})

/** Why an attempt left running by a process that stopped was failed at the next start. */
export const abandoned = (timestamp: number): FailureReason.AttemptFailureSummary => ({
  failures: [{
    failureOrigin: "airbyte_platform",
    failureType: "system_error",
    internalMessage: "The attempt was still running when Sluice started again for its connection: the process " +
      "that ran it stopped (crash, kill or restart) before recording the end, so the clean-up failed it and its job.",
    externalMessage: "This attempt was interrupted because Sluice stopped while it ran",
    retryable: true,
    timestamp
  }]
})
