/**
 * `postgres-source`: the tables of the configured schemas as streams (namespace = schema). `check`
 * says which of reachability, credentials, database, schema or SELECT permission fails; `discover`
 * lists the readable tables with JSON Schema types and primary keys; `read` is in SourceRead.ts.
 * Imports the connector kit, `effect` and this folder.
 */
import * as Effect from "effect/Effect"
import type { ConnectorError, SourceConnector } from "../../engine/kit/Connector.ts"
import { makeSpec } from "../../engine/kit/Spec.ts"
import { fullIpc } from "../../engine/IpcOptions.ts"
import type * as M from "../../engine/protocol/AirbyteMessage.ts"
import * as Pg from "./PgClient.ts"
import { PostgresSourceConfig } from "./PostgresConfig.ts"
import { loadSchemas, loadTables, streamOf } from "./SourceCatalog.ts"
import { read } from "./SourceRead.ts"

const failed = (message: string): M.AirbyteConnectionStatus => ({ status: "FAILED", message })

const listed = (names: ReadonlyArray<string>) => names.length > 5 ? `${names.slice(0, 5).join(", ")} and ${names.length - 5} more` : names.join(", ")

const check = (config: PostgresSourceConfig): Effect.Effect<M.AirbyteConnectionStatus> =>
  Effect.scoped(Effect.gen(function*() {
    const client = yield* Pg.connect(config, "sluice-postgres-source")
    const schemas = yield* loadSchemas(client, config, config.schemas)
    const missing = schemas.filter((s) => !s.exists).map((s) => s.schema)
    if (missing.length > 0) return failed(`postgres: schema ${listed(missing)} does not exist in database "${config.database}"`)
    const unusable = schemas.filter((s) => !s.usable).map((s) => s.schema)
    if (unusable.length > 0) return failed(`postgres: permission denied: user "${config.user}" lacks USAGE on schema ${listed(unusable)}`)
    const tables = yield* loadTables(client, config, config.schemas)
    const unreadable = tables.filter((t) => !t.readable).map((t) => `${t.schema}.${t.name}`)
    if (unreadable.length > 0) return failed(`postgres: permission denied: user "${config.user}" lacks SELECT on ${listed(unreadable)}`)
    return { status: "SUCCEEDED" } satisfies M.AirbyteConnectionStatus
  })).pipe(Effect.catch((error: ConnectorError) => Effect.succeed(failed(error.message))))

const discover = (config: PostgresSourceConfig): Effect.Effect<M.AirbyteCatalog, ConnectorError> =>
  Effect.scoped(Effect.gen(function*() {
    const client = yield* Pg.connect(config, "sluice-postgres-source")
    const tables = yield* loadTables(client, config, config.schemas)
    return { streams: tables.filter((t) => t.readable).map(streamOf) }
  }))

export const postgresSource: SourceConnector<PostgresSourceConfig> = {
  id: "postgres-source",
  kind: "source",
  description: "Tables of PostgreSQL schemas: full refresh or incremental on a cursor column, in one consistent snapshot.",
  config: PostgresSourceConfig,
  spec: makeSpec({ config: PostgresSourceConfig, title: "postgres source", supportsIncremental: true }),
  ipc: fullIpc,
  check,
  discover,
  read: ({ catalog, config, state }) => read({ catalog, config, state })
}
