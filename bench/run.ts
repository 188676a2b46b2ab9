/**
 * `npm run bench -- [--records N] [--json FILE] [--svg FILE]`: faker → dev-null over stdio, over
 * socket (Sluice's per-stream PROTOBUF, Airbyte's PROTOBUF and JSONL), and over stdio with PII hashing plus a rename mapper, all in one run,
 * plus Sluice's stdio relay alone (between the reference pipelines' near-free endpoints),
 * each scenario in its own process. Prints records/s, MB/s, CPU seconds per process and peak RSS,
 * and the socket/stdio ratio; writes the JSON and an SVG chart.
 */
import { spawn } from "node:child_process"
import { openSync } from "node:fs"
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { builtinConnectorCommand, NODE_FLAGS } from "../src/plugins/builtin.ts"
import { runBaselines } from "./baseline.ts"
import { renderChart } from "./chart.ts"

const { values } = parseArgs({
  options: {
    records: { type: "string", default: "1000000" },
    json: { type: "string", default: "bench/results/latest.json" },
    svg: { type: "string", default: "bench/results/latest.svg" }
  }
})
const records = Number(values.records)
const scenarioScript = fileURLToPath(new URL("./scenario.ts", import.meta.url))

interface ScenarioSpec {
  readonly name: string
  readonly transport: "stdio" | "socket"
  readonly serialization: "JSONL" | "PROTOBUF" | "SLUICE_PROTOBUF"
  readonly middleware: ReadonlyArray<string>
  /** `replay`: bench/baseline.ts's near-free protocol source and sink instead of faker and dev-null. */
  readonly endpoints?: "replay"
}

const SCENARIOS: ReadonlyArray<ScenarioSpec> = [
  { name: "stdio", transport: "stdio", serialization: "JSONL", middleware: ["stats"] },
  { name: "socket-sluice-protobuf", transport: "socket", serialization: "SLUICE_PROTOBUF", middleware: [] },
  { name: "socket-protobuf", transport: "socket", serialization: "PROTOBUF", middleware: [] },
  { name: "socket-jsonl", transport: "socket", serialization: "JSONL", middleware: [] },
  { name: "stdio-pii-mapper", transport: "stdio", serialization: "JSONL", middleware: ["stats", "pii-hash", "rename"] },
  // Sluice's relay between a source replaying pre-built lines and a sink counting them: the endpoints
  // of the reference relay, so the two compare directly.
  { name: "stdio-relay-only", transport: "stdio", serialization: "JSONL", middleware: ["stats"], endpoints: "replay" }
]

interface Measured {
  readonly status: string
  readonly failures: ReadonlyArray<string>
  readonly records: number
  readonly bytes: number
  readonly seconds: number
  readonly socketCount?: number
  readonly sluice: { readonly cpuSeconds: number; readonly peakRssMb: number }
  readonly source?: { readonly cpuSeconds: number; readonly peakRssMb: number }
  readonly destination?: { readonly cpuSeconds: number; readonly peakRssMb: number }
}

const runScenario = (spec: ScenarioSpec) =>
  new Promise<Measured>((resolvePromise, reject) => {
    const args = [...NODE_FLAGS, scenarioScript, "--records", String(records), "--transport", spec.transport, "--serialization", spec.serialization]
    if (spec.middleware.length > 1) args.push("--middleware", spec.middleware.slice(1).join(","))
    if (spec.endpoints !== undefined) args.push("--endpoints", spec.endpoints)
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.setEncoding("utf8").on("data", (text: string) => (out += text))
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`scenario ${spec.name} exited with code ${code}`))
      resolvePromise(JSON.parse(out.trim().split("\n").pop() ?? "{}") as Measured)
    })
  })

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits

interface ScenarioResult {
  readonly name: string
  readonly transport: string
  readonly serialization: string
  readonly middleware: ReadonlyArray<string>
  readonly endpoints: string
  readonly sockets?: number
  readonly records: number
  readonly seconds: number
  readonly recordsPerSecond: number
  readonly mbPerSecond: number
  readonly peakRssMb: number
  readonly cpuSeconds: Readonly<Record<string, number>> & { readonly sluice: number; readonly source?: number; readonly destination?: number }
  readonly peakRssMbPerProcess: Readonly<Record<string, number>>
}
const results: Array<ScenarioResult> = []
let jsonBytesPerRecord: number | undefined
for (const spec of SCENARIOS) {
  process.stderr.write(`running ${spec.name} (${records} records)…\n`)
  const m = await runScenario(spec)
  if (m.status !== "completed") throw new Error(`scenario ${spec.name} ${m.status}: ${m.failures.join("; ")}`)
  // MB/s is counted in JSON bytes of the records (what stdio moves), so formats compare fairly.
  if (spec.name === "stdio") jsonBytesPerRecord = m.bytes / m.records
  const mb = (m.records * (jsonBytesPerRecord ?? m.bytes / m.records)) / 1e6
  results.push({
    name: spec.name,
    transport: spec.transport,
    serialization: spec.serialization,
    middleware: spec.middleware,
    endpoints: spec.endpoints === "replay" ? "pre-built lines → counting sink" : "faker → dev-null",
    ...(m.socketCount === undefined ? {} : { sockets: m.socketCount }),
    records: m.records,
    seconds: round(m.seconds, 2),
    recordsPerSecond: Math.round(m.records / m.seconds),
    mbPerSecond: round(mb / m.seconds),
    peakRssMb: round(m.sluice.peakRssMb),
    cpuSeconds: {
      sluice: round(m.sluice.cpuSeconds, 2),
      ...(m.source === undefined ? {} : { source: round(m.source.cpuSeconds, 2) }),
      ...(m.destination === undefined ? {} : { destination: round(m.destination.cpuSeconds, 2) })
    },
    peakRssMbPerProcess: {
      sluice: round(m.sluice.peakRssMb),
      ...(m.source === undefined ? {} : { source: round(m.source.peakRssMb) }),
      ...(m.destination === undefined ? {} : { destination: round(m.destination.peakRssMb) })
    }
  })
}

/**
 * The ceiling every scenario shares: faker alone, writing the same records as JSONL to /dev/null (no
 * Sluice, no destination, one core to itself).
 */
const sourceAlone = async () => {
  const dir = await mkdtemp(join(tmpdir(), "sluice-bench-source-"))
  try {
    await writeFile(join(dir, "config.json"), JSON.stringify({ count: records, seed: 1, records_per_state: 10_000 }))
    const stream = { name: "users", json_schema: {}, supported_sync_modes: ["full_refresh"] }
    await writeFile(join(dir, "catalog.json"), JSON.stringify({ streams: [{ stream, sync_mode: "full_refresh", destination_sync_mode: "append" }] }))
    const [command, ...args] = builtinConnectorCommand("faker")
    const started = performance.now()
    const code = await new Promise<number | null>((done) => {
      const child = spawn(command!, [...args, "read", "--config", join(dir, "config.json"), "--catalog", join(dir, "catalog.json")], {
        stdio: ["ignore", openSync("/dev/null", "w"), "inherit"]
      })
      child.on("close", done)
    })
    if (code !== 0) throw new Error(`faker alone exited with code ${code}`)
    return Math.round(records / ((performance.now() - started) / 1000))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
process.stderr.write(`running faker alone → /dev/null (${records} records)…\n`)
const sourceAloneRecordsPerSecond = await sourceAlone()
process.stderr.write(`running the hand-written reference pipelines of performance.md (${records} records)…\n`)
const baselines = await runBaselines(records)

const rate = (name: string) => results.find((r) => r.name === name)?.recordsPerSecond ?? 0
const bestSocket = Math.max(rate("socket-sluice-protobuf"), rate("socket-protobuf"), rate("socket-jsonl"))
const output = {
  records,
  machine: { node: process.version, cpus: (await import("node:os")).availableParallelism() },
  scenarios: results,
  /** faker alone → /dev/null: what no scenario can exceed with this source. */
  sourceAloneRecordsPerSecond,
  /**
   * performance.md's hand-written pipelines rerun now (bench/baseline.ts): pre-built lines through a
   * parse/count/stringify relay, and pre-built lines over 4 sockets into a line counter. Ceilings of
   * the transport on this machine today, with no real source, destination or protocol.
   */
  baselines,
  ratios: {
    stdioOverBaselineRelay: round(rate("stdio") / baselines.relayRecordsPerSecond, 2),
    /** Sluice's relay over the hand-written one, with the same near-free endpoints. */
    relayOnlyOverBaselineRelay: round(rate("stdio-relay-only") / baselines.relayRecordsPerSecond, 2),
    bestSocketOverBaselineSocket: round(bestSocket / baselines.socketRecordsPerSecond, 2),
    bestSocketOverSourceAlone: round(bestSocket / sourceAloneRecordsPerSecond, 2),
    stdioOverSourceAlone: round(rate("stdio") / sourceAloneRecordsPerSecond, 2),
    socketSluiceProtobufOverStdio: round(rate("socket-sluice-protobuf") / rate("stdio"), 2),
    socketOverStdio: round(bestSocket / rate("stdio"), 2),
    socketProtobufOverStdio: round(rate("socket-protobuf") / rate("stdio"), 2),
    socketJsonlOverStdio: round(rate("socket-jsonl") / rate("stdio"), 2),
    middlewareOverStdio: round(rate("stdio-pii-mapper") / rate("stdio"), 2)
  }
}

console.log(`\n${"scenario".padEnd(24)} ${"records/s".padStart(10)} ${"MB/s".padStart(7)} ${"sluice RSS".padStart(11)} ${"CPU s (sluice/src/dst)".padStart(24)}`)
for (const r of results) {
  const cpu = `${r.cpuSeconds.sluice}/${r.cpuSeconds.source ?? "?"}/${r.cpuSeconds.destination ?? "?"}`
  console.log(`${r.name.padEnd(24)} ${String(r.recordsPerSecond).padStart(10)} ${String(r.mbPerSecond).padStart(7)} ${`${r.peakRssMb} MB`.padStart(11)} ${cpu.padStart(24)}`)
}
console.log(`\nsocket/stdio: ${output.ratios.socketOverStdio}× (sluice-protobuf ${output.ratios.socketSluiceProtobufOverStdio}×, protobuf ${output.ratios.socketProtobufOverStdio}×, jsonl ${output.ratios.socketJsonlOverStdio}×)`)
console.log(`faker alone → /dev/null: ${sourceAloneRecordsPerSecond} records/s (best socket ${output.ratios.bestSocketOverSourceAlone}×, stdio ${output.ratios.stdioOverSourceAlone}× of it)`)
console.log(
  `reference pipelines (pre-built lines): relay ${baselines.relayRecordsPerSecond} records/s (stdio ${output.ratios.stdioOverBaselineRelay}×, ` +
    `Sluice's relay between the same endpoints ${output.ratios.relayOnlyOverBaselineRelay}× of it), ` +
    `4 sockets ${baselines.socketRecordsPerSecond} records/s (best socket ${output.ratios.bestSocketOverBaselineSocket}× of it)`
)

for (const [file, content] of [[values.json, JSON.stringify(output, null, 2) + "\n"], [values.svg, renderChart(output)]] as const) {
  await mkdir(dirname(resolve(file)), { recursive: true })
  await writeFile(file, content)
  console.log(`wrote ${file}`)
}
