/**
 * Handlers of the jobs group: list (filters, cursor paging), get (JobInfoRead), get light, cancel
 * through the JobRunner, and an attempt's logs by offset.
 */
import * as Effect from "effect/Effect"
import { HttpApiBuilder } from "effect/http-api"
import { toJobInfoRead, toJobRead } from "../../scheduler/JobInfoRead.ts"
import { JobStore } from "../../scheduler/JobStore.ts"
import { JobRunner } from "../../scheduler/JobRunner.ts"
import { Api } from "../Api.ts"

const DEFAULT_PAGE = 20
const DEFAULT_LOG_PAGE = 1000

export const jobsHandlers = HttpApiBuilder.group(
  Api,
  "jobs",
  Effect.fn(function*(handlers) {
    const jobs = yield* JobStore
    const runner = yield* JobRunner
    return handlers.handleAll({
      list: ({ query }) =>
        jobs.listJobs({
          limit: query.limit ?? DEFAULT_PAGE,
          ...(query.connection === undefined ? {} : { connection: query.connection }),
          ...(query.status === undefined ? {} : { status: [query.status] }),
          ...(query.type === undefined ? {} : { configType: query.type }),
          ...(query.cursor === undefined ? {} : { cursor: query.cursor })
        }).pipe(
          Effect.map((page) => ({ jobs: page.jobs.map(toJobRead), ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }) })),
          Effect.orDie
        ),
      get: ({ params }) => jobs.getJob(params.id).pipe(Effect.map(toJobInfoRead), Effect.catchTag("StoreError", Effect.die)),
      getLight: ({ params }) =>
        jobs.getJob(params.id).pipe(Effect.map((info) => ({ job: toJobRead(info.job) })), Effect.catchTag("StoreError", Effect.die)),
      cancel: ({ params }) => runner.cancel(params.id).pipe(Effect.map(toJobInfoRead), Effect.catchTag("StoreError", Effect.die)),
      logs: ({ params, query }) =>
        jobs.readLogs(params.id, params.attempt, query.offset ?? 0, query.limit ?? DEFAULT_LOG_PAGE).pipe(
          Effect.catchTag("StoreError", Effect.die)
        )
    })
  })
)
