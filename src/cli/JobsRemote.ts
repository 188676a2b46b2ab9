/**
 * `sluice jobs list|get|cancel|logs --server URL`: the same views as the local `jobs` command, read
 * through a server's API with the typed client (token from SLUICE_API_TOKEN).
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { AttemptNumber, JobId } from "../scheduler/Ids.ts"
import { JobConfigType } from "../scheduler/Job.ts"
import { JobStatus } from "../scheduler/JobStatus.ts"
import * as ApiClient from "./ApiClient.ts"
import { duration, summaryTable } from "./Progress.ts"

export interface RemoteOptions {
  readonly connection?: string | undefined
  readonly status?: string | undefined
  readonly type?: string | undefined
  readonly limit: number
  readonly cursor?: string | undefined
  readonly offset: number
  readonly json: boolean
}

const time = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 19)
const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)

const jobId = (text: string | undefined) => Schema.decodeUnknownEffect(JobId)(Number(text))

export const run = (sub: string, args: ReadonlyArray<string>, options: RemoteOptions) =>
  Effect.gen(function*() {
    const client = yield* ApiClient.SluiceClient
    if (sub === "list") {
      const page = yield* client.jobs.list({
        query: {
          limit: options.limit,
          ...(options.connection === undefined ? {} : { connection: options.connection }),
          ...(options.status === undefined ? {} : { status: yield* Schema.decodeUnknownEffect(JobStatus)(options.status) }),
          ...(options.type === undefined ? {} : { type: yield* Schema.decodeUnknownEffect(JobConfigType)(options.type) }),
          ...(options.cursor === undefined ? {} : { cursor: yield* jobId(options.cursor) })
        }
      })
      if (options.json) return (print(page), 0)
      for (const job of page.jobs) {
        process.stdout.write(`${String(job.id).padStart(5)}  ${job.configId.padEnd(16)} ${job.configType.padEnd(28)} ${job.status.padEnd(10)} ${time(job.createdAt)}  ${duration(job.updatedAt - job.createdAt)}\n`)
      }
      if (page.nextCursor !== undefined) process.stdout.write(`more: --cursor ${page.nextCursor}\n`)
      return 0
    }
    const id = yield* jobId(args[0])
    if (sub === "get" || sub === "cancel") {
      const info = sub === "get" ? yield* client.jobs.get({ params: { id } }) : yield* client.jobs.cancel({ params: { id } })
      if (options.json) return (print(info), 0)
      process.stdout.write(`job ${info.job.id}: ${info.job.configType} of ${info.job.configId}, ${info.job.status}\n`)
      for (const attempt of info.attempts) {
        process.stdout.write(`\nattempt ${attempt.attemptNumber}: ${attempt.status}\n`)
        for (const failure of attempt.failureSummary?.failures ?? []) {
          process.stdout.write(`  ${failure.failureOrigin} ${failure.failureType}: ${failure.externalMessage ?? failure.internalMessage ?? ""}\n`)
        }
        if (attempt.totalStats !== undefined) {
          process.stdout.write(`${summaryTable({ stats: attempt.totalStats, streamStats: attempt.streamStats.map((s) => ({ ...s, wasResumed: false })) }).replace(/^/gm, "  ")}\n`)
        }
      }
      return 0
    }
    const attempt = yield* Schema.decodeUnknownEffect(AttemptNumber)(Number(args[1] ?? 0))
    const page = yield* client.jobs.logs({ params: { id, attempt }, query: { offset: options.offset, limit: options.limit } })
    if (options.json) return (print(page), 0)
    for (const line of page.lines) process.stdout.write(`${time(line.at)} ${line.level.padEnd(5)} [${line.origin}] ${line.message}\n`)
    if (page.hasMore) process.stdout.write(`more: --offset ${page.nextOffset}\n`)
    return 0
  })
