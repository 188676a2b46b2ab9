/**
 * What the postgres source knows of a database: the tables, views and materialized views of the
 * configured schemas with their columns (domains resolved), primary keys, SELECT privilege and row
 * estimates, and the Airbyte streams they become. Imports the kit's protocol types and this folder.
 */
import * as Effect from "effect/Effect"
import type * as M from "../../engine/protocol/AirbyteMessage.ts"
import * as Pg from "./PgClient.ts"
import type { ConnectionConfig } from "./PostgresConfig.ts"
import { type ColumnInfo, jsonSchemaOf } from "./SourceTypes.ts"

export interface TableInfo {
  readonly schema: string
  readonly name: string
  readonly columns: ReadonlyArray<ColumnInfo>
  readonly primaryKey: ReadonlyArray<string>
  /** The connecting user may SELECT from it. */
  readonly readable: boolean
  /** `pg_class.reltuples`; undefined when the table was never analyzed. */
  readonly rowEstimate: number | undefined
}

// Partitions are read through their parent (relispartition), so they are not streams of their own.
const COLUMNS_SQL = `
SELECT n.nspname AS schema, c.relname AS table, a.attname AS column, a.attnotnull AS not_null,
       bt.typname AS type, bt.typtype AS typtype, et.typname AS element_type,
       has_table_privilege(c.oid, 'SELECT') AS readable, c.reltuples AS reltuples
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
LEFT JOIN pg_catalog.pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A'
WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
ORDER BY n.nspname, c.relname, a.attnum`

const PRIMARY_KEYS_SQL = `
SELECT n.nspname AS schema, c.relname AS table, a.attname AS column
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey::int2[])
WHERE i.indisprimary AND n.nspname = ANY($1::text[])
ORDER BY n.nspname, c.relname, array_position(i.indkey::int2[], a.attnum)`

const SCHEMAS_SQL = `
SELECT s AS schema, n.oid IS NOT NULL AS exists, n.oid IS NOT NULL AND has_schema_privilege(n.oid, 'USAGE') AS usable
FROM unnest($1::text[]) AS s LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = s`

const keyOf = (schema: string | null, table: string | null) => `${schema ?? ""}\u0000${table ?? ""}`

/** The tables of the schemas, in schema and name order. */
export const loadTables = (client: Pg.Client, config: ConnectionConfig, schemas: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const rows = yield* Pg.query(client, config, "listing columns", COLUMNS_SQL, [schemas])
    const keys = yield* Pg.query(client, config, "listing primary keys", PRIMARY_KEYS_SQL, [schemas])
    const primaryKeys = new Map<string, Array<string>>()
    for (const k of keys) {
      const key = keyOf(k["schema"] ?? null, k["table"] ?? null)
      primaryKeys.set(key, [...(primaryKeys.get(key) ?? []), k["column"] ?? ""])
    }
    const tables = new Map<string, { info: Omit<TableInfo, "columns">; columns: Array<ColumnInfo> }>()
    for (const r of rows) {
      const key = keyOf(r["schema"] ?? null, r["table"] ?? null)
      let entry = tables.get(key)
      if (entry === undefined) {
        const estimate = Number(r["reltuples"])
        entry = {
          info: {
            schema: r["schema"] ?? "",
            name: r["table"] ?? "",
            primaryKey: primaryKeys.get(key) ?? [],
            readable: r["readable"] === "t",
            rowEstimate: Number.isFinite(estimate) && estimate >= 0 ? Math.round(estimate) : undefined
          },
          columns: []
        }
        tables.set(key, entry)
      }
      entry.columns.push({
        name: r["column"] ?? "",
        type: r["type"] ?? "text",
        typtype: r["typtype"] ?? "b",
        elementType: r["element_type"] ?? undefined,
        notNull: r["not_null"] === "t"
      })
    }
    return [...tables.values()].map((t): TableInfo => ({ ...t.info, columns: t.columns }))
  })

export interface SchemaInfo {
  readonly schema: string
  readonly exists: boolean
  readonly usable: boolean
}

/** Whether each schema exists and the user has USAGE on it. */
export const loadSchemas = (client: Pg.Client, config: ConnectionConfig, schemas: ReadonlyArray<string>) =>
  Effect.map(
    Pg.query(client, config, "looking up schemas", SCHEMAS_SQL, [schemas]),
    (rows) => rows.map((r): SchemaInfo => ({ schema: r["schema"] ?? "", exists: r["exists"] === "t", usable: r["usable"] === "t" }))
  )

/** The Airbyte stream of a table: namespace = schema, name = table, columns as JSON Schema properties. */
export const streamOf = (table: TableInfo): M.AirbyteStream => ({
  name: table.name,
  namespace: table.schema,
  json_schema: {
    type: "object",
    properties: Object.fromEntries(table.columns.map((c) => [c.name, jsonSchemaOf(c)]))
  },
  supported_sync_modes: ["full_refresh", "incremental"],
  source_defined_cursor: false,
  ...(table.primaryKey.length === 0 ? {} : { source_defined_primary_key: table.primaryKey.map((c) => [c]) }),
  is_resumable: false
})
