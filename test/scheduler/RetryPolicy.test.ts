/**
 * RetryPolicy: defaults, env parsing and its errors, overrides, the backoff formula and the
 * complete-failure Schedule driven by TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Duration, Effect, Exit, Fiber, Schedule, Schema } from "effect"
import { TestClock } from "effect/testing"
import * as RetryPolicy from "../../src/scheduler/RetryPolicy.ts"

const seconds = (d: Duration.Duration) => Duration.toSeconds(d)

describe("RetryPolicy", () => {
  it("defaults are Airbyte's production values and validate", () => {
    assert.deepStrictEqual(RetryPolicy.defaults, {
      maxSuccessiveCompleteFailures: 5,
      maxTotalCompleteFailures: 10,
      maxSuccessivePartialFailures: 1000,
      maxTotalPartialFailures: 20,
      backoff: { minSeconds: 10, maxSeconds: 1800, base: 3 }
    })
    assert.deepStrictEqual(Schema.decodeUnknownSync(RetryPolicy.RetryPolicy)(RetryPolicy.defaults), RetryPolicy.defaults)
  })

  describe("fromEnv", () => {
    it.effect("no variables, or blank ones, give the defaults", () =>
      Effect.gen(function*() {
        assert.deepStrictEqual(yield* RetryPolicy.fromEnv({}), RetryPolicy.defaults)
        assert.deepStrictEqual(
          yield* RetryPolicy.fromEnv({ SYNC_JOB_RETRIES_COMPLETE_FAILURES_MAX_TOTAL: "  " }),
          RetryPolicy.defaults
        )
      }))

    it.effect("reads every variable", () =>
      Effect.gen(function*() {
        const policy = yield* RetryPolicy.fromEnv({
          SYNC_JOB_RETRIES_COMPLETE_FAILURES_MAX_SUCCESSIVE: "3",
          SYNC_JOB_RETRIES_COMPLETE_FAILURES_MAX_TOTAL: "7",
          SYNC_JOB_RETRIES_COMPLETE_FAILURES_BACKOFF_MIN_INTERVAL_S: " 5 ",
          SYNC_JOB_RETRIES_COMPLETE_FAILURES_BACKOFF_MAX_INTERVAL_S: "60",
          SYNC_JOB_RETRIES_COMPLETE_FAILURES_BACKOFF_BASE: "2",
          SYNC_JOB_RETRIES_PARTIAL_FAILURES_MAX_SUCCESSIVE: "100",
          SYNC_JOB_RETRIES_PARTIAL_FAILURES_MAX_TOTAL: "12",
          UNRELATED: "x"
        })
        assert.deepStrictEqual(policy, {
          maxSuccessiveCompleteFailures: 3,
          maxTotalCompleteFailures: 7,
          maxSuccessivePartialFailures: 100,
          maxTotalPartialFailures: 12,
          backoff: { minSeconds: 5, maxSeconds: 60, base: 2 }
        })
      }))

    it.effect.each([
      ["SYNC_JOB_RETRIES_COMPLETE_FAILURES_MAX_SUCCESSIVE", "five", "expected an integer"],
      ["SYNC_JOB_RETRIES_COMPLETE_FAILURES_MAX_TOTAL", "2.5", "expected an integer"],
      ["SYNC_JOB_RETRIES_PARTIAL_FAILURES_MAX_TOTAL", "0", "greater than or equal to 1"],
      ["SYNC_JOB_RETRIES_PARTIAL_FAILURES_MAX_SUCCESSIVE", "-1", "greater than or equal to 1"],
      ["SYNC_JOB_RETRIES_COMPLETE_FAILURES_BACKOFF_MIN_INTERVAL_S", "-10", "greater than or equal to 0"],
      ["SYNC_JOB_RETRIES_COMPLETE_FAILURES_BACKOFF_BASE", "0", "greater than or equal to 1"],
      ["SYNC_JOB_RETRIES_COMPLETE_FAILURES_BACKOFF_MAX_INTERVAL_S", "5", "at least minSeconds (10)"]
    ] as const)("%s=%s fails naming the variable", ([variable, value, reason]) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(RetryPolicy.fromEnv({ [variable]: value }))
        assert.strictEqual(error._tag, "InvalidRetrySetting")
        assert.strictEqual(error.setting, variable)
        assert.strictEqual(error.value, value)
        assert.include(error.reason, reason)
        assert.include(error.message, variable)
      }))
  })

  describe("withOverrides", () => {
    it.effect("replaces only the keys given", () =>
      Effect.gen(function*() {
        const policy = yield* RetryPolicy.withOverrides(RetryPolicy.defaults, {
          maxTotalPartialFailures: 3,
          backoff: { maxSeconds: 120 }
        })
        assert.deepStrictEqual(policy, {
          ...RetryPolicy.defaults,
          maxTotalPartialFailures: 3,
          backoff: { minSeconds: 10, maxSeconds: 120, base: 3 }
        })
        assert.deepStrictEqual(yield* RetryPolicy.withOverrides(RetryPolicy.defaults, {}), RetryPolicy.defaults)
      }))

    it.effect("a result that does not validate fails naming the config path", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          RetryPolicy.withOverrides(RetryPolicy.defaults, { backoff: { minSeconds: 4000 } })
        )
        assert.strictEqual(error.setting, "retry.backoff.maxSeconds")
        assert.strictEqual(error.value, "1800")
      }))

    it("the overrides Schema accepts partial blocks and rejects bad values", () => {
      const decode = Schema.decodeUnknownExit(RetryPolicy.RetryOverrides)
      assert.isTrue(Exit.isSuccess(decode({ backoff: { base: 2 } })))
      assert.isTrue(Exit.isFailure(decode({ maxSuccessiveCompleteFailures: 0 })))
      assert.isTrue(Exit.isFailure(decode({ backoff: { minSeconds: 1.5 } })))
    })
  })

  describe("backoffFor", () => {
    it("is min(minSeconds × base^(n−1), maxSeconds), zero below 1", () => {
      const waits = [-1, 0, 1, 2, 3, 4, 5, 6, 7, 1000].map((n) => seconds(RetryPolicy.backoffFor(RetryPolicy.defaults, n)))
      assert.deepStrictEqual(waits, [0, 0, 10, 30, 90, 270, 810, 1800, 1800, 1800])
    })

    it("is zero when minSeconds is zero", () => {
      const policy = { ...RetryPolicy.defaults, backoff: { minSeconds: 0, maxSeconds: 10, base: 3 } }
      assert.strictEqual(seconds(RetryPolicy.backoffFor(policy, 2000)), 0)
    })
  })

  describe("completeFailureBackoff", () => {
    it.effect("steps through 10 s, 30 s, 90 s, 270 s, 810 s, then 1800 s", () =>
      Effect.gen(function*() {
        const step = yield* Schedule.toStep(RetryPolicy.completeFailureBackoff(RetryPolicy.defaults))
        const delays: Array<number> = []
        for (let i = 0; i < 8; i++) {
          const [, delay] = yield* step(0, undefined)
          delays.push(seconds(delay))
        }
        assert.deepStrictEqual(delays, [10, 30, 90, 270, 810, 1800, 1800, 1800])
      }))

    it.effect("drives Effect.retry in test time", () =>
      Effect.gen(function*() {
        const runs: Array<number> = []
        const fiber = yield* Clock.currentTimeMillis.pipe(
          Effect.flatMap((now) => {
            runs.push(now / 1000)
            return Effect.fail("boom")
          }),
          Effect.retry(RetryPolicy.completeFailureBackoff(RetryPolicy.defaults).pipe(Schedule.upTo({ times: 6 }))),
          Effect.exit,
          Effect.forkChild
        )
        yield* TestClock.adjust("9 seconds")
        assert.deepStrictEqual(runs, [0])
        yield* TestClock.adjust("1 second")
        assert.deepStrictEqual(runs, [0, 10])
        yield* TestClock.adjust("29 seconds")
        assert.deepStrictEqual(runs, [0, 10])
        yield* TestClock.adjust("1 hour")
        assert.deepStrictEqual(runs, [0, 10, 40, 130, 400, 1210, 3010])
        assert.isTrue(Exit.isFailure(yield* Fiber.join(fiber)))
      }))
  })
})
