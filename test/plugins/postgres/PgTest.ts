/**
 * Shared by the postgres connector tests: the database from SLUICE_TEST_DATABASE_URL (tests skip
 * without it), an admin pool, fresh randomly named schemas dropped afterwards, and the built-in
 * connectors as real processes through the engine's `replicate`.
 */
import { Effect, Stream } from "effect"
import { randomBytes } from "node:crypto"
import pg from "pg"
import * as Runtime from "../../../src/engine/ConnectorRuntime.ts"
import { fullIpc } from "../../../src/engine/IpcOptions.ts"
import type { ConnectorContext } from "../../../src/engine/kit/Connector.ts"
import type * as M from "../../../src/engine/protocol/AirbyteMessage.ts"
import { replicate, type ReplicationResult } from "../../../src/engine/replication/Replication.ts"
import type { StateInput } from "../../../src/engine/replication/ConnectionState.ts"
import { builtinConnectorCommand } from "../../../src/plugins/builtin.ts"
import type { ConnectionConfig } from "../../../src/plugins/postgres/PostgresConfig.ts"

export const databaseUrl = process.env["SLUICE_TEST_DATABASE_URL"] ?? ""
export const enabled = databaseUrl !== ""
export const SKIPPED = "postgres connector tests skipped: set SLUICE_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)"
if (!enabled) console.warn(SKIPPED)

/** The connector keys of the test database. */
export const connection = (): ConnectionConfig => {
  const url = new URL(databaseUrl || "postgres://postgres@127.0.0.1:5432/test")
  return {
    host: url.hostname,
    port: url.port === "" ? 5432 : Number(url.port),
    database: decodeURIComponent(url.pathname.slice(1)),
    user: decodeURIComponent(url.username),
    ...(url.password === "" ? {} : { password: decodeURIComponent(url.password) }),
    ssl_mode: "prefer"
  }
}

let pool: pg.Pool | undefined
const admin = () => (pool ??= new pg.Pool({ connectionString: databaseUrl, max: 4 }))

/** Closes the admin pool (afterAll). */
export const closePool = () => pool?.end() ?? Promise.resolve()

/** Runs SQL as the test database's user; rows as objects. */
export const sql = <R extends Record<string, unknown> = Record<string, unknown>>(text: string, values?: ReadonlyArray<unknown>) =>
  Effect.promise(async () => (await admin().query<R>(text, values === undefined ? undefined : [...values])).rows)

/** `SELECT count(*)` of a table as a number. */
export const count = (table: string, where = "true") =>
  Effect.map(sql<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`), (rows) => Number(rows[0]?.n ?? 0))

export const randomName = (prefix: string) => `${prefix}_${randomBytes(5).toString("hex")}`

/** Runs `f` with a fresh schema named `sluice_test_<random>`, dropped (with everything in it) afterwards. */
export const withSchema = <A, E>(f: (schema: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => randomName("sluice_test")).pipe(Effect.tap((schema) => sql(`CREATE SCHEMA "${schema}"`))),
    f,
    (schema) => sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  )

export const context: ConnectorContext = { jobId: undefined, attempt: undefined }

/** A built-in connector as a process, declaring socket support. */
export const builtin = (id: string, command: ReadonlyArray<string> = builtinConnectorCommand(id)) => ({ command, ipc: fullIpc })

export const discover = (id: string, config: unknown) => Runtime.discover({ role: "source", connector: builtin(id) }, config)

export const checkProcess = (id: string, role: "source" | "destination", config: unknown) => Runtime.check({ role, connector: builtin(id) }, config)

/** One attempt between two connector processes through the engine. */
export const sync = (input: {
  readonly source: { readonly connector: ReturnType<typeof builtin>; readonly config: unknown }
  readonly destination: { readonly connector: ReturnType<typeof builtin>; readonly config: unknown }
  readonly catalog: M.ConfiguredAirbyteCatalog
  readonly transport: "auto" | "stdio" | "socket"
  readonly state?: StateInput
}): Effect.Effect<ReplicationResult> =>
  replicate({ ...input, ...(input.state === undefined ? {} : { state: input.state }), limits: { socketCount: 2 } })

/** Every message of a stream. */
export const collect = <A, E>(stream: Stream.Stream<A, E>) => Effect.map(Stream.runCollect(stream), (chunk) => [...chunk])

/** A configured catalog of the given streams. */
export const configure = (
  streams: ReadonlyArray<M.AirbyteStream>,
  options: {
    readonly syncMode?: M.SyncMode
    readonly destinationSyncMode?: M.DestinationSyncMode
    readonly cursorField?: ReadonlyArray<string>
    readonly primaryKey?: ReadonlyArray<ReadonlyArray<string>>
  } = {}
): M.ConfiguredAirbyteCatalog => ({
  streams: streams.map((stream) => ({
    stream,
    sync_mode: options.syncMode ?? "full_refresh",
    destination_sync_mode: options.destinationSyncMode ?? "append",
    ...(options.cursorField === undefined ? {} : { cursor_field: options.cursorField }),
    ...(options.primaryKey === undefined ? {} : { primary_key: options.primaryKey })
  }))
})
