/**
 * `sluice sync <config> [--connection N] [--transport auto|stdio|socket] [--json]`: one sync job on the
 * embedded store (or PostgreSQL with SLUICE_DATABASE_URL), with a progress display, backoff waits
 * shown, a per-stream table at the end, and Ctrl-C cancelling the job. Composition root of a sync.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Schema from "effect/Schema"
import { availableParallelism } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { configureCatalog } from "../config/Catalog.ts"
import { resolveConnector } from "../config/ConnectorResolver.ts"
import { loadConfig, resolveConnection } from "../config/Loader.ts"
import { redactSecrets } from "../config/Secret.ts"
import type { TransportPreference } from "../engine/replication/Architecture.ts"
import * as FailureReason from "../engine/replication/FailureReason.ts"
import { makeMiddlewares } from "../plugins/middleware.ts"
import { ConnectionId } from "../scheduler/Ids.ts"
import { toJobInfoRead } from "../scheduler/JobInfoRead.ts"
import * as RetryPolicy from "../scheduler/RetryPolicy.ts"
import { replicationLimits } from "../scheduler/SyncAttempt.ts"
import { AttemptSetupFailed, runSyncJob } from "../scheduler/SyncJob.ts"
import * as Store from "./Store.ts"
import { duration, makeProgressDisplay, summaryTable } from "./Progress.ts"
import { replicationSettingsFromEnv } from "./ServeSettings.ts"

const TRANSPORTS: ReadonlyArray<TransportPreference> = ["auto", "stdio", "socket"]

const configError = (path: string, message: string) =>
  new AttemptSetupFailed({
    reason: FailureReason.make({
      failureOrigin: "replication",
      failureType: "config_error",
      externalMessage: `${path}: ${message}`,
      retryable: false,
      timestamp: Date.now()
    })
  })

const program = (options: {
  readonly configPath: string
  readonly connection: string | undefined
  readonly transport: TransportPreference | undefined
  readonly json: boolean
}) =>
  Effect.gen(function*() {
    const loaded = yield* loadConfig(options.configPath)
    const { name, connection } = yield* resolveConnection(loaded.config, options.connection)
    const path = `connections.${name}`
    const source = yield* resolveConnector(connection.source, { baseDir: loaded.directory, path: `${path}.source` })
    const destination = yield* resolveConnector(connection.destination, { baseDir: loaded.directory, path: `${path}.destination` })
    const policy = yield* RetryPolicy.fromEnv(process.env).pipe(Effect.flatMap((p) => RetryPolicy.withOverrides(p, connection.retry ?? {})))
    const spec = redactSecrets(connection, { values: [...source.secretValues, ...destination.secretValues] })
    const display = makeProgressDisplay(process.stderr)
    const say = (text: string) => (options.json ? process.stderr.write(`${text}\n`) : display.message(text))

    const jobLayer = Store.layer(join(loaded.directory, ".sluice"))
    const started = Date.now()
    const { info, outcome } = yield* runSyncJob({
      connection: Schema.decodeSync(ConnectionId)(name),
      spec: JSON.parse(JSON.stringify(spec)),
      source: { connector: source.definition, config: source.config },
      destination: { connector: destination.definition, config: destination.config },
      configureCatalog: (discovered) =>
        configureCatalog(discovered, connection.streams, { path }).pipe(
          Effect.mapError((error) => configError(path, error.message))
        ),
      makeMiddlewares: (catalog) =>
        makeMiddlewares((connection.mappers ?? []).map((m) => ({ ...m, type: String(m["type"]) })), { catalog, connectionId: name }).pipe(
          Effect.map((built) => built.middlewares),
          Effect.mapError((error) => configError(`${path}.${error.path}`, error.message))
        ),
      transport: options.transport ?? connection.transport ?? "auto",
      policy,
      failStaleJobs: Store.ownsStore(),
      cpus: availableParallelism(),
      limits: replicationLimits(yield* replicationSettingsFromEnv(process.env)),
      events: {
        onJobCreated: (jobId) => say(`sync ${name}: job ${jobId} (${loaded.path})`),
        onAttemptStart: (n) => {
          if (n > 0) say(`attempt ${n} started`)
        },
        onAttemptEnd: (n, report) => {
          display.done()
          if (report.status === "completed") return
          for (const failure of report.failures) {
            say(`attempt ${n} ${report.status}: ${failure.failureOrigin} ${failure.failureType}: ${failure.externalMessage ?? failure.internalMessage ?? ""}`)
          }
        },
        onBackoff: (wait, next) =>
          say(Duration.toMillis(wait) === 0 ? `retrying now (attempt ${next}, the last attempt made progress)` : `waiting ${Duration.format(wait)} before attempt ${next}…`),
        onProgress: (progress) => {
          if (!options.json) display.update(progress)
        },
        onLog: (entry) => {
          if (entry.level === "ERROR" || entry.level === "FATAL" || entry.level === "WARN") say(`[${entry.origin}] ${entry.level} ${entry.message}`)
        }
      }
    }).pipe(Effect.provide(jobLayer))
    display.done()
    if (options.json) {
      process.stdout.write(`${JSON.stringify(toJobInfoRead(info), null, 2)}\n`)
    } else {
      const last = info.attempts[info.attempts.length - 1]
      if (last !== undefined && last.totalStats !== undefined) {
        process.stdout.write(`\n${summaryTable({ stats: last.totalStats, streamStats: last.streamStats })}\n`)
        if (last.transport !== undefined) process.stdout.write(`transport: ${last.transport.transport} (${last.transport.reason})\n`)
      }
      const attempts = `${info.attempts.length} attempt${info.attempts.length === 1 ? "" : "s"}`
      const reason = outcome._tag === "Failed" ? `: ${outcome.reason}` : ""
      process.stdout.write(`\njob ${info.job.id} ${info.job.status} after ${attempts} in ${duration(Date.now() - started)}${reason}\n`)
    }
    return info.job.status === "succeeded" ? 0 : info.job.status === "cancelled" ? 130 : 1
  })

/** Runs the command; Ctrl-C cancels the job (a second one exits at once). */
export const syncCommand = async (args: ReadonlyArray<string>): Promise<number> => {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { connection: { type: "string" }, transport: { type: "string" }, json: { type: "boolean", default: false } }
  })
  const transport = values.transport as TransportPreference | undefined
  if (transport !== undefined && !TRANSPORTS.includes(transport)) {
    process.stderr.write(`--transport must be one of ${TRANSPORTS.join(", ")}, got ${JSON.stringify(values.transport)}\n`)
    return 2
  }
  const fiber = Effect.runFork(program({
    configPath: positionals[0] ?? ".",
    connection: values.connection,
    transport,
    json: values.json
  }).pipe(Store.reportErrors))
  const onSigint = () => {
    process.stderr.write("\ncancelling the sync (Ctrl-C again to exit at once)…\n")
    process.once("SIGINT", () => process.exit(130))
    Effect.runFork(Fiber.interrupt(fiber))
  }
  process.once("SIGINT", onSigint)
  const exit = await Effect.runPromise(Fiber.await(fiber))
  process.off("SIGINT", onSigint)
  if (Exit.isSuccess(exit)) return exit.value
  process.stderr.write("sync cancelled\n")
  return 130
}

