/**
 * How one attempt ended, as data: what a worker reports over the API and what the in-process sync
 * hands over, and `record`, THE function that persists it on the attempt (transport, stats, output,
 * succeeded or failed) and turns it into the retry loop's outcome. Schema-first; no SQL.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { JsonObject } from "../engine/protocol/AirbyteMessage.ts"
import { FailureReason } from "../engine/replication/FailureReason.ts"
import { StreamSyncStats, SyncStats } from "../engine/replication/SyncStats.ts"
import { AttemptTransport } from "./Attempt.ts"
import * as AttemptFailures from "./AttemptFailures.ts"
import type { AttemptNumber, JobId } from "./Ids.ts"
import { JobStore } from "./JobStore.ts"
import * as RetryManager from "./RetryManager.ts"

/** Stopped before replication started (bad streams or mappers, failed discover). */
export const SetupFailed = Schema.TaggedStruct("SetupFailed", { reason: FailureReason })

/** A replication ran: its status, final stats, failures and the transport it chose. */
export const Replicated = Schema.TaggedStruct("Replicated", {
  status: Schema.Literals(["completed", "failed", "cancelled"]),
  stats: SyncStats,
  streamStats: Schema.Array(StreamSyncStats),
  failures: Schema.Array(FailureReason),
  partialSuccess: Schema.Boolean,
  transport: AttemptTransport,
  output: JsonObject
})

/** A check, discover or spec ran: its output, or the failures that stopped it. */
export const CommandDone = Schema.TaggedStruct("CommandDone", {
  output: Schema.optionalKey(JsonObject),
  failures: Schema.Array(FailureReason)
})

export const AttemptEnd = Schema.Union([SetupFailed, Replicated, CommandDone])
export type AttemptEnd = typeof AttemptEnd.Type

/** The failures an end carries (empty for a success). */
export const failuresOf = (end: AttemptEnd): ReadonlyArray<FailureReason> =>
  end._tag === "SetupFailed" ? [end.reason] : end.failures

/**
 * Persists the end of attempt `n` of `jobId` and returns the retry loop's outcome. A failure's
 * progress is judged from the stats persisted for the attempt, as Airbyte does. Idempotent: an
 * attempt that already ended is left as it is.
 */
export const record = Effect.fn("AttemptEnd.record")(function*(jobId: JobId, n: AttemptNumber, end: AttemptEnd) {
  const jobs = yield* JobStore
  const fail = (summary: Parameters<typeof AttemptFailures.limit>[0]) =>
    Effect.gen(function*() {
      const limited = AttemptFailures.limit(summary)
      yield* jobs.failAttempt(jobId, n, limited)
      const persisted = (yield* jobs.getJob(jobId)).attempts.find((a) => a.attemptNumber === n)
      return RetryManager.failed(limited, RetryManager.hasProgress(persisted?.totalStats))
    })
  if (end._tag === "SetupFailed") return yield* fail({ failures: [end.reason], partialSuccess: false })
  if (end._tag === "CommandDone") {
    if (end.output !== undefined) yield* jobs.writeOutput(jobId, n, end.output)
    if (end.failures.length > 0) return yield* fail({ failures: end.failures, partialSuccess: false })
    yield* jobs.succeedAttempt(jobId, n)
    return RetryManager.succeeded<AttemptEnd>(end)
  }
  yield* jobs.setTransport(jobId, n, end.transport)
  yield* jobs.writeStats(jobId, n, end.stats, end.streamStats)
  yield* jobs.writeOutput(jobId, n, end.output)
  if (end.status === "completed") {
    yield* jobs.succeedAttempt(jobId, n)
    return RetryManager.succeeded<AttemptEnd>(end)
  }
  if (end.status === "cancelled") return RetryManager.cancelled
  return yield* fail({ failures: end.failures, partialSuccess: end.partialSuccess })
})
