/**
 * The database layers: embedded PGlite in a data directory (the zero-setup default) or PostgreSQL
 * from a URL, both as a @effect/sql-pg client with migrations applied on start. Chooses between
 * them from SLUICE_DATABASE_URL. Imports no scheduler logic beyond its errors.
 *
 * PGlite runs with fsync off: a crash of the machine (not just of Sluice) can lose the most recent
 * commits. Production uses PostgreSQL.
 */
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { PgClient } from "@effect/sql-pg"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type { SqlClient } from "effect/sql"
import * as fs from "node:fs/promises"
import { join } from "node:path"
import { StoreError } from "../scheduler/StoreErrors.ts"
import * as Migrations from "./Migrations.ts"
import { orStoreError } from "./SqlFailure.ts"
import * as StoreLock from "./StoreLock.ts"

export { StoreLocked } from "./StoreLock.ts"

export type Database = PgClient.PgClient | SqlClient.SqlClient

/** Unix socket paths longer than this do not fit `sun_path` on every platform: use TCP loopback. */
const MAX_SOCKET_PATH = 100

const openError = (operation: string) => (cause: unknown) =>
  new StoreError({ operation, detail: cause instanceof Error ? cause.message : String(cause), retryable: false, cause })

/** A migrated client: the connection layer with `Migrations.run` applied before anything uses it. */
const migrated = (client: Layer.Layer<Database, StoreError>): Layer.Layer<Database, StoreError> =>
  Layer.effectDiscard(Effect.mapError(Migrations.run, (error) =>
    new StoreError({ operation: "migrate the database", detail: error.message, retryable: false, cause: error }))).pipe(
    Layer.provideMerge(client)
  )

const clientLayer = (config: PgClient.PgPoolConfig): Layer.Layer<Database, StoreError> =>
  PgClient.layerFrom(Effect.mapError(PgClient.make(config), (error) =>
    new StoreError({ operation: "connect to the database", detail: error.message, retryable: error.isRetryable, cause: error })))

/** Starts PGlite (persisted in `dataDir/pgdata`, or in memory) and serves it on one connection. */
const servePglite = (dataDir: string | undefined) =>
  Effect.gen(function*() {
    if (dataDir !== undefined) {
      yield* Effect.tryPromise({ try: () => fs.mkdir(dataDir, { recursive: true, mode: 0o700 }), catch: openError("create the data directory") })
      yield* StoreLock.acquire(dataDir)
    }
    const db = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => PGlite.create(dataDir === undefined ? {} : { dataDir: join(dataDir, "pgdata") }),
        catch: openError("open the embedded database")
      }),
      (db) => Effect.promise(() => db.close())
    )
    const socketPath = dataDir === undefined ? undefined : join(dataDir, ".s.PGSQL.5432")
    const path = socketPath !== undefined && socketPath.length <= MAX_SOCKET_PATH ? socketPath : undefined
    // A socket file left by a process that died; the lock says nobody else uses it.
    if (path !== undefined) yield* Effect.promise(() => fs.rm(path, { force: true }))
    const server = new PGLiteSocketServer({
      db,
      maxConnections: 1,
      ...(path === undefined ? { host: "127.0.0.1", port: 0 } : { path })
    })
    yield* Effect.acquireRelease(
      Effect.tryPromise({ try: () => server.start(), catch: openError("serve the embedded database") }),
      () => Effect.promise(() => server.stop())
    )
    if (path !== undefined) return { path }
    const [host, port] = server.getServerConn().split(":")
    return { host: host ?? "127.0.0.1", port: Number(port) }
  })

export interface PgliteOptions {
  /** Where the database lives (`.sluice/` beside the config file); absent: in memory, for tests. */
  readonly dataDir?: string
}

/**
 * Embedded PGlite served through pglite-socket on one connection (a Unix socket inside the data
 * directory, or 127.0.0.1 on a free port), consumed by sql-pg with one multiplexed connection.
 * Holds `dataDir/sluice.lock` while open: a second process fails with StoreLocked.
 */
export const layerPglite = (options: PgliteOptions = {}): Layer.Layer<Database, StoreLock.StoreLocked | StoreError> =>
  Layer.unwrap(Effect.map(servePglite(options.dataDir), (address) =>
    migrated(clientLayer({
      ...address,
      username: "postgres",
      database: "postgres",
      maxConnections: 1,
      multiplex: true,
      applicationName: "sluice"
    }))))

export interface PostgresOptions {
  /** Keep every table in this schema (created when missing) instead of the default search path. */
  readonly schema?: string
  readonly maxConnections?: number
}

/** PostgreSQL (15 or newer) from a connection URL, e.g. SLUICE_DATABASE_URL. */
export const layerPostgres = (
  url: Redacted.Redacted<string>,
  options: PostgresOptions = {}
): Layer.Layer<Database, StoreError> => {
  const base: PgClient.PgPoolConfig = {
    url,
    applicationName: "sluice",
    maxConnections: options.maxConnections ?? 10
  }
  if (options.schema === undefined) return migrated(clientLayer(base))
  const schema = options.schema
  const createSchema = Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    yield* sql`CREATE SCHEMA IF NOT EXISTS ${sql(schema)}`
  }).pipe(orStoreError("create the database schema"))
  const withSchema = Layer.effectDiscard(createSchema).pipe(Layer.provide(clientLayer({ ...base, maxConnections: 1 })))
  return migrated(clientLayer({ ...base, startupParameters: { search_path: schema } })).pipe(Layer.provide(withSchema))
}

/**
 * PostgreSQL when SLUICE_DATABASE_URL is set, else embedded PGlite in `dataDir` (the CLI passes
 * `.sluice/` next to the config file).
 */
export const layerFromEnv = (options: { readonly dataDir: string }): Layer.Layer<Database, StoreLock.StoreLocked | StoreError> =>
  Layer.unwrap(
    Config.option(Config.Redacted("SLUICE_DATABASE_URL")).pipe(
      Effect.mapError(openError("read SLUICE_DATABASE_URL")),
      Effect.map((url) =>
        Option.match(url, {
          onNone: () => layerPglite({ dataDir: options.dataDir }),
          onSome: (value) => layerPostgres(value)
        })
      )
    )
  )
