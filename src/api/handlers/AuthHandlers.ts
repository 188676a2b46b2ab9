/**
 * The bearer-token checks: ApiAuth compares with SLUICE_API_TOKEN in constant time (no token
 * configured: every request passes; `serve` allows that on loopback only); WorkerAuth accepts the
 * API token (admin) or a workload token, found by its SHA-256 in the store.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { createHash, timingSafeEqual } from "node:crypto"
import { WorkloadStore } from "../../scheduler/WorkloadStore.ts"
import { Unauthorized } from "../ApiErrors.ts"
import { ApiAuth, CurrentCaller, WorkerAuth } from "../Auth.ts"
import { ApiSettings } from "./ApiSettings.ts"

const digest = (text: string) => createHash("sha256").update(text).digest()
const sameToken = (given: string, expected: string) => timingSafeEqual(digest(given), digest(expected))

const missing = new Unauthorized({ message: "missing or invalid bearer token" })

export const apiAuthLayer = Layer.effect(
  ApiAuth,
  Effect.gen(function*() {
    const settings = yield* ApiSettings
    return ApiAuth.of({
      bearer: (httpEffect, { credential }) =>
        settings.apiToken === undefined || sameToken(Redacted.value(credential), Redacted.value(settings.apiToken))
          ? httpEffect
          : Effect.fail(missing)
    })
  })
)

export const workerAuthLayer = Layer.effect(
  WorkerAuth,
  Effect.gen(function*() {
    const settings = yield* ApiSettings
    const store = yield* WorkloadStore
    return WorkerAuth.of({
      bearer: Effect.fn("WorkerAuth.bearer")(function*(httpEffect, { credential }) {
        const token = Redacted.value(credential)
        if (settings.apiToken !== undefined && sameToken(token, Redacted.value(settings.apiToken))) {
          return yield* Effect.provideService(httpEffect, CurrentCaller, { admin: true })
        }
        const workload = token.length === 0
          ? undefined
          : yield* store.authenticate(createHash("sha256").update(token).digest("hex")).pipe(Effect.orDie)
        if (workload === undefined) return yield* missing
        return yield* Effect.provideService(httpEffect, CurrentCaller, { workload })
      })
    })
  })
)
