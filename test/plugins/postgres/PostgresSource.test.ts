/**
 * The postgres source against a real server: check names the failure (unreachable, unknown role or
 * database, missing schema or SELECT permission), discover's JSON Schema per column type and primary
 * keys, values as JSON (table-tested), and incremental reads: states only where a cursor value ends,
 * resume without loss, and ties that arrive later read again. Needs SLUICE_TEST_DATABASE_URL.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { InputState } from "../../../src/engine/kit/Connector.ts"
import { protocolMessages } from "../../../src/engine/kit/SourceMessages.ts"
import type * as M from "../../../src/engine/protocol/AirbyteMessage.ts"
import { postgresSource } from "../../../src/plugins/postgres/PostgresSource.ts"
import { RECORDS_PER_STATE } from "../../../src/plugins/postgres/SourceRead.ts"
import * as T from "./PgTest.ts"

const configOf = (schema: string, overrides: Partial<ReturnType<typeof T.connection>> = {}) => ({ ...T.connection(), schemas: [schema], ...overrides })

const checkMessage = (config: Parameters<typeof postgresSource.check>[0]) =>
  Effect.map(postgresSource.check(config, T.context), (status) => `${status.status}: ${status.message ?? ""}`)

/** Column type, a value literal, the JSON Schema discovered, the JSON value read. */
const TYPES: ReadonlyArray<readonly [string, string, unknown, unknown]> = [
  ["smallint", "7", { type: ["integer", "null"] }, 7],
  ["integer", "-42", { type: ["integer", "null"] }, -42],
  ["bigint", "9007199254740993", { type: ["integer", "null"] }, "9007199254740993"],
  ["bigint", "-12", { type: ["integer", "null"] }, -12],
  ["real", "1.5", { type: ["number", "null"] }, 1.5],
  ["double precision", "'NaN'", { type: ["number", "null"] }, null],
  ["numeric", "656.30", { type: ["number", "null"] }, 656.3],
  ["numeric(30,3)", "12345678901234567890.123", { type: ["number", "null"] }, "12345678901234567890.123"],
  ["boolean", "true", { type: ["boolean", "null"] }, true],
  ["text", "E'tab\\there \"q\"'", { type: ["string", "null"] }, "tab\there \"q\""],
  ["varchar(10)", "'short'", { type: ["string", "null"] }, "short"],
  ["date", "'2024-02-29'", { type: ["string", "null"], format: "date" }, "2024-02-29"],
  ["date", "'infinity'", { type: ["string", "null"], format: "date" }, null],
  ["timestamp", "'2024-01-01 10:00:00.123456'", { type: ["string", "null"], format: "date-time", airbyte_type: "timestamp_without_timezone" }, "2024-01-01T10:00:00.123456"],
  ["timestamptz", "'2024-01-01 10:00:00+02'", { type: ["string", "null"], format: "date-time", airbyte_type: "timestamp_with_timezone" }, "2024-01-01T08:00:00Z"],
  ["time", "'13:45:00.5'", { type: ["string", "null"], format: "time", airbyte_type: "time_without_timezone" }, "13:45:00.5"],
  ["timetz", "'13:45:00+02'", { type: ["string", "null"], format: "time", airbyte_type: "time_with_timezone" }, "13:45:00+02:00"],
  ["json", "'{\"a\": [1, 2]}'", {}, { a: [1, 2] }],
  ["jsonb", "'\"text\"'", {}, "text"],
  ["uuid", "'0b9a6b4e-7c6a-4a39-9a55-7b1c3c7a1f00'", { type: ["string", "null"], format: "uuid" }, "0b9a6b4e-7c6a-4a39-9a55-7b1c3c7a1f00"],
  ["bytea", "'\\x0102ff'", { type: ["string", "null"], contentEncoding: "base64" }, "AQL/"],
  ["integer[]", "'{{1,2},{NULL,4}}'", { type: ["array", "null"], items: { type: ["integer", "null"] } }, [[1, 2], [null, 4]]],
  ["text[]", "ARRAY['x y', 'q\"z', NULL]", { type: ["array", "null"], items: { type: ["string", "null"] } }, ["x y", "q\"z", null]],
  ["timestamptz[]", "ARRAY['2024-01-01 00:00:00+00'::timestamptz]", { type: ["array", "null"], items: { type: ["string", "null"], format: "date-time", airbyte_type: "timestamp_with_timezone" } }, ["2024-01-01T00:00:00Z"]],
  ["interval", "'1 day 2 hours'", { type: ["string", "null"] }, "1 day 02:00:00"],
  ["positive", "5", { type: ["integer", "null"] }, 5],
  ["mood", "'sad'", { type: ["string", "null"] }, "sad"]
]

const readAll = (config: ReturnType<typeof configOf>, catalog: M.ConfiguredAirbyteCatalog, state: InputState = { _tag: "None" }) =>
  T.collect(protocolMessages(postgresSource.read({ config, catalog, state, context: T.context, jsonLines: true })))

const recordsOf = (messages: ReadonlyArray<M.AirbyteMessage>) => messages.flatMap((m) => (m.type === "RECORD" ? [m.record] : []))
const statesOf = (messages: ReadonlyArray<M.AirbyteMessage>) => messages.flatMap((m) => (m.type === "STATE" ? [m.state] : []))

describe.skipIf(!T.enabled)("postgres source", () => {
  afterAll(() => T.closePool())

  it.live("check says which of host, credentials, database, schema and permission fails", () =>
    T.withSchema((schema) =>
      Effect.gen(function*() {
        assert.strictEqual(yield* checkMessage(configOf(schema)), "SUCCEEDED: ")
        assert.match(yield* checkMessage(configOf(schema, { host: "127.0.0.1", port: 1 })), /^FAILED: postgres: cannot reach the server at 127\.0\.0\.1:1/)
        // Local servers often trust every password, so bad credentials are tested with a role that does not exist.
        assert.match(yield* checkMessage(configOf(schema, { user: T.randomName("no_such_role") })), /^FAILED: postgres: authentication failed for user/)
        assert.match(yield* checkMessage(configOf(schema, { database: T.randomName("no_such_db") })), /^FAILED: postgres: database "no_such_db_\w+" does not exist/)
        assert.match(yield* checkMessage(configOf(`${schema}_missing`)), /^FAILED: postgres: schema \w+_missing does not exist/)

        const role = T.randomName("sluice_reader")
        yield* T.sql(`CREATE TABLE "${schema}".open (id int)`)
        yield* T.sql(`CREATE TABLE "${schema}".secret (id int)`)
        yield* T.sql(`CREATE ROLE ${role} LOGIN PASSWORD 'pw'`)
        yield* Effect.ensuring(
          Effect.gen(function*() {
            const asRole = configOf(schema, { user: role, password: "pw" })
            assert.match(yield* checkMessage(asRole), new RegExp(`^FAILED: postgres: permission denied: user "${role}" lacks USAGE on schema ${schema}`))
            yield* T.sql(`GRANT USAGE ON SCHEMA "${schema}" TO ${role}`)
            yield* T.sql(`GRANT SELECT ON "${schema}".open TO ${role}`)
            assert.strictEqual(yield* checkMessage(asRole), `FAILED: postgres: permission denied: user "${role}" lacks SELECT on ${schema}.secret`)
            const catalog = yield* postgresSource.discover(asRole, T.context)
            assert.deepStrictEqual(catalog.streams.map((s) => s.name), ["open"])
          }),
          T.sql(`DROP OWNED BY ${role}`).pipe(Effect.andThen(T.sql(`DROP ROLE ${role}`)))
        )
      })
    ))

  it.live("discover maps every column type to JSON Schema, read maps every value to JSON", () =>
    T.withSchema((schema) =>
      Effect.gen(function*() {
        yield* T.sql(`CREATE DOMAIN "${schema}".positive AS integer CHECK (VALUE > 0)`)
        yield* T.sql(`CREATE TYPE "${schema}".mood AS ENUM ('ok', 'sad')`)
        const columns = TYPES.map(([type], i) => `c${i} ${type === "positive" || type === "mood" ? `"${schema}".${type}` : type}`)
        yield* T.sql(`CREATE TABLE "${schema}".types (id serial, ${columns.join(", ")}, PRIMARY KEY (id))`)
        yield* T.sql(`INSERT INTO "${schema}".types (${TYPES.map((_, i) => `c${i}`).join(", ")}) VALUES (${TYPES.map(([, literal]) => literal).join(", ")})`)
        yield* T.sql(`INSERT INTO "${schema}".types DEFAULT VALUES`)
        const catalog = yield* postgresSource.discover(configOf(schema), T.context)
        const stream = catalog.streams.find((s) => s.name === "types")
        assert.isDefined(stream)
        assert.strictEqual(stream?.namespace, schema)
        assert.deepStrictEqual(stream?.source_defined_primary_key, [["id"]])
        const properties = stream?.json_schema["properties"] as Record<string, unknown>
        assert.deepStrictEqual(properties["id"], { type: "integer" })
        TYPES.forEach(([type, , jsonSchema], i) => assert.deepStrictEqual(properties[`c${i}`], jsonSchema, type))

        const messages = yield* readAll(configOf(schema), T.configure(catalog.streams))
        const [first, second] = recordsOf(messages)
        TYPES.forEach(([type, , , value], i) => assert.deepStrictEqual(first?.data[`c${i}`], value, type))
        assert.deepStrictEqual(first?.meta?.changes?.map((c) => [c.field, c.reason]), [
          [`c${TYPES.findIndex(([t]) => t === "double precision")}`, "SOURCE_SERIALIZATION_ERROR"],
          [`c${TYPES.findIndex(([, l]) => l === "'infinity'")}`, "SOURCE_SERIALIZATION_ERROR"]
        ])
        assert.isTrue(TYPES.every((_, i) => second?.data[`c${i}`] === null))
        assert.deepStrictEqual(statesOf(messages).map((s) => [s.stream?.stream_state, s.sourceStats?.recordCount]), [[{}, 2]])
      })
    ))

  it.live("incremental: states at cursor boundaries, resume without loss, late ties read again", () =>
    T.withSchema((schema) =>
      Effect.gen(function*() {
        const table = `"${schema}".events`
        const groups = 250
        // 100 rows per cursor value; rows with a NULL cursor come first on the first read only.
        yield* T.sql(`CREATE TABLE ${table} (id serial PRIMARY KEY, v int, at timestamptz)`)
        yield* T.sql(`INSERT INTO ${table} (v, at) SELECT g / 100, timestamptz '2024-01-01' + (g / 100) * interval '1 minute' FROM generate_series(0, ${groups * 100 - 1}) g`)
        yield* T.sql(`INSERT INTO ${table} (v, at) VALUES (-1, NULL)`)
        const config = configOf(schema)
        const catalog = T.configure((yield* postgresSource.discover(config, T.context)).streams, { syncMode: "incremental", cursorField: ["at"] })
        const first = yield* readAll(config, catalog)
        const firstRecords = recordsOf(first)
        assert.strictEqual(firstRecords.length, groups * 100 + 1)
        assert.strictEqual(firstRecords[0]?.data["at"], null)
        const states = statesOf(first)
        assert.isAbove(states.length, 2)
        let seen = 0
        for (const message of first) {
          if (message.type === "RECORD") seen++
          if (message.type !== "STATE") continue
          const blob = message.state.stream?.stream_state as { cursor: string; cursor_record_count: number; cursor_field: Array<string> }
          assert.deepStrictEqual(blob.cursor_field, ["at"])
          // A state closes a whole group: every row up to it has a cursor ≤ the saved one, and 100 share it.
          assert.strictEqual(blob.cursor_record_count, 100)
          assert.isAtLeast(message.state.sourceStats?.recordCount ?? 0, message === first.at(-2) ? 1 : RECORDS_PER_STATE)
          const upTo = firstRecords.slice(0, seen)
          assert.strictEqual(upTo.filter((r) => r.data["at"] === upTo.at(-1)?.data["at"]).length, 100)
        }

        // A sync that failed after its first state resumes there: no row lost, none read twice.
        const afterFirst = states[0]!
        const resumed = recordsOf(yield* readAll(config, catalog, { _tag: "PerStream", states: [afterFirst] }))
        const firstPart = firstRecords.slice(0, (afterFirst.sourceStats?.recordCount ?? 0))
        const ids = [...firstPart, ...resumed].map((r) => r.data["id"] as number).sort((a, b) => a - b)
        assert.deepStrictEqual(ids, Array.from({ length: groups * 100 + 1 }, (_, i) => i + 1))

        // Nothing new: nothing read. Then a late row tying the saved cursor and a newer one: the tie group is read again.
        const last = states.at(-1)!
        assert.deepStrictEqual(recordsOf(yield* readAll(config, catalog, { _tag: "PerStream", states: [last] })), [])
        const lastAt = (last.stream?.stream_state as { cursor: string }).cursor
        yield* T.sql(`INSERT INTO ${table} (v, at) VALUES (1000, $1), (1001, $1::timestamptz + interval '1 second')`, [lastAt])
        const late = recordsOf(yield* readAll(config, catalog, { _tag: "PerStream", states: [last] }))
        assert.strictEqual(late.length, 102)
        assert.includeMembers(late.map((r) => r.data["v"]), [1000, 1001])
      })
    ), { timeout: 60_000 })
})
