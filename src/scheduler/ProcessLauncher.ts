/**
 * The process launcher: each workload's worker is a child process `sluice worker --workload <id>
 * --server <url>` with its token in SLUICE_WORKLOAD_TOKEN, in its own process group so that stopping
 * it reaches what the worker forked. Imports node:child_process, `effect` and the engine's process groups.
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { spawn } from "node:child_process"
import { groupHasMembers, killGroup } from "../engine/ProcessGroup.ts"
import { LaunchFailed, Launcher, type LaunchRequest, type RunningWorker } from "./Launcher.ts"

export interface ProcessLauncherOptions {
  /** argv that runs `sluice` (e.g. [process.execPath, ...flags, bin/sluice.js]). */
  readonly sluice: ReadonlyArray<string>
  /** Extra environment for workers. */
  readonly env?: Readonly<Record<string, string>>
  /** Where a worker's stderr goes (default: inherited). */
  readonly onOutput?: (workloadId: string, line: string) => void
}


export const make = (options: ProcessLauncherOptions) =>
  Launcher.of({
    kind: "process",
    launch: (request: LaunchRequest) =>
      Effect.gen(function*() {
        const [command, ...args] = options.sluice
        if (command === undefined) return yield* new LaunchFailed({ message: "no sluice command configured" })
        const exited = yield* Deferred.make<number | null>()
        const child = yield* Effect.try({
          try: () =>
            spawn(command, [...args, "worker", "--workload", request.workload.id, "--server", request.serverUrl], {
              detached: true,
              stdio: ["ignore", "ignore", options.onOutput === undefined ? "inherit" : "pipe"],
              env: { ...process.env, ...options.env, SLUICE_WORKLOAD_TOKEN: request.token }
            }),
          catch: (error) => new LaunchFailed({ message: `cannot start the worker: ${String(error)}` })
        })
        child.on("exit", (code) => Deferred.doneUnsafe(exited, Effect.succeed(code)))
        child.on("error", () => Deferred.doneUnsafe(exited, Effect.succeed(null)))
        if (options.onOutput !== undefined && child.stderr !== null) {
          const onOutput = options.onOutput
          child.stderr.setEncoding("utf8").on("data", (text: string) => {
            for (const line of text.split("\n")) if (line.length > 0) onOutput(request.workload.id, line)
          })
        }
        const pid = child.pid
        if (pid === undefined) return yield* new LaunchFailed({ message: "the worker process did not start" })
        const exit = Deferred.await(exited)
        const worker: RunningWorker = {
          id: `pid ${pid}`,
          exit,
          stop: (graceMs) =>
            Effect.gen(function*() {
              if (child.exitCode === null && child.signalCode === null) {
                killGroup(pid, "SIGTERM")
                const done = yield* Effect.timeoutOption(exit, graceMs)
                if (done._tag === "None") killGroup(pid, "SIGKILL")
              }
              yield* exit
              // Anything left in the worker's group dies with it (connectors run in groups of their own
              // and are stopped by the worker).
              if (groupHasMembers(pid)) killGroup(pid, "SIGKILL")
            })
        }
        return worker
      })
  })

export const layer = (options: ProcessLauncherOptions) => Layer.succeed(Launcher, make(options))
