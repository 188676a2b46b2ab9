/**
 * Airbyte's RetryManager (reference §1.2, §1.5): four persisted failure counters, the pure decision
 * after a failed attempt (retry after a wait, or fail the job) and `runWithRetries`, the attempt loop.
 * Imports only `effect`, `src/engine` and RetryPolicy; callers persist through the callbacks.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { AttemptFailureSummary } from "../engine/replication/FailureReason.ts"
import * as RetryPolicy from "./RetryPolicy.ts"

const Counter = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/** The counters of one job (Airbyte's `retry_states` row); a new job starts from `initial`. */
export const RetryState = Schema.Struct({
  successiveCompleteFailures: Counter,
  totalCompleteFailures: Counter,
  successivePartialFailures: Counter,
  totalPartialFailures: Counter
})
export type RetryState = typeof RetryState.Type

export const initial: RetryState = {
  successiveCompleteFailures: 0,
  totalCompleteFailures: 0,
  successivePartialFailures: 0,
  totalPartialFailures: 0
}

/** A failure is partial when the attempt made progress, complete otherwise. */
export type FailureKind = "complete" | "partial"

/**
 * Records a failed attempt. Partial: the successive-complete counter goes back to 0 and both partial
 * counters go up. Complete: the successive-partial counter goes back to 0 and both complete counters
 * go up.
 */
export const recordFailure = (state: RetryState, failure: { readonly partial: boolean }): RetryState =>
  failure.partial
    ? {
      ...state,
      successiveCompleteFailures: 0,
      successivePartialFailures: state.successivePartialFailures + 1,
      totalPartialFailures: state.totalPartialFailures + 1
    }
    : {
      ...state,
      successivePartialFailures: 0,
      successiveCompleteFailures: state.successiveCompleteFailures + 1,
      totalCompleteFailures: state.totalCompleteFailures + 1
    }

/** The name of a limit in RetryPolicy. */
export type RetryLimit =
  | "maxSuccessiveCompleteFailures"
  | "maxTotalCompleteFailures"
  | "maxSuccessivePartialFailures"
  | "maxTotalPartialFailures"

const limits: ReadonlyArray<{ readonly limit: RetryLimit; readonly counter: keyof RetryState; readonly label: string }> = [
  { limit: "maxSuccessiveCompleteFailures", counter: "successiveCompleteFailures", label: "successive complete failures" },
  { limit: "maxTotalCompleteFailures", counter: "totalCompleteFailures", label: "complete failures in total" },
  { limit: "maxSuccessivePartialFailures", counter: "successivePartialFailures", label: "successive partial failures" },
  { limit: "maxTotalPartialFailures", counter: "totalPartialFailures", label: "partial failures in total" }
]

const firstReached = (policy: RetryPolicy.RetryPolicy, state: RetryState) =>
  limits.find(({ counter, limit }) => state[counter] >= policy[limit])

/** The first limit a counter has reached, if any. */
export const limitReached = (policy: RetryPolicy.RetryPolicy, state: RetryState): RetryLimit | undefined =>
  firstReached(policy, state)?.limit

/** True while all four counters are strictly below their limits. */
export const shouldRetry = (policy: RetryPolicy.RetryPolicy, state: RetryState): boolean =>
  limitReached(policy, state) === undefined

/** The wait before the next attempt: the complete-failure backoff, zero after a partial failure. */
export const backoff = (policy: RetryPolicy.RetryPolicy, state: RetryState): Duration.Duration =>
  state.successiveCompleteFailures > 0
    ? RetryPolicy.backoffFor(policy, state.successiveCompleteFailures)
    : Duration.zero

/** Records counted as progress: committed plus rejected (both reached the destination). */
export const PROGRESS_THRESHOLD = 1

/**
 * Whether an attempt made progress, from the stats PERSISTED for it (not the attempt's own output):
 * committed + rejected ≥ 1, missing counts as 0, no stats at all as no progress.
 */
export const hasProgress = (
  stats: { readonly recordsCommitted?: number | undefined; readonly recordsRejected?: number | undefined } | undefined
): boolean => (stats?.recordsCommitted ?? 0) + (stats?.recordsRejected ?? 0) >= PROGRESS_THRESHOLD

/** What stopped the retries: a config error or the limit that was reached. */
export type StopCause = "config_error" | RetryLimit

export type Decision =
  | {
    readonly _tag: "Retry"
    readonly kind: FailureKind
    readonly wait: Duration.Duration
    readonly state: RetryState
  }
  | {
    readonly _tag: "Fail"
    readonly kind: FailureKind
    readonly stoppedBy: StopCause
    readonly reason: string
    readonly state: RetryState
  }

export interface FailedAttempt {
  readonly connectionName: string
  readonly failureSummary: AttemptFailureSummary
  /** From the attempt's persisted stats; see `hasProgress`. */
  readonly progress: boolean
}

const configErrorMessage = (summary: AttemptFailureSummary): string | undefined => {
  const first = summary.failures[0]
  if (first === undefined || first.failureType !== "config_error") return undefined
  return first.externalMessage ?? first.internalMessage ?? "The connection's configuration is invalid"
}

/**
 * The decision after a failed attempt. The failure is recorded first (partial when the attempt made
 * progress), so `state` is always the counters to persist. A summary whose first failure is a
 * config_error fails with that failure's message; a reached limit fails naming the limit; otherwise
 * retry after `backoff`.
 */
export const decide = (policy: RetryPolicy.RetryPolicy, state: RetryState, failed: FailedAttempt): Decision => {
  const kind: FailureKind = failed.progress ? "partial" : "complete"
  const next = recordFailure(state, { partial: failed.progress })
  const configError = configErrorMessage(failed.failureSummary)
  if (configError !== undefined) {
    return { _tag: "Fail", kind, stoppedBy: "config_error", reason: configError, state: next }
  }
  const reached = firstReached(policy, next)
  if (reached !== undefined) {
    const reason = `Job failed after too many retries for connection ${failed.connectionName}: ` +
      `${next[reached.counter]} ${reached.label} (${reached.limit} = ${policy[reached.limit]})`
    return { _tag: "Fail", kind, stoppedBy: reached.limit, reason, state: next }
  }
  return { _tag: "Retry", kind, wait: backoff(policy, next), state: next }
}

/** How one attempt ended, as reported by the caller's `runAttempt`. */
export type AttemptOutcome<A> =
  | { readonly _tag: "Succeeded"; readonly value: A }
  | { readonly _tag: "Cancelled" }
  | { readonly _tag: "Failed"; readonly failureSummary: AttemptFailureSummary; readonly progress: boolean }

export const succeeded = <A>(value: A): AttemptOutcome<A> => ({ _tag: "Succeeded", value })
export const cancelled: AttemptOutcome<never> = { _tag: "Cancelled" }
export const failed = (failureSummary: AttemptFailureSummary, progress: boolean): AttemptOutcome<never> => ({
  _tag: "Failed",
  failureSummary,
  progress
})

/** How the job ended; `attempts` counts the attempts run by this loop. */
export type RunResult<A> =
  | { readonly _tag: "Succeeded"; readonly value: A; readonly attempts: number; readonly state: RetryState }
  | { readonly _tag: "Cancelled"; readonly attempts: number; readonly state: RetryState }
  | {
    readonly _tag: "Failed"
    readonly reason: string
    readonly stoppedBy: StopCause
    readonly failureSummary: AttemptFailureSummary
    readonly attempts: number
    readonly state: RetryState
  }

export interface RunWithRetriesOptions<A, E, R, E2, R2, E3, R3> {
  readonly policy: RetryPolicy.RetryPolicy
  readonly connectionName: string
  /** Runs one attempt; a failed attempt is an outcome, not an error (errors end the loop). */
  readonly runAttempt: (attemptNumber: number) => Effect.Effect<AttemptOutcome<A>, E, R>
  /** After each failed attempt, before any wait: persist `decision.state` (and fail the job on Fail). */
  readonly onDecision?: ((decision: Decision, attemptNumber: number) => Effect.Effect<void, E2, R2>) | undefined
  /** Before each wait, including a zero wait after a partial failure. */
  readonly onBackoff?: ((wait: Duration.Duration, nextAttemptNumber: number) => Effect.Effect<void, E3, R3>) | undefined
  /** Counters hydrated from storage when resuming a job; `initial` otherwise. */
  readonly state?: RetryState | undefined
  /** Number of the first attempt run here; 0 (attempt numbers are 0-based) otherwise. */
  readonly firstAttemptNumber?: number | undefined
}

/**
 * Runs attempts until one succeeds, one is cancelled or `decide` fails the job, sleeping each backoff
 * with `Effect.sleep` (so TestClock drives it in tests). Interrupting the fiber stops the loop, also
 * during a wait.
 */
export const runWithRetries = <A, E = never, R = never, E2 = never, R2 = never, E3 = never, R3 = never>(
  options: RunWithRetriesOptions<A, E, R, E2, R2, E3, R3>
): Effect.Effect<RunResult<A>, E | E2 | E3, R | R2 | R3> =>
  Effect.gen(function*() {
    let state = options.state ?? initial
    let attemptNumber = options.firstAttemptNumber ?? 0
    let attempts = 0
    while (true) {
      const outcome = yield* options.runAttempt(attemptNumber)
      attempts++
      if (outcome._tag === "Succeeded") return { _tag: "Succeeded", value: outcome.value, attempts, state } as const
      if (outcome._tag === "Cancelled") return { _tag: "Cancelled", attempts, state } as const
      const decision = decide(options.policy, state, {
        connectionName: options.connectionName,
        failureSummary: outcome.failureSummary,
        progress: outcome.progress
      })
      state = decision.state
      if (options.onDecision !== undefined) yield* options.onDecision(decision, attemptNumber)
      if (decision._tag === "Fail") {
        return {
          _tag: "Failed",
          reason: decision.reason,
          stoppedBy: decision.stoppedBy,
          failureSummary: outcome.failureSummary,
          attempts,
          state
        } as const
      }
      attemptNumber++
      if (options.onBackoff !== undefined) yield* options.onBackoff(decision.wait, attemptNumber)
      yield* Effect.sleep(decision.wait)
    }
  }).pipe(Effect.withSpan("RetryManager.runWithRetries", { attributes: { connection: options.connectionName } }))
