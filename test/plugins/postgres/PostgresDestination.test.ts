/**
 * The postgres destination in process against a real server: typed columns, values that do not fit
 * nulled and recorded in `_sluice_meta`, echo only after COMMIT, schema evolution, append_dedup (the
 * latest cursor wins), overwrite swapped atomically under a concurrent reader and kept when the
 * stream did not complete, and configuration errors. Needs SLUICE_TEST_DATABASE_URL.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Stream } from "effect"
import type * as M from "../../../src/engine/protocol/AirbyteMessage.ts"
import { postgresDestination } from "../../../src/plugins/postgres/PostgresDestination.ts"
import * as T from "./PgTest.ts"

const SCHEMA = {
  type: "object",
  properties: {
    id: { type: "integer" },
    n: { type: ["number", "null"] },
    ok: { type: "boolean" },
    at: { type: "string", format: "date-time", airbyte_type: "timestamp_with_timezone" },
    day: { type: "string", format: "date" },
    clock: { type: "string", format: "time", airbyte_type: "time_without_timezone" },
    uid: { type: "string", format: "uuid" },
    bin: { type: "string", contentEncoding: "base64" },
    doc: { type: "object" },
    name: { type: "string" },
    updated: { type: "integer" }
  }
}

const streamOf = (name: string, jsonSchema: M.JsonObject = SCHEMA): M.AirbyteStream => ({ name, json_schema: jsonSchema, supported_sync_modes: ["full_refresh", "incremental"] })

const catalogOf = (name: string, mode: M.DestinationSyncMode, options: { readonly syncMode?: M.SyncMode; readonly jsonSchema?: M.JsonObject } = {}) =>
  T.configure([streamOf(name, options.jsonSchema)], {
    destinationSyncMode: mode,
    syncMode: options.syncMode ?? "full_refresh",
    primaryKey: [["id"]],
    cursorField: ["updated"]
  })

const record = (stream: string, data: Record<string, unknown>): M.AirbyteMessage => ({ type: "RECORD", record: { stream, data, emitted_at: 1_700_000_000_000 } })
const state = (stream: string, id: number): M.AirbyteMessage => ({
  type: "STATE",
  state: { type: "STREAM", stream: { stream_descriptor: { name: stream }, stream_state: { n: id } }, sourceStats: { recordCount: 1 }, id }
})
const complete = (stream: string): M.AirbyteMessage => ({
  type: "TRACE",
  trace: { type: "STREAM_STATUS", emitted_at: 1, stream_status: { stream_descriptor: { name: stream }, status: "COMPLETE" } }
})

const write = (schema: string, catalog: M.ConfiguredAirbyteCatalog, messages: Stream.Stream<M.AirbyteMessage>) =>
  postgresDestination.write({ config: { ...T.connection(), schema }, catalog, messages, context: T.context })

const writeAll = (schema: string, catalog: M.ConfiguredAirbyteCatalog, messages: ReadonlyArray<M.AirbyteMessage>) =>
  T.collect(write(schema, catalog, Stream.fromIterable(messages).pipe(Stream.rechunk(7))))

const rowsOf = (schema: string, table: string, columns = "*") => T.sql(`SELECT ${columns} FROM "${schema}"."${table}" ORDER BY id, updated`)

describe.skipIf(!T.enabled)("postgres destination", () => {
  afterAll(() => T.closePool())

  it.live("writes typed columns; a value that does not fit is nulled and recorded in _sluice_meta", () =>
    T.withSchema((schema) =>
      Effect.gen(function*() {
        const good = {
          id: 1, n: "12345678901234567890.5", ok: true, at: "2024-01-01T10:00:00.5+02:00", day: "2024-02-29", clock: "23:59:59.999",
          uid: "0b9a6b4e-7c6a-4a39-9a55-7b1c3c7a1f00", bin: "AQL/", doc: { a: [1, "\t\n\\"] }, name: "tab\tnew\nline\\", updated: 9007199254740991
        }
        const bad = { id: 2, n: "12,5", ok: "yes", at: "2024-13-01T00:00:00Z", day: "2023-02-29", clock: "25:00", uid: "nope", bin: "***", doc: { s: "\u0000" }, name: "nul\u0000", updated: 1.5 }
        const echoes = yield* writeAll(schema, catalogOf("t", "append"), [record("t", good), record("t", bad), record("t", { id: 3, extra: 1 }), state("t", 1)])
        assert.deepStrictEqual(echoes.map((m) => (m.type === "STATE" ? m.state.destinationStats : m.type)), [{ recordCount: 3 }])
        const types = yield* T.sql<{ column_name: string; data_type: string }>(
          "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 't' ORDER BY ordinal_position",
          [schema]
        )
        assert.deepStrictEqual(types.map((c) => `${c.column_name} ${c.data_type}`), [
          "id bigint", "n numeric", "ok boolean", "at timestamp with time zone", "day date", "clock time without time zone", "uid uuid", "bin bytea",
          "doc jsonb", "name text", "updated bigint", "_sluice_raw_id uuid", "_sluice_extracted_at timestamp with time zone", "_sluice_meta jsonb"
        ])
        const [one, two, three] = yield* T.sql<Record<string, unknown>>(
          `SELECT id::text, n::text, ok, at::text, day::text, clock::text, uid::text, encode(bin, 'base64') AS bin, doc, name, updated::text, ` +
            `_sluice_extracted_at::text AS extracted, _sluice_meta AS meta FROM "${schema}".t ORDER BY id`
        )
        assert.deepStrictEqual({ ...one, extracted: undefined, meta: undefined }, {
          id: "1", n: "12345678901234567890.5", ok: true, at: "2024-01-01 08:00:00.5+00", day: "2024-02-29", clock: "23:59:59.999",
          uid: good.uid, bin: "AQL/", doc: good.doc, name: good.name, updated: "9007199254740991", extracted: undefined, meta: undefined
        })
        assert.strictEqual(one?.["extracted"], "2023-11-14 22:13:20+00")
        assert.deepStrictEqual(one?.["meta"], { changes: [] })
        const nulled = ["n", "ok", "at", "day", "clock", "uid", "bin", "doc", "name", "updated"]
        assert.isTrue(nulled.every((c) => two?.[c] === null))
        assert.deepStrictEqual(two?.["meta"], { changes: nulled.map((field) => ({ field, change: "NULLED", reason: "DESTINATION_TYPECAST_ERROR" })) })
        assert.strictEqual(three?.["id"], "3")
      })
    ))

  it.live("echoes a state only once its records are committed, and evolves the table", () =>
    T.withSchema((schema) =>
      Effect.gen(function*() {
        const input: Array<M.AirbyteMessage> = []
        for (let i = 1; i <= 2000; i++) {
          input.push(record("t", { id: i, updated: i }))
          if (i % 250 === 0) input.push(state("t", i))
        }
        const seen: Array<readonly [number, number]> = []
        yield* Stream.runForEach(write(schema, catalogOf("t", "append"), Stream.fromIterable(input).pipe(Stream.rechunk(100))), (echo) =>
          Effect.gen(function*() {
            if (echo.type !== "STATE") return
            seen.push([echo.state["id"] as number, yield* T.count(`"${schema}".t`)])
          }))
        assert.strictEqual(seen.length, 8)
        for (const [id, visible] of seen) assert.isAtLeast(visible, id)

        const evolved = { type: "object", properties: { ...SCHEMA.properties, id: { type: "string" }, added: { type: "string" } } }
        yield* writeAll(schema, catalogOf("t", "append", { jsonSchema: evolved }), [record("t", { id: "7", added: "x" }), record("t", { id: "x" }), state("t", 1)])
        // `id` stays bigint (existing columns keep their type): "7" fits, "x" is nulled.
        const rows = yield* T.sql(`SELECT id::text, added FROM "${schema}".t WHERE added IS NOT NULL OR id IS NULL ORDER BY added NULLS LAST`)
        assert.deepStrictEqual(rows, [{ id: "7", added: "x" }, { id: null, added: null }])
      })
    ))

  it.live("append_dedup keeps one row per key: the latest cursor wins, then the latest record", () =>
    T.withSchema((schema) =>
      Effect.gen(function*() {
        const catalog = catalogOf("t", "append_dedup", { syncMode: "incremental" })
        yield* writeAll(schema, catalog, [
          record("t", { id: 1, updated: 5, name: "a5" }),
          record("t", { id: 1, updated: 7, name: "a7" }),
          record("t", { id: 1, updated: 6, name: "a6" }),
          record("t", { id: 2, updated: 1, name: "b1" }),
          record("t", { id: 2, updated: 1, name: "b1-later" }),
          state("t", 1)
        ])
        yield* writeAll(schema, catalog, [
          record("t", { id: 1, updated: 3, name: "a3-old" }),
          record("t", { id: 2, updated: 2, name: "b2" }),
          record("t", { id: 3, updated: 1, name: "c1" }),
          state("t", 2)
        ])
        const rows = yield* rowsOf(schema, "t", "id::int, updated::int, name")
        assert.deepStrictEqual(rows, [{ id: 1, updated: 7, name: "a7" }, { id: 2, updated: 2, name: "b2" }, { id: 3, updated: 1, name: "c1" }])
      })
    ))

  it.live("overwrite swaps in the new table at COMPLETE: a concurrent reader sees the old or the new, never a part", () =>
    T.withSchema((schema) =>
      Effect.gen(function*() {
        const catalog = catalogOf("t", "overwrite")
        const batch = (from: number, to: number) => {
          const out: Array<M.AirbyteMessage> = []
          for (let i = from; i <= to; i++) {
            out.push(record("t", { id: i, updated: i }))
            if (i % 500 === 0) out.push(state("t", i))
          }
          return out
        }
        yield* writeAll(schema, catalog, [...batch(1, 1000), complete("t")])
        assert.strictEqual(yield* T.count(`"${schema}".t`), 1000)

        const counts: Array<number> = []
        let stop = false
        const reader = yield* Effect.forkChild(Effect.gen(function*() {
          while (!stop) counts.push(yield* T.count(`"${schema}".t`))
        }))
        const during: Array<number> = []
        const messages = Stream.concat(
          Stream.fromIterable(batch(1, 5000)),
          Stream.concat(
            Stream.fromEffectDrain(Effect.gen(function*() {
              // Everything is committed in the temporary table, nothing is visible yet.
              yield* Effect.sleep("300 millis")
              during.push(yield* T.count(`"${schema}".t`), yield* T.count(`"${schema}".t__sluice_tmp`))
            })),
            Stream.make(complete("t"))
          )
        )
        yield* Stream.runDrain(write(schema, catalog, messages))
        yield* Effect.sleep("100 millis")
        stop = true
        yield* Fiber.join(reader)
        assert.deepStrictEqual(during, [1000, 5000])
        assert.strictEqual(yield* T.count(`"${schema}".t`), 5000)
        assert.deepStrictEqual([...new Set(counts)].sort((a, b) => a - b), [1000, 5000])
        const tmp = yield* T.sql(`SELECT to_regclass('"${schema}".t__sluice_tmp') AS t`)
        assert.deepStrictEqual(tmp, [{ t: null }])
      })
    ), { timeout: 60_000 })

  it.live("overwrite without COMPLETE (the source failed) keeps the old table and drops the temporary one", () =>
    T.withSchema((schema) =>
      Effect.gen(function*() {
        const catalog = catalogOf("t", "overwrite")
        yield* writeAll(schema, catalog, [record("t", { id: 1, updated: 1 }), state("t", 1), complete("t")])
        const output = yield* writeAll(schema, catalog, [record("t", { id: 2, updated: 1 }), record("t", { id: 3, updated: 1 }), state("t", 2)])
        assert.deepStrictEqual(output.map((m) => m.type), ["STATE", "LOG"])
        assert.deepStrictEqual(yield* rowsOf(schema, "t", "id::int"), [{ id: 1 }])
        assert.deepStrictEqual(yield* T.sql(`SELECT to_regclass('"${schema}".t__sluice_tmp') AS t`), [{ t: null }])
      })
    ))

  it.live("check tries what a write needs and says what fails", () =>
    T.withSchema((schema) =>
      Effect.gen(function*() {
        const check = (overrides: Record<string, unknown>) =>
          Effect.map(postgresDestination.check({ ...T.connection(), schema, ...overrides }, T.context), (s) => `${s.status}: ${s.message ?? ""}`)
        assert.strictEqual(yield* check({}), "SUCCEEDED: ")
        assert.strictEqual(yield* check({ schema: `${schema}_new` }), "SUCCEEDED: ")
        assert.deepStrictEqual(yield* T.sql("SELECT 1 FROM pg_namespace WHERE nspname = $1", [`${schema}_new`]), [])
        assert.match(yield* check({ port: 1 }), /^FAILED: postgres: cannot reach the server/)
        const role = T.randomName("sluice_writer")
        yield* T.sql(`CREATE ROLE ${role} LOGIN`)
        yield* T.sql(`GRANT USAGE ON SCHEMA "${schema}" TO ${role}`)
        yield* Effect.ensuring(
          Effect.gen(function*() {
            assert.match(yield* check({ user: role }), new RegExp(`^FAILED: postgres: permission denied \\(creating a table in schema ${schema}\\)`))
          }),
          T.sql(`DROP OWNED BY ${role}`).pipe(Effect.andThen(T.sql(`DROP ROLE ${role}`)))
        )
      })
    ))

  it.live("rejects what it cannot do before writing anything", () =>
    T.withSchema((schema) =>
      Effect.gen(function*() {
        const failure = (catalog: M.ConfiguredAirbyteCatalog) =>
          Effect.map(Effect.exit(writeAll(schema, catalog, [])), (exit) => (Exit.isFailure(exit) ? String(Cause.squash(exit.cause)) : "succeeded"))
        assert.match(yield* failure(catalogOf("t", "update")), /destination_sync_mode update; supported: append, overwrite, append_dedup/)
        const noKey: M.ConfiguredAirbyteCatalog = { streams: [{ stream: streamOf("t"), sync_mode: "full_refresh", destination_sync_mode: "append_dedup" }] }
        assert.match(yield* failure(noKey), /append_dedup needs a primary key/)
        const twice = T.configure([{ ...streamOf("t"), namespace: "a" }, { ...streamOf("t"), namespace: "b" }])
        assert.match(yield* failure(twice), /streams 'a.t' and 'b.t' would both be written to table t/)
        const unreachable = yield* Effect.exit(T.collect(postgresDestination.write({
          config: { ...T.connection(), port: 1, schema },
          catalog: catalogOf("t", "append"),
          messages: Stream.empty,
          context: T.context
        })))
        assert.match(Exit.isFailure(unreachable) ? String(Cause.squash(unreachable.cause)) : "succeeded", /cannot reach the server at .*:1/)
      })
    ))
})
