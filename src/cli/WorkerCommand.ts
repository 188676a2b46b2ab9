/**
 * `sluice worker --workload <id> --server <url>` (token in SLUICE_WORKLOAD_TOKEN): the process a
 * launcher starts for one workload. Fetches its input from the API, reports running, heartbeats
 * (410: the workload ended — stop the attempt and its connectors; no successful heartbeat within the
 * timeout: stop too), runs the attempt (`runSyncAttempt`, or check/discover/spec), reports committed
 * states, stats and logs as it goes, then success or failure with the attempt's end. With
 * `--connectors sidecar` (a Kubernetes pod) its connectors run in the pod's connector containers
 * through the shared directory SLUICE_SHARED_DIR instead of as its child processes.
 */
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { availableParallelism } from "node:os"
import { parseArgs } from "node:util"
import type { WorkerConnector, WorkloadInput } from "../api/ApiModels.ts"
import { configureCatalog } from "../config/Catalog.ts"
import { StreamConfig } from "../config/Config.ts"
import type { ConnectorFailure } from "../engine/ConnectorFailure.ts"
import { ConnectorHost } from "../engine/ConnectorHost.ts"
import type { ConnectorDefinition } from "../engine/ConnectorProcess.ts"
import * as Runtime from "../engine/ConnectorRuntime.ts"
import * as SidecarHost from "../engine/sidecar/SidecarHost.ts"
import * as FailureReason from "../engine/replication/FailureReason.ts"
import { makeMiddlewares } from "../plugins/middleware.ts"
import type { AttemptEnd } from "../scheduler/AttemptEnd.ts"
import type { LogLine } from "../scheduler/AttemptLog.ts"
import { AttemptSetupFailed, replicationLimits, runSyncAttempt } from "../scheduler/SyncAttempt.ts"
import { WorkloadId } from "../scheduler/Workload.ts"
import * as ApiClient from "./ApiClient.ts"
import { InvalidServeSetting, positiveFromEnv } from "./ServeSettings.ts"

const Streams = Schema.Record(Schema.String, StreamConfig)

const definitionOf = (connector: WorkerConnector): ConnectorDefinition => ({
  command: connector.command,
  ...(connector.ipc === undefined ? {} : { ipc: connector.ipc }),
  ...(connector.env === undefined ? {} : { env: connector.env }),
  ...(connector.cwd === undefined ? {} : { cwd: connector.cwd })
})

const configError = (path: string, message: string) =>
  new AttemptSetupFailed({
    reason: FailureReason.make({ failureOrigin: "replication", failureType: "config_error", externalMessage: `${path}: ${message}`, retryable: false, timestamp: Date.now() })
  })

const isSuccess = (end: AttemptEnd) =>
  end._tag === "Replicated" ? end.status === "completed" : end._tag === "CommandDone" && end.failures.length === 0

/** Runs check, discover or spec: one connector command, its output or its failure. */
const runCommand = (input: WorkloadInput, logs: Array<LogLine>) =>
  Effect.gen(function*() {
    const role = input.target ?? "source"
    const connector = definitionOf(role === "source" ? input.source : input.destination)
    const options = {
      role,
      connector,
      jobId: String(input.jobId),
      attempt: input.attemptNumber,
      onLog: (entry: { readonly timestamp: number; readonly level: LogLine["level"]; readonly origin: LogLine["origin"]; readonly message: string }) =>
        logs.push({ at: entry.timestamp, level: entry.level, origin: entry.origin, message: entry.message })
    }
    const config = role === "source" ? input.source.config : input.destination.config
    const output: Effect.Effect<Readonly<Record<string, unknown>>, ConnectorFailure> = input.type === "check"
      ? Effect.map(Runtime.check(options, config), (status) => ({ connectionStatus: status }))
      : input.type === "discover"
      ? Effect.map(Runtime.discover(options, config), (catalog) => ({ catalog }))
      : Effect.map(Runtime.spec(options), (spec) => ({ spec }))
    return yield* output.pipe(
      Effect.map((value): AttemptEnd => ({ _tag: "CommandDone", output: JSON.parse(JSON.stringify(value)), failures: [] })),
      Effect.catch((failure) => Effect.succeed<AttemptEnd>({ _tag: "CommandDone", failures: [FailureReason.fromConnectorFailure(failure, Date.now())] }))
    )
  })

/** The sidecar time limits (SLUICE_SIDECAR_*_TIMEOUT_SECONDS), unset for the defaults. */
const sidecarTimeouts = () => {
  const read = (variable: string) => positiveFromEnv(process.env, variable, 1000)
  const startTimeoutMs = read("SLUICE_SIDECAR_START_TIMEOUT_SECONDS")
  if (startTimeoutMs instanceof InvalidServeSetting) return startTimeoutMs
  const pickupTimeoutMs = read("SLUICE_SIDECAR_PICKUP_TIMEOUT_SECONDS")
  if (pickupTimeoutMs instanceof InvalidServeSetting) return pickupTimeoutMs
  const heartbeatTimeoutMs = read("SLUICE_SIDECAR_HEARTBEAT_TIMEOUT_SECONDS")
  if (heartbeatTimeoutMs instanceof InvalidServeSetting) return heartbeatTimeoutMs
  return { startTimeoutMs, pickupTimeoutMs, heartbeatTimeoutMs }
}
type SidecarTimeouts = Exclude<ReturnType<typeof sidecarTimeouts>, InvalidServeSetting>

/**
 * In a pod: the connectors' host is the pod's connector containers — `source` and `destination` for a
 * sync, `connector` for check, discover and spec — heart-beating and `done` in the shared directory.
 */
const sidecarHost = (sidecars: { readonly dir: string; readonly timeouts: SidecarTimeouts }, type: WorkloadInput["type"]) =>
  SidecarHost.make({ dir: sidecars.dir, container: (role) => type === "sync" ? role : "connector", ...sidecars.timeouts })

/**
 * The CPUs the socket count derives from (2 × CPUs, reference §6.4): in a pod the launcher sets
 * SLUICE_SOCKET_COUNT from the connector containers' CPU limits, so that count is used.
 */
const socketCpus = (): number => {
  const count = Number(process.env["SLUICE_SOCKET_COUNT"])
  return Number.isInteger(count) && count >= 2 ? count / 2 : availableParallelism()
}

const program = (workload: string, sidecars: { readonly dir: string; readonly timeouts: SidecarTimeouts } | undefined) =>
  Effect.gen(function*() {
    const client = yield* ApiClient.SluiceClient
    const params = { id: WorkloadId.make(workload) }
    const input = yield* client.workloads.input({ params })
    const host = sidecars === undefined ? undefined : yield* sidecarHost(sidecars, input.type)
    yield* client.workloads.running({ params })
    const stop = yield* Deferred.make<void>()
    let stopped: "gone" | "lost" | undefined
    let lastOk = yield* Clock.currentTimeMillis
    const beat = client.workloads.heartbeat({ params }).pipe(
      Effect.tap(() => Clock.currentTimeMillis.pipe(Effect.map((now) => (lastOk = now)))),
      Effect.catch((error) =>
        Effect.gen(function*() {
          if (error._tag === "WorkloadGone") {
            stopped = "gone"
            return yield* Deferred.succeed(stop, undefined)
          }
          const now = yield* Clock.currentTimeMillis
          if (now - lastOk > input.heartbeatTimeoutMs) {
            stopped = "lost"
            yield* Deferred.succeed(stop, undefined)
          }
        })
      )
    )
    yield* beat.pipe(Effect.repeat(Schedule.spaced(input.heartbeatIntervalMs)), Effect.forkScoped)

    const logs: Array<LogLine> = []
    const work: Effect.Effect<AttemptEnd> = input.type === "sync"
      ? runSyncAttempt({
        jobId: input.jobId,
        attemptNumber: input.attemptNumber,
        source: { connector: definitionOf(input.source), config: input.source.config },
        destination: { connector: definitionOf(input.destination), config: input.destination.config },
        state: input.state,
        configureCatalog: (discovered) =>
          Schema.decodeUnknownEffect(Schema.UndefinedOr(Streams))(input.streams).pipe(
            Effect.mapError((error) => configError("streams", error.message)),
            Effect.flatMap((streams) => configureCatalog(discovered, streams).pipe(Effect.mapError((error) => configError("streams", error.message))))
          ),
        makeMiddlewares: (catalog) =>
          makeMiddlewares((input.mappers ?? []).map((m) => ({ ...m, type: String(m["type"]) })), { catalog, connectionId: input.connection }).pipe(
            Effect.map((built) => built.middlewares),
            Effect.mapError((error) => configError(error.path, error.message))
          ),
        transport: input.transport,
        cpus: socketCpus(),
        limits: replicationLimits(input),
        cancel: Deferred.await(stop)
      }, {
        commitState: (state) => client.workloads.state({ params, payload: { state } }),
        writeStats: (stats, streamStats) => client.workloads.stats({ params, payload: { stats, streamStats } }),
        appendLogs: (lines) => client.workloads.logs({ params, payload: { lines } }).pipe(Effect.ignore)
      })
      : runCommand(input, logs).pipe(Effect.raceFirst(Effect.as(Deferred.await(stop), { _tag: "CommandDone", failures: [] } as AttemptEnd)))
    const end = yield* (host === undefined ? work : Effect.provideService(work, ConnectorHost, host))
    if (logs.length > 0) yield* client.workloads.logs({ params, payload: { lines: logs } }).pipe(Effect.ignore)
    if (stopped !== undefined) {
      process.stderr.write(`worker ${workload}: stopped (${stopped === "gone" ? "the workload has ended" : "no heartbeat got through"})\n`)
      return 3
    }
    const report = isSuccess(end) ? client.workloads.success({ params, payload: { end } }) : client.workloads.failure({ params, payload: { end } })
    yield* report.pipe(Effect.catchTag("WorkloadGone", () => Effect.void))
    return isSuccess(end) ? 0 : 1
  }).pipe(Effect.scoped)

export const workerCommand = async (args: ReadonlyArray<string>): Promise<number> => {
  const { values } = parseArgs({
    args: [...args],
    options: { workload: { type: "string" }, server: { type: "string" }, connectors: { type: "string", default: "local" } }
  })
  const sharedDir = process.env["SLUICE_SHARED_DIR"]
  const sidecar = values.connectors === "sidecar"
  if (values.workload === undefined || values.server === undefined || !["local", "sidecar"].includes(values.connectors) || (sidecar && (sharedDir ?? "") === "")) {
    process.stderr.write("usage: sluice worker --workload ID --server URL [--connectors local|sidecar] (token in SLUICE_WORKLOAD_TOKEN; sidecar: the shared directory in SLUICE_SHARED_DIR)\n")
    return 2
  }
  const workload = values.workload
  const timeouts = sidecarTimeouts()
  if (timeouts instanceof InvalidServeSetting) {
    process.stderr.write(`worker ${workload}: ${timeouts.message}\n`)
    return 2
  }
  const sidecars = sidecar && sharedDir !== undefined ? { dir: sharedDir, timeouts } : undefined
  const fiber = Effect.runFork(program(workload, sidecars).pipe(Effect.provide(ApiClient.layer(values.server, process.env["SLUICE_WORKLOAD_TOKEN"]))))
  const onSignal = () => Effect.runFork(Fiber.interrupt(fiber))
  process.once("SIGTERM", onSignal)
  process.once("SIGINT", onSignal)
  const exit = await Effect.runPromise(Fiber.await(fiber))
  if (Exit.isSuccess(exit)) return exit.value
  process.stderr.write(`worker ${workload}: ${String(Exit.isFailure(exit) ? exit.cause : "")}\n`)
  return 1
}
