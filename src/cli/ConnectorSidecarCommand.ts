/**
 * `sluice connector-sidecar --role source|destination|connector [--dir DIR]`: the entry point of a
 * connector container in a workload pod (the shared volume from SLUICE_SHARED_DIR unless --dir).
 * Runs the worker's invocations (src/engine/sidecar/ConnectorSidecar.ts); a built-in connector's
 * argv runs with this installation's `sluice`. SIGTERM/SIGINT stop the running connector and exit.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { basename } from "node:path"
import { parseArgs } from "node:util"
import * as ConnectorSidecar from "../engine/sidecar/ConnectorSidecar.ts"
import { builtinConnectorCommand, findBuiltinConnector } from "../plugins/builtin.ts"
import { InvalidServeSetting, positiveFromEnv } from "./ServeSettings.ts"

const ROLES = ["source", "destination", "connector"]

/**
 * `[node, …flags, …/bin/sluice.js, "connector", <built-in id>, …rest]` (what the server resolves a
 * built-in to, with its own paths) becomes this installation's command; anything else is kept.
 */
export const localArgv = (argv: ReadonlyArray<string>): ReadonlyArray<string> => {
  const at = argv.findIndex((arg, i) => basename(arg) === "sluice.js" && argv[i + 1] === "connector")
  const id = at < 0 ? undefined : argv[at + 2]
  if (id === undefined || findBuiltinConnector(id) === undefined) return argv
  return [...builtinConnectorCommand(id), ...argv.slice(at + 3)]
}

export const connectorSidecarCommand = async (args: ReadonlyArray<string>): Promise<number> => {
  const { values } = parseArgs({ args: [...args], options: { role: { type: "string" }, dir: { type: "string" } } })
  const dir = values.dir ?? process.env["SLUICE_SHARED_DIR"]
  if (values.role === undefined || !ROLES.includes(values.role) || dir === undefined || dir === "") {
    process.stderr.write("usage: sluice connector-sidecar --role source|destination|connector [--dir DIR] (default: SLUICE_SHARED_DIR)\n")
    return 2
  }
  const invalid = (error: InvalidServeSetting) => {
    process.stderr.write(`connector-sidecar: ${error.message}\n`)
    return 2
  }
  const startTimeoutMs = positiveFromEnv(process.env, "SLUICE_SIDECAR_START_TIMEOUT_SECONDS", 1000)
  if (startTimeoutMs instanceof InvalidServeSetting) return invalid(startTimeoutMs)
  const workerTimeoutMs = positiveFromEnv(process.env, "SLUICE_SIDECAR_WORKER_TIMEOUT_SECONDS", 1000)
  if (workerTimeoutMs instanceof InvalidServeSetting) return invalid(workerTimeoutMs)
  const fiber = Effect.runFork(ConnectorSidecar.run({
    dir,
    container: values.role,
    resolveArgv: localArgv,
    startTimeoutMs,
    workerTimeoutMs,
    onMessage: (line) => process.stderr.write(`${line}\n`)
  }))
  const onSignal = () => Effect.runFork(Fiber.interrupt(fiber))
  process.once("SIGTERM", onSignal)
  process.once("SIGINT", onSignal)
  const exit = await Effect.runPromise(Fiber.await(fiber))
  const code = Exit.isSuccess(exit) ? exit.value : Exit.hasInterrupts(exit) ? 143 : 1
  // An open of a named pipe whose worker vanished can block a thread forever: do not wait for it.
  setTimeout(() => process.exit(code), 200).unref()
  return code
}
