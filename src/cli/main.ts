/**
 * The `sluice` command: dispatches sub-commands. The composition root of the CLI.
 */
import * as Effect from "effect/Effect"
import { runConnector } from "../engine/kit/ConnectorMain.ts"
import { builtinConnectorIds, findBuiltinConnector } from "../plugins/builtin.ts"

const USAGE = `usage: sluice <command>

commands:
  sync [config] [--connection NAME] [--transport auto|stdio|socket] [--json]
      run one sync job of a connection in a config file (default ./sluice.config.ts), with retries
  serve [config] [--host 127.0.0.1] [--port 8080]
      the control plane: HTTP API under /api/v1, job runner, launcher, monitor and schedules
  worker --workload ID --server URL [--connectors local|sidecar]
      run one workload for a server (started by its launcher; token in SLUICE_WORKLOAD_TOKEN); in a pod
      (--connectors sidecar) its connectors run in the pod's connector containers (SLUICE_SHARED_DIR)
  jobs list [config] [--connection NAME] [--status STATUS] [--limit N] [--json]
  jobs get <id> [config] [--json]
      the jobs of a config's store (.sluice/ beside the config, or SLUICE_DATABASE_URL)
  connector <id> <spec|check|discover|read|write> [--config F] [--catalog F] [--state F]
      run a built-in connector as an Airbyte-protocol process (ids: ${builtinConnectorIds().join(", ")})
  connector-sidecar --role source|destination|connector [--dir DIR]
      a connector container of a workload pod: runs the worker's connector invocations from the shared
      directory (default SLUICE_SHARED_DIR)
`

const connectorCommand = async (args: ReadonlyArray<string>): Promise<number> => {
  const [id, ...rest] = args
  const connector = id === undefined ? undefined : findBuiltinConnector(id)
  if (connector === undefined) {
    process.stderr.write(`unknown connector '${id ?? ""}': built-in connectors are ${builtinConnectorIds().join(", ")}\n`)
    return 2
  }
  return Effect.runPromise(runConnector(connector, rest, process))
}

export const main = async (argv: ReadonlyArray<string>): Promise<number> => {
  const [command, ...rest] = argv
  switch (command) {
    case "connector":
      return connectorCommand(rest)
    case "connector-sidecar":
      return (await import("./ConnectorSidecarCommand.ts")).connectorSidecarCommand(rest)
    case "jobs":
      return (await import("./JobsCommand.ts")).jobsCommand(rest)
    case "serve":
      return (await import("./ServeCommand.ts")).serveCommand(rest)
    case "worker":
      return (await import("./WorkerCommand.ts")).workerCommand(rest)
    case "sync":
      // Loaded on demand: connector processes start often and need none of this.
      return (await import("./SyncCommand.ts")).syncCommand(rest)
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE)
      return command === undefined ? 2 : 0
    default:
      process.stderr.write(`unknown command '${command}'\n${USAGE}`)
      return 2
  }
}
