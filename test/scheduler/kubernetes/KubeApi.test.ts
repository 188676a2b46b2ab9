/**
 * KubeApi: which failures are transient, the 403 message, and retries on the Schedule (TestClock).
 */
import { ApiException } from "@kubernetes/client-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import * as KubeApi from "../../../src/scheduler/kubernetes/KubeApi.ts"

const apiError = (code: number, message: string) => new ApiException(code, "HTTP error", JSON.stringify({ kind: "Status", message }), {})

describe("KubeApi", () => {
  it("classifies answers and dropped connections", () => {
    for (const [error, status, retryable] of [
      [apiError(429, "slow down"), 429, true],
      [apiError(503, "unavailable"), 503, true],
      [apiError(403, "forbidden"), 403, false],
      [apiError(422, "invalid"), 422, false],
      [new Error("socket hang up"), undefined, true]
    ] as const) {
      const classified = KubeApi.toKubeApiError("create pod ns/p", error)
      assert.strictEqual(classified.status, status)
      assert.strictEqual(classified.retryable, retryable)
    }
    const forbidden = KubeApi.toKubeApiError("list pods in ns", apiError(403, "pods is forbidden: User \"x\" cannot list"))
    assert.match(forbidden.message, /denied list pods in ns \(403 Forbidden\): pods is forbidden.*pods create\/get\/list\/watch\/delete/)
  })

  it.effect("retries transient failures, not others", () =>
    Effect.gen(function*() {
      let calls = 0
      const flaky = KubeApi.call("get pod ns/p", () => {
        calls++
        return calls < 3 ? Promise.reject(apiError(500, "etcd timeout")) : Promise.resolve("ok")
      })
      const fiber = yield* Effect.forkChild(flaky)
      yield* TestClock.adjust(60_000)
      assert.strictEqual(yield* Fiber.join(fiber), "ok")
      assert.strictEqual(calls, 3)
      let denied = 0
      const error = yield* Effect.flip(KubeApi.call("create pod ns/p", () => {
        denied++
        return Promise.reject(apiError(403, "forbidden"))
      }))
      assert.strictEqual(error.status, 403)
      assert.strictEqual(denied, 1)
    }))
})
