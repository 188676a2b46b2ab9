/**
 * Handlers of the connections group: CRUD over ConnectionStore with specs validated and redacted by
 * ConnectionSpecs, and sync/check/discover/spec through the JobRunner. The declared errors go out
 * with their status; a store failure is a 500.
 */
import * as Effect from "effect/Effect"
import { HttpApiBuilder } from "effect/http-api"
import { ConnectionSpecs, type SpecInvalid } from "../../scheduler/ConnectionSpecs.ts"
import { ConnectionStore } from "../../scheduler/ConnectionStore.ts"
import { type ConnectorJobs, JobRunner } from "../../scheduler/JobRunner.ts"
import { toJobRead } from "../../scheduler/JobInfoRead.ts"
import { Api } from "../Api.ts"
import { ConnectionExists, ConnectionInvalid } from "../ApiErrors.ts"

const invalid = (error: SpecInvalid) => new ConnectionInvalid({ message: error.message, issues: error.issues })

export const connectionsHandlers = HttpApiBuilder.group(
  Api,
  "connections",
  Effect.fn(function*(handlers) {
    const connections = yield* ConnectionStore
    const specs = yield* ConnectionSpecs
    const runner = yield* JobRunner
    const connectorJobs = (jobs: ConnectorJobs) => ({ source: toJobRead(jobs.source), destination: toJobRead(jobs.destination) })
    // The declared errors go out with their status; a store failure is a defect (500).
    return handlers.handleAll({
      list: () => Effect.orDie(connections.list),
      get: ({ params }) => connections.get(params.name).pipe(Effect.catchTag("StoreError", Effect.die)),
      create: Effect.fn(function*({ payload }) {
        // Only "not found" means it is free; a store failure must not be taken for it (500, nothing written).
        const existing = yield* connections.get(payload.name).pipe(
          Effect.catchTag("StoreError", Effect.die),
          Effect.option
        )
        if (existing._tag === "Some") return yield* new ConnectionExists({ connection: payload.name })
        const spec = yield* specs.validate(payload.name, payload.spec).pipe(Effect.mapError(invalid))
        return yield* Effect.orDie(connections.upsert(payload.name, spec))
      }),
      update: Effect.fn(function*({ params, payload }) {
        yield* connections.get(params.name).pipe(Effect.catchTag("StoreError", Effect.die))
        const spec = yield* specs.validate(params.name, payload.spec).pipe(Effect.mapError(invalid))
        return yield* Effect.orDie(connections.upsert(params.name, spec))
      }),
      delete: ({ params }) => connections.delete(params.name).pipe(Effect.catchTag("StoreError", Effect.die)),
      sync: ({ params }) => Effect.map(runner.sync(params.name), toJobRead).pipe(Effect.catchTag("StoreError", Effect.die)),
      check: ({ params }) => Effect.map(runner.check(params.name), connectorJobs).pipe(Effect.catchTag("StoreError", Effect.die)),
      discover: ({ params }) => Effect.map(runner.discover(params.name), toJobRead).pipe(Effect.catchTag("StoreError", Effect.die)),
      spec: ({ params }) => Effect.map(runner.spec(params.name), connectorJobs).pipe(Effect.catchTag("StoreError", Effect.die))
    })
  })
)
