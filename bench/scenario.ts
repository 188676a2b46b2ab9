/**
 * One benchmark scenario in its own process, so its peak RSS and CPU time are its own: faker →
 * dev-null (or `--destination jsonl`) through the replication engine, with the transport and middleware given on the command
 * line. Connector processes run under /usr/bin/time (when present) to measure their CPU and RSS.
 * Prints one JSON object on stdout.
 */
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { availableParallelism, tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import * as Runtime from "../src/engine/ConnectorRuntime.ts"
import type { IpcOptions } from "../src/engine/IpcOptions.ts"
import { fullIpc } from "../src/engine/IpcOptions.ts"
import type * as M from "../src/engine/protocol/AirbyteMessage.ts"
import { replicate } from "../src/engine/replication/Replication.ts"
import { builtinConnectorCommand, CONNECTOR_NODE_FLAGS } from "../src/plugins/builtin.ts"
import { makeMiddlewares } from "../src/plugins/middleware.ts"

const { values } = parseArgs({
  options: {
    records: { type: "string", default: "1000000" },
    transport: { type: "string", default: "stdio" },
    serialization: { type: "string", default: "PROTOBUF" },
    middleware: { type: "string", default: "" },
    /**
     * `faker` (faker → dev-null) or `replay`: bench/baseline.ts's protocol source and sink, which
     * replay pre-built lines and count them at almost no cost, so what is measured is Sluice's relay.
     */
    endpoints: { type: "string", default: "faker" },
    /** The destination after faker: `dev-null` (counts, reads envelopes only) or `jsonl` (files in a temp dir). */
    destination: { type: "string", default: "dev-null" },
    /** Write a V8 CPU profile of each connector process to this directory (`node --cpu-prof`). */
    profile: { type: "string" }
  }
})
const records = Number(values.records)
const TIME = "/usr/bin/time"
const timed = existsSync(TIME)

const dir = await mkdtemp(join(tmpdir(), "sluice-bench-"))
const timeFile = (role: string) => join(dir, `${role}.time`)
const profiled = (argv: ReadonlyArray<string>): ReadonlyArray<string> =>
  values.profile === undefined ? argv : [argv[0]!, "--cpu-prof", `--cpu-prof-dir=${values.profile}`, ...argv.slice(1)]
const baselineScript = fileURLToPath(new URL("./baseline.ts", import.meta.url))
const commandOf = (id: string): ReadonlyArray<string> =>
  id.startsWith("protocol-") ? [process.execPath, ...CONNECTOR_NODE_FLAGS, baselineScript, id] : builtinConnectorCommand(id)
const connector = (id: string, role: string, ipc: IpcOptions | undefined) => ({
  command: timed
    ? [TIME, "-f", "%U %S %M", "-o", timeFile(role), ...profiled(commandOf(id))]
    : profiled(commandOf(id)),
  ...(ipc === undefined ? {} : { ipc })
})
/** Restricts the declared serializations so the decider picks the one under test. */
const ipcFor = (serialization: string): IpcOptions => ({
  dataChannel: {
    ...fullIpc.dataChannel,
    supportedSerialization: [serialization === "JSONL" ? "JSONL" : serialization === "SLUICE_PROTOBUF" ? "SLUICE_PROTOBUF" : "PROTOBUF"]
  }
})

const readTime = async (role: string) => {
  if (!timed) return undefined
  const text = await readFile(timeFile(role), "utf8").catch(() => "")
  const last = text.trim().split("\n").pop() ?? ""
  const [user, system, maxKb] = last.split(" ").map(Number)
  return user === undefined || system === undefined || maxKb === undefined || !Number.isFinite(user)
    ? undefined
    : { cpuSeconds: user + system, peakRssMb: maxKb / 1024 }
}

const program = Effect.gen(function*() {
  const replay = values.endpoints === "replay"
  if (replay && values.transport !== "stdio") throw new Error("--endpoints replay measures the stdio relay: use --transport stdio")
  if (values.destination !== "dev-null" && values.destination !== "jsonl") {
    throw new Error(`--destination ${values.destination}: expected dev-null or jsonl`)
  }
  const ipc = ipcFor(values.serialization)
  const source = replay ? connector("protocol-source", "source", undefined) : connector("faker", "source", ipc)
  const catalogOf = yield* Runtime.discover({ role: "source", connector: { command: builtinConnectorCommand("faker") } }, { count: 1 })
  const streams = catalogOf.streams.filter((s) => s.name === "users")
  const catalog: M.ConfiguredAirbyteCatalog = {
    streams: streams.map((stream) => ({ stream, sync_mode: "full_refresh", destination_sync_mode: "append" }))
  }
  const mapperConfigs = values.middleware === "" ? [] : [
    { type: "pii-hash", stream: "users", fields: ["email"] },
    { type: "rename", stream: "users", field: "last_name", to: "surname" }
  ]
  const built = yield* makeMiddlewares(mapperConfigs, { catalog, connectionId: "bench" })
  const started = Date.now()
  const result = yield* replicate({
    source: { connector: source, config: replay ? { records } : { count: records, seed: 1, records_per_state: 10_000 } },
    destination: replay
      ? { connector: connector("protocol-sink", "destination", undefined), config: {} }
      : values.destination === "jsonl"
      ? { connector: connector("jsonl", "destination", ipc), config: { path: join(dir, "out") } }
      : { connector: connector("dev-null", "destination", ipc), config: {} },
    catalog,
    middlewares: built.middlewares,
    transport: values.transport === "socket" ? "socket" : "stdio"
  }, availableParallelism())
  const seconds = (Date.now() - started) / 1000
  const usage = process.resourceUsage()
  return {
    status: result.status,
    failures: result.failures.map((f) => f.externalMessage ?? f.internalMessage),
    transport: result.architecture.transport,
    serialization: result.architecture.serialization,
    socketCount: "socketCount" in result.architecture ? result.architecture.socketCount : undefined,
    records: result.stats.recordsCommitted,
    bytes: result.stats.bytesCommitted,
    seconds,
    sluice: { cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6, peakRssMb: usage.maxRSS / 1024 },
    source: yield* Effect.promise(() => readTime("source")),
    destination: yield* Effect.promise(() => readTime("destination"))
  }
})

const output = await Effect.runPromise(program).finally(() => rm(dir, { recursive: true, force: true }))
process.stdout.write(JSON.stringify(output) + "\n")
