/**
 * The postgres destination's tables: one per configured stream in the configured schema (namespace
 * ignored), named after the stream; typed columns from the JSON Schema plus `_sluice_raw_id`,
 * `_sluice_extracted_at`, `_sluice_meta`; created and evolved (ADD COLUMN) before the first record,
 * overwrite's `<table>__sluice_tmp` and its swap, append_dedup's unique index and staging table.
 * Imports the kit and this folder.
 */
import * as Effect from "effect/Effect"
import { createHash } from "node:crypto"
import { ConnectorError } from "../../engine/kit/Connector.ts"
import type * as M from "../../engine/protocol/AirbyteMessage.ts"
import { type ColumnType, columnTypeOf, converterFor, type ValueConverter } from "./DestinationTypes.ts"
import * as Pg from "./PgClient.ts"
import type { PostgresDestinationConfig } from "./PostgresConfig.ts"

export type Mode = "append" | "overwrite" | "append_dedup"

export const META_COLUMNS = ["_sluice_raw_id", "_sluice_extracted_at", "_sluice_meta"] as const
const META_DDL = `"_sluice_raw_id" uuid NOT NULL, "_sluice_extracted_at" timestamptz NOT NULL, "_sluice_meta" jsonb NOT NULL`

const MAX_IDENTIFIER_BYTES = 63
const TMP_SUFFIX = "__sluice_tmp"
const INDEX_SUFFIX = "__sluice_pk"

/**
 * A name PostgreSQL keeps as it is: NUL becomes `_`, and a name over 63 bytes is cut and given a hash
 * suffix (PostgreSQL would cut it silently, so two long names could collide).
 */
export const identifier = (name: string, maxBytes = MAX_IDENTIFIER_BYTES): string => {
  const clean = name.replaceAll("\u0000", "_")
  if (Buffer.byteLength(clean) <= maxBytes) return clean
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 8)
  let cut = clean
  while (Buffer.byteLength(cut) > maxBytes - 9) cut = cut.slice(0, -1)
  return `${cut}_${hash}`
}

export interface Column {
  /** The record field. */
  readonly field: string
  readonly name: string
  readonly type: ColumnType
}

/** Where one configured stream goes and how. */
export interface Target {
  readonly descriptor: M.StreamDescriptor
  readonly label: string
  readonly mode: Mode
  readonly syncMode: M.SyncMode
  readonly table: string
  /** The table rows are written to: the final table, or overwrite's temporary one. */
  readonly writeTable: string
  readonly columns: ReadonlyArray<Column>
  readonly primaryKey: ReadonlyArray<string>
  readonly cursor: string | undefined
}

const configError = (message: string) => new ConnectorError({ failureType: "config_error", message: `postgres: ${message}` })

const onePath = (path: ReadonlyArray<string> | undefined): string | undefined => (path?.length === 1 ? path[0] : undefined)

/** The targets of a configured catalog, or the first configuration problem. */
export const targetsOf = (catalog: M.ConfiguredAirbyteCatalog): ReadonlyArray<Target> | ConnectorError => {
  const byTable = new Map<string, string>()
  const targets: Array<Target> = []
  for (const entry of catalog.streams) {
    const { name, namespace } = entry.stream
    const label = namespace === undefined ? name : `${namespace}.${name}`
    const mode = entry.destination_sync_mode
    if (mode !== "append" && mode !== "overwrite" && mode !== "append_dedup") {
      return configError(`stream '${label}' asks for destination_sync_mode ${mode}; supported: append, overwrite, append_dedup`)
    }
    if (name.length === 0) return configError("a configured stream has an empty name")
    const table = identifier(name)
    const other = byTable.get(table)
    if (other !== undefined) return configError(`streams '${other}' and '${label}' would both be written to table ${table} (namespaces are not part of table names)`)
    byTable.set(table, label)
    const properties = entry.stream.json_schema["properties"]
    const columns: Array<Column> = []
    const names = new Set<string>(META_COLUMNS)
    for (const [field, schema] of Object.entries(typeof properties === "object" && properties !== null ? properties : {})) {
      const column = identifier(field)
      if (names.has(column)) return configError(`stream '${label}': field '${field}' collides with column ${column}`)
      names.add(column)
      columns.push({ field, name: column, type: columnTypeOf(schema) })
    }
    const columnOf = (path: ReadonlyArray<string>) => columns.find((c) => c.field === onePath(path))?.name
    const keyPaths = entry.primary_key ?? entry.stream.source_defined_primary_key ?? []
    const primaryKey = keyPaths.map(columnOf)
    if (primaryKey.some((k) => k === undefined)) return configError(`stream '${label}': every primary key must name one top-level field of its schema`)
    if (mode === "append_dedup" && primaryKey.length === 0) return configError(`stream '${label}': append_dedup needs a primary key`)
    const cursorPath = entry.stream.source_defined_cursor === true ? entry.stream.default_cursor_field : entry.cursor_field ?? entry.stream.default_cursor_field
    const cursor = cursorPath === undefined || cursorPath.length === 0 ? undefined : columnOf(cursorPath)
    const descriptor: M.StreamDescriptor = namespace === undefined ? { name } : { name, namespace }
    targets.push({
      descriptor,
      label,
      mode,
      syncMode: entry.sync_mode,
      table,
      writeTable: mode === "overwrite" ? `${identifier(name, MAX_IDENTIFIER_BYTES - TMP_SUFFIX.length)}${TMP_SUFFIX}` : table,
      columns,
      primaryKey: primaryKey as ReadonlyArray<string>,
      cursor
    })
  }
  return targets
}

// ---------------------------------------------------------------------------------------------- DDL

/** A target's columns as they are in the database (types included), with their converters. */
export interface Prepared {
  readonly target: Target
  readonly converters: ReadonlyArray<ValueConverter>
  /** The staging table of append_dedup (temporary, this session only). */
  readonly stage: string | undefined
}

const EXISTING_COLUMNS_SQL = `
SELECT a.attname AS name, t.typname AS type, CASE WHEN a.atttypmod > 4 AND t.typname IN ('varchar', 'bpchar') THEN a.atttypmod - 4 END AS max_length
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped`

const columnDdl = (c: Column) => `${Pg.ident(c.name)} ${c.type}`

/**
 * Creates the schema if missing, then for each target: creates its write table (a fresh one for a
 * full-refresh overwrite), adds missing columns, and for append_dedup the unique index on the primary
 * key and a temporary staging table. One transaction.
 */
export const prepare = (client: Pg.Client, config: PostgresDestinationConfig, targets: ReadonlyArray<Target>) =>
  Effect.gen(function*() {
    const q = (what: string, sql: string, values?: ReadonlyArray<unknown>) => Pg.query(client, config, what, sql, values)
    const schema = config.schema
    yield* q("starting the table setup", "BEGIN")
    const exists = yield* q("looking up the schema", "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", [schema])
    if (exists.length === 0) yield* q(`creating schema ${schema}`, `CREATE SCHEMA ${Pg.ident(schema)}`)
    const prepared: Array<Prepared> = []
    for (const [i, target] of targets.entries()) {
      const table = Pg.qualified(schema, target.writeTable)
      if (target.mode === "overwrite" && target.syncMode === "full_refresh") yield* q(`resetting ${table}`, `DROP TABLE IF EXISTS ${table}`)
      yield* q(`creating ${table}`, `CREATE TABLE IF NOT EXISTS ${table} (${[...target.columns.map(columnDdl), META_DDL].join(", ")})`)
      const existing = yield* q(`reading the columns of ${table}`, EXISTING_COLUMNS_SQL, [schema, target.writeTable])
      const have = new Map(existing.map((r) => [r["name"] ?? "", r]))
      const missing = target.columns.filter((c) => !have.has(c.name))
      if (missing.length > 0) {
        yield* q(`adding columns to ${table}`, `ALTER TABLE ${table} ${missing.map((c) => `ADD COLUMN ${columnDdl(c)}`).join(", ")}`)
      }
      const converters = target.columns.map((c) => {
        const row = have.get(c.name)
        const maxLength = row?.["max_length"]
        return row === undefined ? converterFor(c.type === "bigint" ? "int8" : c.type === "boolean" ? "bool" : c.type) : converterFor(row["type"] ?? "text", maxLength === null || maxLength === undefined ? undefined : Number(maxLength))
      })
      let stage: string | undefined = undefined
      if (target.mode === "append_dedup") {
        const index = Pg.ident(`${identifier(target.writeTable, MAX_IDENTIFIER_BYTES - INDEX_SUFFIX.length)}${INDEX_SUFFIX}`)
        yield* q(`indexing ${table}`, `CREATE UNIQUE INDEX IF NOT EXISTS ${index} ON ${table} (${target.primaryKey.map(Pg.ident).join(", ")})`)
        stage = `sluice_stage_${i + 1}`
        yield* q(`creating a staging table for ${table}`, `CREATE TEMPORARY TABLE ${Pg.ident(stage)} (LIKE ${table}, "_sluice_seq" bigint NOT NULL)`)
      }
      prepared.push({ target, converters, stage })
    }
    yield* q("finishing the table setup", "COMMIT")
    return prepared
  })

/** Overwrite's end: the temporary table replaces the table in one transaction (readers see old or new). */
export const swap = (client: Pg.Client, config: PostgresDestinationConfig, target: Target) =>
  Effect.gen(function*() {
    const q = (what: string, sql: string) => Pg.query(client, config, what, sql)
    const table = Pg.qualified(config.schema, target.table)
    yield* q(`swapping in ${table}`, "BEGIN")
    yield* q(`dropping the old ${table}`, `DROP TABLE IF EXISTS ${table}`)
    yield* q(`renaming into ${table}`, `ALTER TABLE ${Pg.qualified(config.schema, target.writeTable)} RENAME TO ${Pg.ident(target.table)}`)
    yield* q(`swapping in ${table}`, "COMMIT")
  })

/** Drops overwrite's temporary table (the stream did not complete: the old table stays). */
export const dropTemporary = (client: Pg.Client, config: PostgresDestinationConfig, target: Target) =>
  Pg.query(client, config, `dropping ${target.writeTable}`, `DROP TABLE IF EXISTS ${Pg.qualified(config.schema, target.writeTable)}`)
