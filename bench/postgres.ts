/**
 * `npx node bench/postgres.ts [--rows N] [--url postgres://…]`: the postgres connectors through the
 * replication engine with real connector processes — faker `users` → postgres (COPY and multi-row
 * INSERT, stdio and socket) and the loaded table → dev-null (stdio and socket), next to faker →
 * dev-null as the baseline of the machine's speed at the time. Each load goes to a
 * fresh schema, dropped afterwards. Prints one JSON object (rows/s per scenario, and the published
 * anchors it is compared with: Airbyte pg → pg 28.7 k rows/s, Sling 284 k rows/s).
 */
import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import { existsSync } from "node:fs"
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { availableParallelism, tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import pg from "pg"
import * as Runtime from "../src/engine/ConnectorRuntime.ts"
import { fullIpc } from "../src/engine/IpcOptions.ts"
import type * as M from "../src/engine/protocol/AirbyteMessage.ts"
import { replicate } from "../src/engine/replication/Replication.ts"
import { builtinConnectorCommand } from "../src/plugins/builtin.ts"
import { LOAD_METHOD_ENV } from "../src/plugins/postgres/PostgresDestination.ts"

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "200000" },
    url: { type: "string", default: process.env["SLUICE_TEST_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/test" }
  }
})
const rows = Number(values.rows)
const url = new URL(values.url)
const connection = {
  host: url.hostname,
  port: url.port === "" ? 5432 : Number(url.port),
  database: decodeURIComponent(url.pathname.slice(1)),
  user: decodeURIComponent(url.username),
  ...(url.password === "" ? {} : { password: decodeURIComponent(url.password) }),
  ssl_mode: "disable" as const
}

type Transport = "stdio" | "socket"
type Method = "copy" | "insert"

interface Scenario {
  readonly name: string
  readonly direction: "faker → postgres" | "postgres → dev-null" | "faker → dev-null"
  readonly transport: Transport
  readonly method?: Method
}

const SCENARIOS: ReadonlyArray<Scenario> = [
  // The engine and faker alone, to read the others against this machine's speed at the time.
  { name: "baseline-stdio", direction: "faker → dev-null", transport: "stdio" },
  { name: "baseline-socket", direction: "faker → dev-null", transport: "socket" },
  { name: "load-copy-stdio", direction: "faker → postgres", transport: "stdio", method: "copy" },
  { name: "load-copy-socket", direction: "faker → postgres", transport: "socket", method: "copy" },
  { name: "load-insert-stdio", direction: "faker → postgres", transport: "stdio", method: "insert" },
  { name: "load-insert-socket", direction: "faker → postgres", transport: "socket", method: "insert" },
  { name: "unload-stdio", direction: "postgres → dev-null", transport: "stdio" },
  { name: "unload-socket", direction: "postgres → dev-null", transport: "socket" }
]

const admin = new pg.Client({ connectionString: values.url })
await admin.connect()
const schema = `sluice_bench_${randomBytes(4).toString("hex")}`

// Connector processes run under /usr/bin/time (when present): CPU seconds and peak RSS of each side.
const TIME = "/usr/bin/time"
const timed = existsSync(TIME)
const timeDir = await mkdtemp(join(tmpdir(), "sluice-bench-pg-"))
const timeFile = (role: string) => join(timeDir, `${role}.time`)

const connector = (id: string, env?: Readonly<Record<string, string>>, role?: string) => ({
  command: timed && role !== undefined ? [TIME, "-f", "%U %S %M", "-o", timeFile(role), ...builtinConnectorCommand(id)] : builtinConnectorCommand(id),
  ipc: fullIpc,
  ...(env === undefined ? {} : { env })
})

const usageOf = (role: string) =>
  Effect.promise(async () => {
    if (!timed) return undefined
    const [user, system, maxKb] = (await readFile(timeFile(role), "utf8").catch(() => "")).trim().split("\n").pop()?.split(" ").map(Number) ?? []
    return user === undefined || system === undefined || maxKb === undefined || !Number.isFinite(user)
      ? undefined
      : { cpuSeconds: Math.round((user + system) * 100) / 100, peakRssMb: Math.round(maxKb / 1024) }
  })

const fakerUsers = Effect.map(Runtime.discover({ role: "source", connector: connector("faker") }, { count: 1 }), (catalog) =>
  catalog.streams.filter((s) => s.name === "users"))

const configured = (streams: ReadonlyArray<M.AirbyteStream>): M.ConfiguredAirbyteCatalog => ({
  streams: streams.map((stream) => ({ stream, sync_mode: "full_refresh", destination_sync_mode: "append" }))
})

const run = (scenario: Scenario) =>
  Effect.gen(function*() {
    const fromFaker = scenario.direction !== "postgres → dev-null"
    const toPostgres = scenario.direction === "faker → postgres"
    if (toPostgres) yield* Effect.promise(() => admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`))
    const catalog = fromFaker
      ? configured(yield* fakerUsers)
      : configured((yield* Runtime.discover({ role: "source", connector: connector("postgres-source") }, { ...connection, schemas: [schema] })).streams)
    const started = performance.now()
    const result = yield* replicate({
      source: fromFaker
        ? { connector: connector("faker", undefined, "source"), config: { count: rows, seed: 1, records_per_state: 10_000 } }
        : { connector: connector("postgres-source", undefined, "source"), config: { ...connection, schemas: [schema] } },
      destination: toPostgres
        ? { connector: connector("postgres-destination", { [LOAD_METHOD_ENV]: scenario.method ?? "copy" }, "destination"), config: { ...connection, schema } }
        : { connector: connector("dev-null", undefined, "destination"), config: {} },
      catalog,
      transport: scenario.transport
    }, availableParallelism())
    const seconds = (performance.now() - started) / 1000
    if (result.status !== "completed") throw new Error(`${scenario.name}: ${result.failures.map((f) => f.externalMessage ?? f.internalMessage).join("; ")}`)
    const committed = result.stats.recordsCommitted
    return {
      ...scenario,
      rows: committed,
      seconds: Math.round(seconds * 100) / 100,
      rowsPerSecond: Math.round(committed / seconds),
      mbPerSecond: Math.round(result.stats.bytesCommitted / seconds / 1e5) / 10,
      source: yield* usageOf("source"),
      destination: yield* usageOf("destination")
    }
  })

const program = Effect.gen(function*() {
  const results = []
  // Each unload reads the table the last load (COPY over socket, then the INSERT ones) left behind.
  for (const scenario of SCENARIOS) {
    process.stderr.write(`running ${scenario.name} (${rows} rows)…\n`)
    const result = yield* run(scenario)
    process.stderr.write(`  ${result.rowsPerSecond} rows/s in ${result.seconds} s; CPU s source ${result.source?.cpuSeconds ?? "?"}, destination ${result.destination?.cpuSeconds ?? "?"}\n`)
    results.push(result)
  }
  return results
})

const results = await Effect.runPromise(program).finally(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  await admin.end()
  await rm(timeDir, { recursive: true, force: true })
})
const rate = (name: string) => results.find((r) => r.name === name)?.rowsPerSecond ?? 0
const bestLoad = Math.max(...results.filter((r) => r.direction === "faker → postgres").map((r) => r.rowsPerSecond))
const output = {
  rows,
  machine: { node: process.version, cpus: availableParallelism(), server: url.host },
  scenarios: results,
  copyOverInsert: {
    stdio: Math.round((rate("load-copy-stdio") / rate("load-insert-stdio")) * 100) / 100,
    socket: Math.round((rate("load-copy-socket") / rate("load-insert-socket")) * 100) / 100
  },
  anchors: { airbytePgToPg: 28_700, sling: 284_000 },
  bestLoadOverAirbyte: Math.round((bestLoad / 28_700) * 10) / 10,
  bestLoadOverSling: Math.round((bestLoad / 284_000) * 100) / 100
}
process.stdout.write(JSON.stringify(output, null, 2) + "\n")
