/**
 * The serve middleware that logs failed requests: a defect and a server interruption are logged with
 * method, path, status and cause; a success and a client abort are not.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as References from "effect/References"
import { HttpServerError, HttpServerRequest, HttpServerResponse } from "effect/http"
import { logFailures } from "../../src/api/handlers/Server.ts"

const run = (app: Effect.Effect<HttpServerResponse.HttpServerResponse, unknown>) => {
  const logged: Array<{ level: string; message: string; status: unknown }> = []
  const collector = Logger.make((options) => {
    const parts = Array.isArray(options.message) ? options.message : [options.message]
    logged.push({
      level: options.logLevel,
      message: [...parts.map(String), Cause.pretty(options.cause)].join(" "),
      status: options.fiber.getRef(References.CurrentLogAnnotations)["http.status"]
    })
  })
  const request = HttpServerRequest.fromWeb(new Request("http://localhost/api/v1/jobs/7"))
  return logFailures(app).pipe(
    Effect.provideService(HttpServerRequest.HttpServerRequest, request),
    Effect.provide(Logger.layer([collector])),
    Effect.forkChild,
    Effect.flatMap(Fiber.await),
    Effect.map((exit) => ({ exit, logged }))
  )
}

describe("logFailures", () => {
  it.effect("logs a defect as a 500 with its cause, and passes the failure on", () =>
    Effect.gen(function*() {
      const { exit, logged } = yield* run(Effect.die(new Error("store row does not decode")))
      assert.strictEqual(exit._tag, "Failure")
      assert.strictEqual(logged.length, 1)
      assert.strictEqual(logged[0]!.level, "Error")
      assert.strictEqual(logged[0]!.status, 500)
      assert.include(logged[0]!.message, "GET /api/v1/jobs/7 answered 500")
      assert.include(logged[0]!.message, "store row does not decode")
    }))

  it.effect("logs an interruption by the server as a 503", () =>
    Effect.gen(function*() {
      const { logged } = yield* run(Effect.interrupt)
      assert.deepStrictEqual(logged.map((l) => [l.level, l.status]), [["Error", 503]])
    }))

  it.effect("logs nothing for a response or a client abort", () =>
    Effect.gen(function*() {
      const ok = yield* run(Effect.succeed(HttpServerResponse.empty({ status: 404 })))
      assert.strictEqual(ok.exit._tag, "Success")
      const clientAbort = Effect.withFiber<HttpServerResponse.HttpServerResponse>((fiber) => {
        fiber.interruptUnsafe(undefined, HttpServerError.ClientAbort.annotation)
        return Effect.never
      })
      const aborted = yield* run(clientAbort)
      assert.strictEqual(aborted.exit._tag, "Failure")
      assert.deepStrictEqual([...ok.logged, ...aborted.logged], [])
    }))
})
