/**
 * `sluice jobs list [config] [--connection N] [--status S] [--limit N] [--json]` and
 * `sluice jobs get <id> [config] [--json]`: read the jobs of a config's store directly (the embedded
 * database in `.sluice/` beside the config, or SLUICE_DATABASE_URL).
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { existsSync, statSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { parseArgs } from "node:util"
import { JobId } from "../scheduler/Ids.ts"
import { toJobInfoRead } from "../scheduler/JobInfoRead.ts"
import { JobStatus } from "../scheduler/JobStatus.ts"
import { JobStore } from "../scheduler/JobStore.ts"
import { duration, summaryTable } from "./Progress.ts"
import * as Store from "./Store.ts"

export const JOBS_USAGE = "jobs list [config] [--connection NAME] [--status STATUS] [--limit N] [--json] | jobs get <id> [config] [--json]\n" +
  "       sluice jobs list|get <id>|cancel <id>|logs <id> [attempt] --server URL [--type T] [--cursor C] [--offset N] (token: SLUICE_API_TOKEN)"

/** The store of a config: `.sluice/` in the config file's directory (or in the given directory). */
const dataDirOf = (config: string | undefined): string => {
  const path = resolve(config ?? ".")
  const dir = existsSync(path) && statSync(path).isDirectory() ? path : dirname(path)
  return join(dir, ".sluice")
}

const time = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 19)

const list = (options: { readonly connection?: string | undefined; readonly status?: string | undefined; readonly limit: number; readonly json: boolean }) =>
  Effect.gen(function*() {
    const jobs = yield* JobStore
    const status = options.status === undefined ? undefined : [yield* Schema.decodeUnknownEffect(JobStatus)(options.status)]
    const page = yield* jobs.listJobs({
      limit: options.limit,
      ...(options.connection === undefined ? {} : { connection: options.connection }),
      ...(status === undefined ? {} : { status })
    })
    if (options.json) {
      process.stdout.write(`${JSON.stringify(page.jobs, null, 2)}\n`)
      return 0
    }
    if (page.jobs.length === 0) {
      process.stdout.write("no jobs\n")
      return 0
    }
    process.stdout.write(`${"id".padStart(5)}  ${"connection".padEnd(16)} ${"type".padEnd(6)} ${"status".padEnd(10)} ${"created".padEnd(19)}  took\n`)
    for (const job of page.jobs) {
      process.stdout.write(
        `${String(job.id).padStart(5)}  ${job.scope.padEnd(16)} ${job.configType.padEnd(6)} ${job.status.padEnd(10)} ${time(job.createdAt)}  ${duration(job.updatedAt - job.createdAt)}\n`
      )
    }
    return 0
  })

const get = (id: string, json: boolean) =>
  Effect.gen(function*() {
    const jobId = yield* Schema.decodeUnknownEffect(JobId)(Number(id))
    const info = yield* (yield* JobStore).getJob(jobId)
    if (json) {
      process.stdout.write(`${JSON.stringify(toJobInfoRead(info), null, 2)}\n`)
      return 0
    }
    const { job } = info
    process.stdout.write(`job ${job.id}: ${job.configType} of ${job.scope}, ${job.status} (created ${time(job.createdAt)})\n`)
    for (const attempt of info.attempts) {
      const took = attempt.endedAt === undefined ? "running" : duration(attempt.endedAt - attempt.createdAt)
      const transport = attempt.transport === undefined ? "" : `, ${attempt.transport.transport}`
      process.stdout.write(`\nattempt ${attempt.attemptNumber}: ${attempt.status} (${took}${transport})\n`)
      for (const failure of attempt.failureSummary?.failures ?? []) {
        process.stdout.write(`  ${failure.failureOrigin} ${failure.failureType}: ${failure.externalMessage ?? failure.internalMessage ?? ""}\n`)
      }
      if (attempt.totalStats !== undefined) {
        process.stdout.write(`${summaryTable({ stats: attempt.totalStats, streamStats: attempt.streamStats }).replace(/^/gm, "  ")}\n`)
      }
    }
    return 0
  })

export const jobsCommand = async (args: ReadonlyArray<string>): Promise<number> => {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      connection: { type: "string" },
      status: { type: "string" },
      limit: { type: "string", default: "20" },
      json: { type: "boolean", default: false },
      server: { type: "string" },
      type: { type: "string" },
      cursor: { type: "string" },
      offset: { type: "string", default: "0" }
    }
  })
  const [sub, ...rest] = positionals
  if (values.server !== undefined && sub !== undefined && ["list", "get", "cancel", "logs"].includes(sub)) {
    const server = values.server
    const remote = await import("./JobsRemote.ts")
    const client = await import("./ApiClient.ts")
    return Effect.runPromise(
      remote.run(sub, rest, {
        connection: values.connection,
        status: values.status,
        type: values.type,
        cursor: values.cursor,
        limit: Number(values.limit),
        offset: Number(values.offset),
        json: values.json
      }).pipe(Effect.provide(client.layer(server, process.env["SLUICE_API_TOKEN"])), Store.reportErrors)
    )
  }
  if (sub === "list") {
    return Effect.runPromise(
      list({ connection: values.connection, status: values.status, limit: Number(values.limit), json: values.json }).pipe(
        Effect.provide(Store.layer(dataDirOf(rest[0]))),
        Store.reportErrors
      )
    )
  }
  if (sub === "get" && rest[0] !== undefined) {
    return Effect.runPromise(get(rest[0], values.json).pipe(Effect.provide(Store.layer(dataDirOf(rest[1]))), Store.reportErrors))
  }
  process.stderr.write(`usage: sluice ${JOBS_USAGE}\n`)
  return 2
}
