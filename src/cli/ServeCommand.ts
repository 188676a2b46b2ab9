/**
 * `sluice serve <config> [--host H] [--port P]`: the control plane in one process — the HTTP API
 * (/api/v1), the job runner, the launch loop (process launcher, per-type slots), the monitor and
 * crons — on the embedded store beside the config or on PostgreSQL (SLUICE_DATABASE_URL; several
 * servers may share it). Connections of the config are upserted at start. SIGINT/SIGTERM: stop
 * taking work, let workers finish for the grace period, then cancel them; no process is left.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import { HttpRouter } from "effect/http"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { randomBytes } from "node:crypto"
import { hostname } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { ApiSettings } from "../api/handlers/ApiSettings.ts"
import * as ApiServer from "../api/handlers/Server.ts"
import { loadConfig } from "../config/Loader.ts"
import { redactSecrets } from "../config/Secret.ts"
import { NODE_FLAGS, sluiceBin } from "../plugins/builtin.ts"
import * as Crons from "../scheduler/Crons.ts"
import { ConnectionStore } from "../scheduler/ConnectionStore.ts"
import { ConnectionId } from "../scheduler/Ids.ts"
import * as JobRunner from "../scheduler/JobRunner.ts"
import { JobStore } from "../scheduler/JobStore.ts"
import { Launcher } from "../scheduler/Launcher.ts"
import * as KubernetesSettings from "../scheduler/kubernetes/KubernetesSettings.ts"
import * as ProcessLauncher from "../scheduler/ProcessLauncher.ts"
import { DataplaneId } from "../scheduler/Workload.ts"
import * as WorkloadLauncher from "../scheduler/WorkloadLauncher.ts"
import { WorkloadStore } from "../scheduler/WorkloadStore.ts"
import * as ConnectionSpecsLive from "./ConnectionSpecsLive.ts"
import { launcherFromEnv, replicationSettingsFromEnv, settingsFromEnv } from "./ServeSettings.ts"
import * as Store from "./Store.ts"

const VERSION = "0.1.0"
const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"])

const program = (options: { readonly configPath: string; readonly host: string; readonly port: number; readonly stop: Deferred.Deferred<void> }) =>
  Effect.gen(function*() {
    const settings = yield* settingsFromEnv(process.env)
    const replication = yield* replicationSettingsFromEnv(process.env)
    const launcherKind = yield* launcherFromEnv(process.env)
    const kube = launcherKind === "kubernetes" ? yield* KubernetesSettings.settingsFromEnv(process.env) : undefined
    const apiToken = process.env["SLUICE_API_TOKEN"]
    if (!LOOPBACK.has(options.host) && (apiToken === undefined || apiToken === "")) {
      process.stderr.write(`error: refusing to listen on ${options.host} without SLUICE_API_TOKEN: set a token, or listen on 127.0.0.1\n`)
      return 2
    }
    const loaded = yield* loadConfig(options.configPath)
    const dataplane = DataplaneId.make(`${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`)
    const stores = Store.serverLayer(join(loaded.directory, ".sluice"))
    const server = createServer()
    const base = Layer.mergeAll(
      ConnectionSpecsLive.layer({ baseDir: loaded.directory }),
      Layer.succeed(ApiSettings, {
        apiToken: apiToken === undefined || apiToken === "" ? undefined : Redacted.make(apiToken),
        dataplane,
        version: VERSION,
        heartbeatIntervalMs: settings.heartbeatIntervalMs,
        heartbeatTimeoutMs: settings.heartbeatTimeoutMs,
        replication
      })
    )
    const runner = JobRunner.layer({ dataplane, claimTimeoutMs: settings.claimTimeoutMs, watchIntervalMs: settings.pollIntervalMs })
    const app = runner.pipe(Layer.provideMerge(base), Layer.provideMerge(stores))
    const http = HttpRouter.serve(ApiServer.routes, { disableLogger: true, disableListenLog: true, middleware: ApiServer.logFailures }).pipe(
      Layer.provide(NodeHttpServer.layer(() => server, { port: options.port, host: options.host }))
    )
    const context = yield* Layer.build(http.pipe(Layer.provideMerge(app)))
    const port = (server.address() as AddressInfo).port
    const url = `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`
    const workerUrl = `http://127.0.0.1:${port}`

    const work = yield* Scope.make()
    const loop = yield* Effect.gen(function*() {
      const connections = yield* ConnectionStore
      const jobs = yield* JobStore
      const workloads = yield* WorkloadStore
      for (const [name, connection] of Object.entries(loaded.config.connections)) {
        yield* connections.upsert(ConnectionId.make(name), JSON.parse(JSON.stringify(redactSecrets(connection))))
      }
      if (Store.ownsStore()) {
        // Everything active on the embedded store was left by a previous run of this server: its
        // workers may still run (they live in process groups of their own) and get 410 from now on.
        const left = yield* workloads.failActive(undefined, {
          source: "startup",
          reason: "The server restarted while the workload was active; a worker left by its previous run is stopped."
        })
        for (const workload of left) yield* Effect.logWarning(`workload ${workload.id} was left active by a previous run: failed`)
        for (const connection of yield* connections.list) yield* jobs.failNonTerminalJobs(connection.name)
      }
      yield* Crons.start({
        dataplane,
        version: VERSION,
        monitorIntervalMs: settings.monitorIntervalMs,
        limits: { nonSyncTimeoutMs: settings.nonSyncTimeoutMs, syncTimeoutMs: settings.syncTimeoutMs },
        dataplaneHeartbeatMs: settings.dataplaneHeartbeatMs,
        // On shared PostgreSQL a live server adopts the jobs of a dead one; the embedded store's
        // start-up clean-up handles those of a previous run.
        ...(Store.ownsStore() ? {} : { takeoverAfterMs: settings.takeoverAfterMs }),
        heartbeatCleanupMs: 3_600_000,
        heartbeatRetentionMs: 24 * 3_600_000,
        scheduleIntervalMs: settings.scheduleIntervalMs
      })
      const launcher = kube === undefined
        ? ProcessLauncher.make({ sluice: [process.execPath, ...NODE_FLAGS, sluiceBin()] })
        : yield* KubernetesSettings.make(kube)
      return yield* WorkloadLauncher.make({
        dataplane,
        serverUrl: kube?.serverUrl ?? workerUrl,
        maxSyncWorkers: settings.maxSyncWorkers,
        maxCheckWorkers: settings.maxCheckWorkers,
        pollIntervalMs: settings.pollIntervalMs,
        redeliveryMs: settings.redeliveryMs,
        launchTimeoutMs: settings.launchTimeoutMs,
        startTimeoutMs: settings.startTimeoutMs,
        stopGraceMs: 10_000
      }).pipe(Effect.provideService(Launcher, launcher))
    }).pipe(Scope.provide(work), Effect.provide(context))

    process.stdout.write(`sluice serve: listening on ${url} (API ${url}/api/v1, dataplane ${dataplane})\n`)
    yield* Deferred.await(options.stop)
    process.stderr.write(`sluice serve: shutting down (workers get ${settings.shutdownGraceMs / 1000} s to finish)\n`)
    yield* loop.drain(settings.shutdownGraceMs)
    yield* Scope.close(work, Exit.void)
    return 0
  }).pipe(Effect.scoped)

export const serveCommand = async (args: ReadonlyArray<string>): Promise<number> => {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { host: { type: "string", default: "127.0.0.1" }, port: { type: "string", default: "8080" } }
  })
  const port = Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port must be a port number, got ${JSON.stringify(values.port)}\n`)
    return 2
  }
  const stop = Effect.runSync(Deferred.make<void>())
  const onSignal = () => {
    process.once("SIGINT", () => process.exit(130))
    Effect.runSync(Deferred.succeed(stop, undefined))
  }
  process.once("SIGINT", onSignal)
  process.once("SIGTERM", onSignal)
  return Effect.runPromise(
    program({ configPath: positionals[0] ?? ".", host: values.host, port, stop }).pipe(Store.reportErrors)
  )
}
