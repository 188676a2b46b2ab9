/**
 * The postgres connectors' pure parts, no server needed: destination column types from JSON Schema,
 * the per-value fit checks, COPY text escaping, array literal parsing, and how a config naming
 * `postgres` resolves to the built-in connector processes.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { resolveConnector } from "../../../src/config/ConnectorResolver.ts"
import { destinations, sources } from "../../../src/config/Connectors.ts"
import { secret } from "../../../src/config/Secret.ts"
import { type ColumnType, columnTypeOf, converterFor, MISFIT } from "../../../src/plugins/postgres/DestinationTypes.ts"
import { copyLine } from "../../../src/plugins/postgres/Loader.ts"
import { INVALID, parseArray } from "../../../src/plugins/postgres/SourceTypes.ts"
import * as T from "./PgTest.ts"

const COLUMN_TYPES: ReadonlyArray<readonly [unknown, ColumnType]> = [
  [{ type: "integer" }, "bigint"],
  [{ type: ["null", "integer"] }, "bigint"],
  [{ type: "number", airbyte_type: "integer" }, "bigint"],
  [{ type: "number" }, "numeric"],
  [{ type: "boolean" }, "boolean"],
  [{ type: "string" }, "text"],
  [{ type: "string", format: "date-time" }, "timestamptz"],
  [{ type: "string", format: "date-time", airbyte_type: "timestamp_without_timezone" }, "timestamp"],
  [{ type: "string", format: "date" }, "date"],
  [{ type: "string", format: "time", airbyte_type: "time_without_timezone" }, "time"],
  [{ type: "string", format: "time" }, "timetz"],
  [{ type: "string", format: "uuid" }, "uuid"],
  [{ type: "string", contentEncoding: "base64" }, "bytea"],
  [{ $ref: "WellKnownTypes.json#/definitions/TimestampWithTimezone" }, "timestamptz"],
  [{ oneOf: [{ type: "null" }, { type: "integer" }] }, "bigint"],
  [{ type: "object" }, "jsonb"],
  [{ type: "array", items: { type: "string" } }, "jsonb"],
  [{ type: ["string", "integer"] }, "jsonb"],
  [{}, "jsonb"]
]

/** A column's typname, a JSON value, what is written (MISFIT: nulled and recorded). */
const FITS: ReadonlyArray<readonly [string, unknown, string | typeof MISFIT]> = [
  ["int8", 42, "42"],
  ["int8", "9223372036854775807", "9223372036854775807"],
  ["int8", "9223372036854775808", MISFIT],
  ["int8", 1.5, MISFIT],
  ["int4", 2147483648, MISFIT],
  ["int2", "-32768", "-32768"],
  ["numeric", 0.1, "0.1"],
  ["numeric", "-1.5e10", "-1.5e10"],
  ["numeric", Number.NaN, MISFIT],
  ["numeric", "1,5", MISFIT],
  ["bool", false, "f"],
  ["bool", "true", MISFIT],
  ["text", 12, "12"],
  ["text", { a: 1 }, "{\"a\":1}"],
  ["text", "a\u0000b", MISFIT],
  ["varchar", "abcdef", MISFIT],
  ["jsonb", { s: "\ud83d\ude00" }, "{\"s\":\"😀\"}"],
  ["jsonb", { s: "\ud800" }, MISFIT],
  ["jsonb", { s: "\\ud800" }, "{\"s\":\"\\\\ud800\"}"],
  ["timestamptz", "2024-02-29T23:59:59.123456789+05:30", "2024-02-29T23:59:59.123456789+05:30"],
  ["timestamptz", "2024-01-01T23:59:60Z", "2024-01-01T23:59:60Z"],
  ["timestamptz", "2024-01-01T23:59:60.5Z", MISFIT],
  ["timestamptz", "2024-01-01T00:00:00+16", MISFIT],
  ["timestamptz", "2024-01-01 24:00:00Z", "2024-01-01 24:00:00Z"],
  ["timestamptz", "2023-02-29T00:00:00Z", MISFIT],
  ["timestamptz", "0000-01-01T00:00:00Z", MISFIT],
  ["timestamptz", 1700000000000, MISFIT],
  ["timestamp", "2024-01-01T10:00", "2024-01-01T10:00"],
  ["date", "2024-04-31", MISFIT],
  ["date", "2024-04-30T00:00:00", MISFIT],
  ["time", "12:60", MISFIT],
  ["time", "24:00:00.5", MISFIT],
  ["timetz", "12:00:00-03", "12:00:00-03"],
  ["uuid", "0B9A6B4E-7C6A-4A39-9A55-7B1C3C7A1F00", "0B9A6B4E-7C6A-4A39-9A55-7B1C3C7A1F00"],
  ["uuid", "0b9a6b4e", MISFIT],
  ["bytea", "AQL/", "\\x0102ff"],
  ["bytea", "AQL", MISFIT]
]

describe("postgres destination types", () => {
  it("maps JSON Schema to column types", () => {
    for (const [schema, type] of COLUMN_TYPES) assert.strictEqual(columnTypeOf(schema), type, JSON.stringify(schema))
  })

  it("checks every value against its column before it is written", () => {
    for (const [typname, value, expected] of FITS) {
      const converter = typname === "varchar" ? converterFor("varchar", 5) : converterFor(typname)
      assert.strictEqual(converter(value), expected, `${typname} ${JSON.stringify(value)}`)
    }
  })

  it.live.skipIf(!T.enabled)("PostgreSQL accepts every value the checks let through", () =>
    Effect.gen(function*() {
      for (const [typname, value, expected] of FITS) {
        if (expected === MISFIT) continue
        const cast = typname === "varchar" ? "varchar(5)" : typname
        const exit = yield* Effect.exit(T.sql(`SELECT $1::${cast} AS v`, [expected]))
        assert.strictEqual(exit._tag, "Success", `${typname} ${JSON.stringify(value)}`)
      }
    }).pipe(Effect.ensuring(Effect.promise(() => T.closePool()))))

  it("escapes COPY text", () => {
    assert.strictEqual(copyLine(["a\tb", null, "c\\d\ne\r", ""]), "a\\tb\t\\N\tc\\\\d\\ne\\r\t\n")
  })
})

describe("postgres source array literals", () => {
  const number = (text: string) => (text === "bad" ? INVALID : Number(text))
  it("parses nested, quoted, NULL and bounded arrays", () => {
    assert.deepStrictEqual(parseArray("{1,2,NULL}", number), [1, 2, null])
    assert.deepStrictEqual(parseArray("{{1,2},{3,4}}", number), [[1, 2], [3, 4]])
    assert.deepStrictEqual(parseArray("[0:1]={5,6}", number), [5, 6])
    assert.deepStrictEqual(parseArray("{\"a,b\",\"q\\\"z\",\"NULL\",plain}", (t) => t), ["a,b", "q\"z", "NULL", "plain"])
    assert.deepStrictEqual(parseArray("{}", number), [])
    assert.deepStrictEqual(parseArray("{bad}", number), [null])
    assert.isUndefined(parseArray("not an array", number))
  })
})

describe("postgres in config as code", () => {
  it.effect("sources.postgres and destinations.postgres run the built-in connector processes", () =>
    Effect.gen(function*() {
      const database = { host: "db", port: 5432, database: "app", user: "sluice", password: secret("PGPASSWORD") }
      const env = { PGPASSWORD: "pw" }
      const source = yield* resolveConnector(sources.postgres({ ...database, schemas: ["public"] }), { env })
      assert.deepStrictEqual(source.definition.command.slice(-2), ["connector", "postgres-source"])
      assert.deepStrictEqual(source.config, { ...database, password: "pw", schemas: ["public"] })
      const destination = yield* resolveConnector(destinations.postgres({ ...database, schema: "raw", ssl_mode: "require" }), { env })
      assert.deepStrictEqual(destination.definition.command.slice(-2), ["connector", "postgres-destination"])
      assert.deepStrictEqual(destination.definition.ipc?.dataChannel.supportedTransport, ["SOCKET", "STDIO"])
    }))
})
