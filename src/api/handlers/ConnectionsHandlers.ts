/**
 * Handlers of the connections group: CRUD over ConnectionStore with specs validated and redacted by
 * ConnectionSpecs, and sync/check/discover through the JobRunner.
 */
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { ConnectionSpecs, type SpecInvalid } from "../../scheduler/ConnectionSpecs.ts"
import { ConnectionStore } from "../../scheduler/ConnectionStore.ts"
import { JobRunner } from "../../scheduler/JobRunner.ts"
import { ActiveJobExists, ConnectionNotFound } from "../../scheduler/StoreErrors.ts"
import { toJobRead } from "../../scheduler/JobInfoRead.ts"
import { Api } from "../Api.ts"
import { ConnectionExists, ConnectionInvalid } from "../ApiErrors.ts"

const invalid = (error: SpecInvalid) => new ConnectionInvalid({ message: error.message, issues: error.issues })

/** Keeps the declared errors, turns everything else into a defect (500). */
const only = <T extends string>(...tags: ReadonlyArray<T>) =>
<A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, Extract<E, { readonly _tag: T }>, R> =>
  Effect.catch(self, (error) =>
    typeof error === "object" && error !== null && "_tag" in error && tags.includes(error._tag as T)
      ? Effect.fail(error as Extract<E, { readonly _tag: T }>)
      : Effect.die(error))

export const connectionsHandlers = HttpApiBuilder.group(
  Api,
  "connections",
  Effect.fn(function*(handlers) {
    const connections = yield* ConnectionStore
    const specs = yield* ConnectionSpecs
    const runner = yield* JobRunner
    const activeOf = (error: unknown) =>
      error instanceof ActiveJobExists || error instanceof ConnectionNotFound ? Effect.fail(error) : Effect.die(error)
    return handlers.handleAll({
      list: () => Effect.orDie(connections.list),
      get: ({ params }) => connections.get(params.name).pipe(only("ConnectionNotFound")),
      create: Effect.fn(function*({ payload }) {
        const existing = yield* connections.get(payload.name).pipe(Effect.option, Effect.orDie)
        if (existing._tag === "Some") return yield* new ConnectionExists({ connection: payload.name })
        const spec = yield* specs.validate(payload.name, payload.spec).pipe(Effect.mapError(invalid))
        return yield* Effect.orDie(connections.upsert(payload.name, spec))
      }),
      update: Effect.fn(function*({ params, payload }) {
        yield* connections.get(params.name).pipe(only("ConnectionNotFound"))
        const spec = yield* specs.validate(params.name, payload.spec).pipe(Effect.mapError(invalid))
        return yield* Effect.orDie(connections.upsert(params.name, spec))
      }),
      delete: ({ params }) => connections.delete(params.name).pipe(only("ConnectionNotFound")),
      sync: ({ params }) => runner.sync(params.name).pipe(Effect.map(toJobRead), Effect.catch(activeOf)),
      check: ({ params }) =>
        runner.check(params.name).pipe(
          Effect.map((jobs) => ({ source: toJobRead(jobs.source), destination: toJobRead(jobs.destination) })),
          Effect.catch((error) => error instanceof ConnectionNotFound ? Effect.fail(error) : Effect.die(error))
        ),
      discover: ({ params }) =>
        runner.discover(params.name).pipe(
          Effect.map(toJobRead),
          Effect.catch((error) => error instanceof ConnectionNotFound ? Effect.fail(error) : Effect.die(error))
        )
    })
  })
)
