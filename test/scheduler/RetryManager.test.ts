/**
 * RetryManager: counter transitions (exhaustively over small states), limits, backoff, the decision
 * sequences Airbyte documents, and runWithRetries driven by TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, Fiber, Schema } from "effect"
import { TestClock } from "effect/testing"
import type { AttemptFailureSummary, FailureType } from "../../src/engine/replication/FailureReason.ts"
import * as RetryManager from "../../src/scheduler/RetryManager.ts"
import * as RetryPolicy from "../../src/scheduler/RetryPolicy.ts"

const policy = RetryPolicy.defaults
const seconds = (d: Duration.Duration) => Duration.toSeconds(d)

const summary = (failureType: FailureType = "transient_error", message = "boom"): AttemptFailureSummary => ({
  failures: [{ failureOrigin: "source", failureType, externalMessage: message, timestamp: 1 }],
  partialSuccess: false
})

const C = { connectionName: "pg_to_lake", failureSummary: summary(), progress: false }
const P = { ...C, progress: true }

/** Runs decisions in sequence from the initial state. */
const run = (steps: ReadonlyArray<RetryManager.FailedAttempt>, p: RetryPolicy.RetryPolicy = policy) => {
  let state = RetryManager.initial
  const decisions: Array<RetryManager.Decision> = []
  for (const step of steps) {
    const decision = RetryManager.decide(p, state, step)
    decisions.push(decision)
    state = decision.state
  }
  return decisions
}

const waits = (decisions: ReadonlyArray<RetryManager.Decision>) =>
  decisions.map((d) => (d._tag === "Retry" ? seconds(d.wait) : d._tag))

const range = [0, 1, 2, 3]
const allStates = range.flatMap((a) =>
  range.flatMap((b) =>
    range.flatMap((c) =>
      range.map((d) => ({
        successiveCompleteFailures: a,
        totalCompleteFailures: b,
        successivePartialFailures: c,
        totalPartialFailures: d
      }))
    )
  )
)

describe("RetryManager", () => {
  describe("recordFailure", () => {
    it("a partial failure resets successive complete and counts both partial counters (all states)", () => {
      for (const s of allStates) {
        assert.deepStrictEqual(RetryManager.recordFailure(s, { partial: true }), {
          successiveCompleteFailures: 0,
          totalCompleteFailures: s.totalCompleteFailures,
          successivePartialFailures: s.successivePartialFailures + 1,
          totalPartialFailures: s.totalPartialFailures + 1
        })
      }
    })

    it("a complete failure resets successive partial and counts both complete counters (all states)", () => {
      for (const s of allStates) {
        assert.deepStrictEqual(RetryManager.recordFailure(s, { partial: false }), {
          successiveCompleteFailures: s.successiveCompleteFailures + 1,
          totalCompleteFailures: s.totalCompleteFailures + 1,
          successivePartialFailures: 0,
          totalPartialFailures: s.totalPartialFailures
        })
      }
    })

    it("the state is persistable: it round-trips through its Schema and rejects negative counters", () => {
      const state = RetryManager.recordFailure(RetryManager.initial, { partial: false })
      const encoded = Schema.encodeSync(RetryManager.RetryState)(state)
      assert.deepStrictEqual(Schema.decodeUnknownSync(RetryManager.RetryState)(JSON.parse(JSON.stringify(encoded))), state)
      const bad = { ...state, totalPartialFailures: -1 }
      assert.isTrue(Exit.isFailure(Schema.decodeUnknownExit(RetryManager.RetryState)(bad)))
    })
  })

  describe("shouldRetry", () => {
    const small: RetryPolicy.RetryPolicy = {
      ...policy,
      maxSuccessiveCompleteFailures: 2,
      maxTotalCompleteFailures: 3,
      maxSuccessivePartialFailures: 2,
      maxTotalPartialFailures: 3
    }

    it("is true exactly while all four counters are strictly below their limits (all states)", () => {
      for (const s of allStates) {
        const expected = s.successiveCompleteFailures < 2 && s.totalCompleteFailures < 3 &&
          s.successivePartialFailures < 2 && s.totalPartialFailures < 3
        assert.strictEqual(RetryManager.shouldRetry(small, s), expected, JSON.stringify(s))
        assert.strictEqual(RetryManager.limitReached(small, s) === undefined, expected)
      }
    })

    it("names the limit reached", () => {
      const at = (patch: Partial<RetryManager.RetryState>) => RetryManager.limitReached(small, { ...RetryManager.initial, ...patch })
      assert.strictEqual(at({ successiveCompleteFailures: 2 }), "maxSuccessiveCompleteFailures")
      assert.strictEqual(at({ totalCompleteFailures: 3 }), "maxTotalCompleteFailures")
      assert.strictEqual(at({ successivePartialFailures: 2 }), "maxSuccessivePartialFailures")
      assert.strictEqual(at({ totalPartialFailures: 3 }), "maxTotalPartialFailures")
      assert.isUndefined(at({}))
    })
  })

  describe("backoff", () => {
    it("follows successive complete failures and is zero otherwise (all states)", () => {
      for (const s of allStates) {
        const expected = s.successiveCompleteFailures > 0 ? 10 * 3 ** (s.successiveCompleteFailures - 1) : 0
        assert.strictEqual(seconds(RetryManager.backoff(policy, s)), expected)
      }
    })
  })

  describe("hasProgress", () => {
    it("is committed + rejected ≥ 1, missing counts as 0", () => {
      assert.isFalse(RetryManager.hasProgress(undefined))
      assert.isFalse(RetryManager.hasProgress({}))
      assert.isFalse(RetryManager.hasProgress({ recordsCommitted: 0, recordsRejected: 0 }))
      assert.isTrue(RetryManager.hasProgress({ recordsCommitted: 1 }))
      assert.isTrue(RetryManager.hasProgress({ recordsCommitted: 0, recordsRejected: 1 }))
    })
  })

  describe("decide", () => {
    it("fails on the 5th successive complete failure after waiting 10, 30, 90 and 270 s", () => {
      const decisions = run([C, C, C, C, C])
      assert.deepStrictEqual(waits(decisions), [10, 30, 90, 270, "Fail"])
      const last = decisions[4]
      assert(last?._tag === "Fail")
      assert.strictEqual(last.stoppedBy, "maxSuccessiveCompleteFailures")
      assert.include(last.reason, "Job failed after too many retries for connection pg_to_lake")
      assert.include(last.reason, "maxSuccessiveCompleteFailures")
      assert.deepStrictEqual(last.state, {
        successiveCompleteFailures: 5,
        totalCompleteFailures: 5,
        successivePartialFailures: 0,
        totalPartialFailures: 0
      })
    })

    it("a partial failure resets the backoff: C, C, P, C waits 10 s, 30 s, 0, 10 s", () => {
      const decisions = run([C, C, P, C])
      assert.deepStrictEqual(waits(decisions), [10, 30, 0, 10])
      assert.deepStrictEqual(decisions.map((d) => d.kind), ["complete", "complete", "partial", "complete"])
    })

    it("fails on the 20th partial failure, with no wait before", () => {
      const decisions = run(Array.from({ length: 20 }, () => P))
      assert.deepStrictEqual(waits(decisions), [...Array.from({ length: 19 }, () => 0), "Fail"])
      const last = decisions[19]
      assert(last?._tag === "Fail")
      assert.strictEqual(last.stoppedBy, "maxTotalPartialFailures")
    })

    it("fails on the 10th complete failure overall when partial failures break the streaks", () => {
      const steps = [C, C, C, C, P, C, C, C, C, P, C, C]
      const decisions = run(steps)
      assert.deepStrictEqual(waits(decisions), [10, 30, 90, 270, 0, 10, 30, 90, 270, 0, 10, "Fail"])
      const last = decisions[11]
      assert(last?._tag === "Fail")
      assert.strictEqual(last.stoppedBy, "maxTotalCompleteFailures")
    })

    it("a config_error as first failure fails at once with its message", () => {
      const config = { ...C, failureSummary: summary("config_error", "Invalid password for user sluice") }
      const decisions = run([config])
      const first = decisions[0]
      assert(first?._tag === "Fail")
      assert.strictEqual(first.stoppedBy, "config_error")
      assert.strictEqual(first.reason, "Invalid password for user sluice")
      assert.strictEqual(first.state.totalCompleteFailures, 1)
    })

    it("only the FIRST failure's type counts", () => {
      const later: AttemptFailureSummary = {
        failures: [...summary().failures, ...summary("config_error").failures]
      }
      assert.deepStrictEqual(waits(run([{ ...C, failureSummary: later }])), [10])
    })

    it("a config_error with progress also stops, recorded as partial", () => {
      const decisions = run([{ ...P, failureSummary: summary("config_error", "bad") }])
      assert(decisions[0]?._tag === "Fail")
      assert.strictEqual(decisions[0].kind, "partial")
    })
  })

  describe("runWithRetries", () => {
    it.effect("fails twice then succeeds, waiting 10 s then 30 s of test time", () =>
      Effect.gen(function*() {
        const attempts: Array<number> = []
        const backoffs: Array<[number, number]> = []
        const persisted: Array<RetryManager.RetryState> = []
        const fiber = yield* RetryManager.runWithRetries({
          policy,
          connectionName: "pg_to_lake",
          runAttempt: (n) =>
            Effect.sync(() => {
              attempts.push(n)
              return n < 2 ? RetryManager.failed(summary(), false) : RetryManager.succeeded("done")
            }),
          onDecision: (decision) => Effect.sync(() => void persisted.push(decision.state)),
          onBackoff: (wait, next) => Effect.sync(() => void backoffs.push([seconds(wait), next]))
        }).pipe(Effect.forkChild)

        yield* Effect.yieldNow
        assert.deepStrictEqual(attempts, [0])
        yield* TestClock.adjust("9 seconds")
        assert.deepStrictEqual(attempts, [0])
        assert.isUndefined(fiber.pollUnsafe())
        yield* TestClock.adjust("1 second")
        assert.deepStrictEqual(attempts, [0, 1])
        yield* TestClock.adjust("29 seconds")
        assert.deepStrictEqual(attempts, [0, 1])
        assert.isUndefined(fiber.pollUnsafe())
        yield* TestClock.adjust("1 second")

        const result = yield* Fiber.join(fiber)
        assert.deepStrictEqual(attempts, [0, 1, 2])
        assert.deepStrictEqual(backoffs, [[10, 1], [30, 2]])
        assert.deepStrictEqual(persisted.map((s) => s.successiveCompleteFailures), [1, 2])
        assert(result._tag === "Succeeded")
        assert.strictEqual(result.value, "done")
        assert.strictEqual(result.attempts, 3)
        assert.strictEqual(result.state.totalCompleteFailures, 2)
      }))

    it.effect("stops at the limit and returns the failure reason", () =>
      Effect.gen(function*() {
        const fiber = yield* RetryManager.runWithRetries({
          policy: { ...policy, maxSuccessiveCompleteFailures: 3 },
          connectionName: "pg_to_lake",
          runAttempt: () => Effect.succeed(RetryManager.failed(summary(), false))
        }).pipe(Effect.forkChild)
        yield* TestClock.adjust("40 seconds")
        const result = yield* Fiber.join(fiber)
        assert(result._tag === "Failed")
        assert.strictEqual(result.attempts, 3)
        assert.strictEqual(result.stoppedBy, "maxSuccessiveCompleteFailures")
        assert.include(result.reason, "pg_to_lake")
      }))

    it.effect("a config error ends after the first attempt without waiting", () =>
      Effect.gen(function*() {
        const result = yield* RetryManager.runWithRetries({
          policy,
          connectionName: "c",
          runAttempt: () => Effect.succeed(RetryManager.failed(summary("config_error", "bad key"), false))
        })
        assert(result._tag === "Failed")
        assert.strictEqual(result.attempts, 1)
        assert.strictEqual(result.reason, "bad key")
      }))

    it.effect("partial failures retry at once; a cancelled attempt ends the loop", () =>
      Effect.gen(function*() {
        const result = yield* RetryManager.runWithRetries({
          policy,
          connectionName: "c",
          firstAttemptNumber: 4,
          state: { ...RetryManager.initial, totalPartialFailures: 5 },
          runAttempt: (n) => Effect.succeed(n < 6 ? RetryManager.failed(summary(), true) : RetryManager.cancelled)
        })
        assert(result._tag === "Cancelled")
        assert.strictEqual(result.attempts, 3)
        assert.strictEqual(result.state.totalPartialFailures, 7)
      }))

    it.effect("interrupting the fiber during a wait stops the loop", () =>
      Effect.gen(function*() {
        let runs = 0
        const fiber = yield* RetryManager.runWithRetries({
          policy,
          connectionName: "c",
          runAttempt: () =>
            Effect.sync(() => {
              runs++
              return RetryManager.failed(summary(), false)
            })
        }).pipe(Effect.forkChild)
        yield* TestClock.adjust("5 seconds")
        yield* Fiber.interrupt(fiber)
        yield* TestClock.adjust("1 hour")
        assert.strictEqual(runs, 1)
      }))
  })
})
