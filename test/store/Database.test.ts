import { afterAll, assert, describe, it, layer } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ConnectionStore } from "../../src/scheduler/ConnectionStore.ts"
import { ConnectionId } from "../../src/scheduler/Ids.ts"
import { JobStore } from "../../src/scheduler/JobStore.ts"
import * as ConnectionStoreSql from "../../src/store/ConnectionStoreSql.ts"
import * as Database from "../../src/store/Database.ts"
import * as JobStoreSql from "../../src/store/JobStoreSql.ts"
import * as Migrations from "../../src/store/Migrations.ts"
import { LOCK_FILE } from "../../src/store/StoreLock.ts"
import * as TestDatabase from "./TestDatabase.ts"

for (const db of TestDatabase.all) {
  layer(db.layer, { timeout: "120 seconds", excludeTestServices: true })(`Migrations on ${db.name}`, (it) => {
    it.effect("are applied once and are idempotent", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        assert.deepStrictEqual(yield* Migrations.run, [])
        assert.deepStrictEqual(yield* Migrations.run, [])
        const applied = yield* sql<{ readonly migration_id: number }>`SELECT migration_id FROM ${sql(Migrations.MIGRATIONS_TABLE)}
          ORDER BY migration_id`
        assert.deepStrictEqual(applied.map((row) => row.migration_id), Object.keys(Migrations.migrations).map((key) => Number(key.split("_")[0])))
      }))
  })
}

describe("embedded PGlite in a data directory", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "sluice-store-"))
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))
  const stores = Layer.mergeAll(JobStoreSql.layer, ConnectionStoreSql.layer).pipe(
    Layer.provideMerge(Database.layerPglite({ dataDir }))
  )
  const lockFile = join(dataDir, LOCK_FILE)

  it.live("persists across layer restarts and releases its lock on close", () =>
    Effect.gen(function*() {
      const jobId = yield* Effect.gen(function*() {
        yield* (yield* ConnectionStore).upsert(ConnectionId.make("kept"), { source: "faker" })
        assert.isTrue(existsSync(lockFile))
        assert.strictEqual(readFileSync(lockFile, "utf8").split(" ")[0], String(process.pid))
        return (yield* (yield* JobStore).enqueueJob({ configType: "sync", scope: "kept", config: {} })).id
      }).pipe(Effect.provide(stores))
      assert.isFalse(existsSync(lockFile))
      yield* Effect.gen(function*() {
        assert.deepStrictEqual((yield* (yield* ConnectionStore).get(ConnectionId.make("kept"))).spec, { source: "faker" })
        assert.strictEqual((yield* (yield* JobStore).getJob(jobId)).job.status, "pending")
      }).pipe(Effect.provide(stores))
    }), { timeout: 120_000 })

  it.live("a second layer on the same data directory fails with StoreLocked while the first is open", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.scoped(Layer.build(Database.layerPglite({ dataDir })))).pipe(
        Effect.provide(stores)
      )
      assert.strictEqual(error._tag, "StoreLocked")
      assert.include(error.message, `this process (pid ${process.pid})`)
      assert.include(error.message, lockFile)
      assert.include(error.message, "SLUICE_DATABASE_URL")
    }), { timeout: 120_000 })

  it.live("a lock held by another live process names it; a lock left by a dead process is taken over", () =>
    Effect.gen(function*() {
      writeFileSync(lockFile, `${process.ppid} other\n`)
      const error = yield* Effect.flip(Effect.scoped(Layer.build(Database.layerPglite({ dataDir }))))
      assert.strictEqual(error._tag, "StoreLocked")
      assert.include(error.message, `process ${process.ppid} holds it`)
      assert.strictEqual(readFileSync(lockFile, "utf8"), `${process.ppid} other\n`)
      writeFileSync(lockFile, "999999999 crashed\n")
      yield* Effect.gen(function*() {
        assert.strictEqual(readFileSync(lockFile, "utf8").split(" ")[0], String(process.pid))
        assert.strictEqual((yield* (yield* ConnectionStore).get(ConnectionId.make("kept"))).name, "kept")
      }).pipe(Effect.provide(stores))
      assert.isFalse(existsSync(lockFile))
    }), { timeout: 120_000 })

  it.live("layerFromEnv opens the embedded database when SLUICE_DATABASE_URL is not set", () =>
    Effect.gen(function*() {
      const fromEnv = ConnectionStoreSql.layer.pipe(
        Layer.provide(Database.layerFromEnv({ dataDir })),
        Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: {} })))
      )
      const connection = yield* Effect.gen(function*() {
        return yield* (yield* ConnectionStore).get(ConnectionId.make("kept"))
      }).pipe(Effect.provide(fromEnv))
      assert.strictEqual(connection.name, "kept")
    }), { timeout: 120_000 })
})
