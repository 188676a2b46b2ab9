/**
 * The postgres connectors as real `sluice connector` processes through the engine's `replicate`, over
 * both transports: faker → postgres → postgres source → jsonl reproduces faker's records, two
 * overlapping append_dedup syncs leave no duplicates, and a destination killed mid-sync and retried
 * leaves neither duplicates nor gaps. Needs SLUICE_TEST_DATABASE_URL.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type * as M from "../../../src/engine/protocol/AirbyteMessage.ts"
import { builtinConnectorCommand } from "../../../src/plugins/builtin.ts"
import * as FakerData from "../../../src/plugins/faker/FakerData.ts"
import * as T from "./PgTest.ts"

const KILL_AFTER_STATES = fileURLToPath(new URL("./fixtures/kill-after-states.mjs", import.meta.url))
const TRANSPORTS = [["stdio", "stdio"], ["auto", "socket"]] as const

const withTempDir = <A, E>(f: (dir: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.promise(() => mkdtemp(join(tmpdir(), "sluice-pg-"))),
    f,
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  )

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/

/** Values compared by meaning: timestamps as instants (PostgreSQL drops trailing zeros of fractions). */
const normalize = (value: unknown): unknown => {
  if (typeof value === "string" && ISO_DATE_TIME.test(value)) return Date.parse(value)
  if (Array.isArray(value)) return value.map(normalize)
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).filter(([k]) => !k.startsWith("_sluice_")).map(([k, v]) => [k, normalize(v)]))
  }
  return value
}

const byId = (records: ReadonlyArray<Record<string, unknown>>) => [...records].sort((a, b) => Number(a["id"]) - Number(b["id"]))

const fakerCatalog = (names: ReadonlyArray<string>, mode: M.DestinationSyncMode, syncMode: M.SyncMode = "full_refresh") =>
  Effect.map(T.discover("faker", { count: 1 }), (catalog) =>
    T.configure(catalog.streams.filter((s) => names.includes(s.name)), {
      syncMode,
      destinationSyncMode: mode,
      ...(syncMode === "incremental" ? { cursorField: ["updated_at"] } : {}),
      primaryKey: [["id"]]
    }))

const destination = (schema: string, command?: ReadonlyArray<string>) => ({
  connector: T.builtin("postgres-destination", command),
  config: { ...T.connection(), schema }
})

describe.skipIf(!T.enabled)("postgres connectors through the engine", () => {
  afterAll(() => T.closePool())

  for (const [transport, expected] of TRANSPORTS) {
    it.live(`faker → postgres → postgres source → jsonl reproduces the input (${transport})`, () =>
      T.withSchema((schema) =>
        withTempDir((dir) =>
          Effect.gen(function*() {
            const count = 700
            const names = FakerData.STREAMS.map((s) => s.name)
            const load = yield* T.sync({
              source: { connector: T.builtin("faker"), config: { count, seed: 7, records_per_state: 100 } },
              destination: destination(schema),
              catalog: yield* fakerCatalog(names, "append"),
              transport
            })
            assert.strictEqual(load.status, "completed", JSON.stringify(load.failures))
            assert.strictEqual(load.architecture.transport, expected)
            assert.strictEqual(load.stats.recordsCommitted, count * names.length)

            const sourceConfig = { ...T.connection(), schemas: [schema] }
            const discovered = yield* T.discover("postgres-source", sourceConfig)
            assert.deepStrictEqual(discovered.streams.map((s) => s.name).sort(), [...names].sort())
            const unload = yield* T.sync({
              source: { connector: T.builtin("postgres-source"), config: sourceConfig },
              destination: { connector: T.builtin("jsonl"), config: { path: dir } },
              catalog: T.configure(discovered.streams),
              transport
            })
            assert.strictEqual(unload.status, "completed", JSON.stringify(unload.failures))
            assert.strictEqual(unload.architecture.transport, expected)
            for (const stream of FakerData.STREAMS) {
              const text = yield* Effect.promise(() => readFile(join(dir, `${schema}.${stream.name}.jsonl`), "utf8"))
              const read = text.trim().split("\n").map((line) => (JSON.parse(line) as { _sluice_data: Record<string, unknown> })._sluice_data)
              const input = Array.from({ length: count }, (_, i) => FakerData.generate(stream, 7, i, count) as Record<string, unknown>)
              assert.deepStrictEqual(byId(read).map(normalize), byId(input).map(normalize), stream.name)
            }
          })
        )
      ), { timeout: 120_000 })

    it.live(`append_dedup leaves no duplicates after two overlapping syncs (${transport})`, () =>
      T.withSchema((schema) =>
        Effect.gen(function*() {
          const catalog = yield* fakerCatalog(["users"], "append_dedup")
          for (const count of [300, 500]) {
            const result = yield* T.sync({
              source: { connector: T.builtin("faker"), config: { count, seed: 3, records_per_state: 50 } },
              destination: destination(schema),
              catalog,
              transport
            })
            assert.strictEqual(result.status, "completed", JSON.stringify(result.failures))
          }
          const rows = yield* T.sql<{ n: string; ids: string; lo: string; hi: string }>(
            `SELECT count(*) AS n, count(DISTINCT id) AS ids, min(id) AS lo, max(id) AS hi FROM "${schema}".users`
          )
          assert.deepStrictEqual(rows[0], { n: "500", ids: "500", lo: "1", hi: "500" })
        })
      ), { timeout: 120_000 })

    it.live(`overwrite replaces the table when the streams complete (${transport})`, () =>
      T.withSchema((schema) =>
        Effect.gen(function*() {
          const catalog = yield* fakerCatalog(["products"], "overwrite")
          const run = (count: number, over: "auto" | "stdio") =>
            T.sync({ source: { connector: T.builtin("faker"), config: { count, seed: 2 } }, destination: destination(schema), catalog, transport: over })
          assert.strictEqual((yield* run(300, "stdio")).status, "completed")
          const second = yield* run(120, transport)
          assert.strictEqual(second.status, "completed", JSON.stringify(second.failures))
          assert.strictEqual(second.architecture.transport, expected)
          assert.strictEqual(yield* T.count(`"${schema}".products`), 120)
          assert.deepStrictEqual(yield* T.sql(`SELECT to_regclass('"${schema}".products__sluice_tmp') AS t`), [{ t: null }])
        })
      ), { timeout: 120_000 })

    it.live(`a destination killed mid-sync and retried leaves no duplicates and no gaps in append_dedup (${transport})`, () =>
      T.withSchema((schema) =>
        Effect.gen(function*() {
          const count = 3000
          const catalog = yield* fakerCatalog(["users"], "append_dedup", "incremental")
          const source = { connector: T.builtin("faker"), config: { count, seed: 5, records_per_state: 100 } }
          const killed = yield* T.sync({
            source,
            destination: destination(schema, [process.execPath, KILL_AFTER_STATES, "3", ...builtinConnectorCommand("postgres-destination")]),
            catalog,
            transport
          })
          assert.strictEqual(killed.status, "failed")
          assert.isAbove(killed.stats.recordsCommitted, 0)
          const afterKill = yield* T.count(`"${schema}".users`)
          assert.isAbove(afterKill, 0)
          assert.isBelow(afterKill, count)
          const retried = yield* T.sync({ source, destination: destination(schema), catalog, transport, state: killed.state })
          assert.strictEqual(retried.status, "completed", JSON.stringify(retried.failures))
          const rows = yield* T.sql<{ n: string; ids: string; lo: string; hi: string }>(
            `SELECT count(*) AS n, count(DISTINCT id) AS ids, min(id) AS lo, max(id) AS hi FROM "${schema}".users`
          )
          assert.deepStrictEqual(rows[0], { n: String(count), ids: String(count), lo: "1", hi: String(count) })
        })
      ), { timeout: 120_000 })
  }
})
