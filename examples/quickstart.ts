/**
 * Quickstart: the built-in `faker` source into the `jsonl` destination, both run as real
 * Airbyte-protocol processes through the connector runtime. Run it twice: the second run resumes
 * from the saved state and copies nothing new.
 *
 *   npm run quickstart [-- --count N --out DIR]
 */
import { Effect, Stream } from "effect"
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { join, resolve } from "node:path"
import { parseArgs } from "node:util"
import * as Runtime from "../src/engine/ConnectorRuntime.ts"
import type * as M from "../src/engine/protocol/AirbyteMessage.ts"
import * as Jsonl from "../src/engine/protocol/Jsonl.ts"
import { builtinConnectorCommand } from "../src/plugins/builtin.ts"

const { values } = parseArgs({ options: { count: { type: "string", default: "1000" }, out: { type: "string", default: "out/quickstart" } } })
const outDir = resolve(values.out)
const statePath = join(outDir, "state.json")
const connector = (id: string) => ({ command: builtinConnectorCommand(id) })
const onLog = (entry: { origin: string; message: string }) => process.stderr.write(`[${entry.origin}] ${entry.message}\n`)
const source: Runtime.RunOptions = { role: "source", connector: connector("faker"), onLog }
const destination: Runtime.RunOptions = { role: "destination", connector: connector("jsonl"), onLog }

const program = Effect.gen(function*() {
  const sourceConfig = { count: Number(values.count), seed: 1 }
  const status = yield* Runtime.check(source, sourceConfig)
  if (status.status === "FAILED") return yield* Effect.fail(new Error(`source check failed: ${status.message}`))
  const discovered = yield* Runtime.discover(source, sourceConfig)
  const catalog: M.ConfiguredAirbyteCatalog = {
    streams: discovered.streams.map((stream) => ({ stream, sync_mode: "incremental", destination_sync_mode: "append" }))
  }
  yield* Effect.promise(() => mkdir(outDir, { recursive: true }))
  const saved = yield* Effect.promise(() => readFile(statePath, "utf8").then((t) => JSON.parse(t) as Array<M.AirbyteStateMessage>, () => undefined))

  const emitted = new Map<string, number>()
  const committed = new Map<string, M.AirbyteStateMessage>()
  const records = Runtime.read(source, { config: sourceConfig, catalog, ...(saved === undefined ? {} : { state: saved }) }).pipe(
    Stream.filter((m) => m.type === "RECORD" || m.type === "STATE"),
    Stream.tap((m) => Effect.sync(() => {
      if (m.type === "RECORD") emitted.set(m.record.stream, (emitted.get(m.record.stream) ?? 0) + 1)
    }))
  )
  yield* Runtime.write(destination, { config: { path: outDir }, catalog, input: Jsonl.encodeMessages(records) }).pipe(
    Stream.runForEach((m) => Effect.sync(() => {
      if (m.type === "STATE" && m.state.stream !== undefined) committed.set(m.state.stream.stream_descriptor.name, m.state)
    }))
  )
  // Keep the previous state of streams that committed nothing new this time.
  const previous = new Map((saved ?? []).flatMap((s) => (s.stream === undefined ? [] : [[s.stream.stream_descriptor.name, s] as const])))
  const state = [...new Map([...previous, ...committed]).values()].map(({ destinationStats: _, ...rest }) => rest)
  yield* Effect.promise(() => writeFile(statePath, JSON.stringify(state, null, 2)))

  console.log(`\n${"stream".padEnd(12)} ${"records".padStart(8)}  file`)
  for (const stream of catalog.streams) {
    const name = stream.stream.name
    console.log(`${name.padEnd(12)} ${String(emitted.get(name) ?? 0).padStart(8)}  ${join(outDir, `${name}.jsonl`)}`)
  }
  console.log(`\nstate saved to ${statePath}; run again to see the incremental sync copy nothing new.`)
})

Effect.runPromise(program).catch((error: unknown) => {
  console.error(`quickstart failed: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
})
