/**
 * The databases every store test runs against: PGlite in memory always, and PostgreSQL when
 * SLUICE_TEST_DATABASE_URL is set, each test file in a fresh schema dropped afterwards.
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import type { StoreError } from "../../src/scheduler/StoreErrors.ts"
import * as Database from "../../src/store/Database.ts"

export interface TestDatabase {
  readonly name: string
  readonly layer: Layer.Layer<Database.Database, Database.StoreLocked | StoreError>
}

const url = process.env["SLUICE_TEST_DATABASE_URL"]

/** PostgreSQL with every table in `sluice_test_<random>`, dropped when the layer closes. */
export const postgresInFreshSchema = (databaseUrl: string) => {
  const schema = `sluice_test_${randomBytes(6).toString("hex")}`
  const dropAfterwards = Layer.effectDiscard(Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    yield* Effect.addFinalizer(() => Effect.orDie(sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`))
  })).pipe(Layer.provide(PgClient.layer({ url: Redacted.make(databaseUrl), maxConnections: 1 })), Layer.orDie)
  return Database.layerPostgres(Redacted.make(databaseUrl), { schema }).pipe(Layer.provide(dropAfterwards))
}

export const all: ReadonlyArray<TestDatabase> = [
  { name: "PGlite", layer: Database.layerPglite() },
  ...(url === undefined || url === "" ? [] : [{ name: "PostgreSQL", layer: postgresInFreshSchema(url) }])
]
