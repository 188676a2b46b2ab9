/**
 * `postgres-destination`: each stream into a typed table of the configured schema. Records are
 * buffered per table and loaded (COPY by default) inside one transaction per input batch; the states
 * of a batch are echoed only after its COMMIT. append_dedup upserts on the primary key (latest cursor
 * wins); overwrite writes `<table>__sluice_tmp` and swaps it in when the stream's COMPLETE status
 * arrives. Values that do not fit their column are nulled and listed in `_sluice_meta.changes`.
 * Imports the connector kit, `effect` and this folder.
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"
import * as Batch from "../../engine/Batch.ts"
import { ConnectorError, type DestinationConnector } from "../../engine/kit/Connector.ts"
import { makeSpec } from "../../engine/kit/Spec.ts"
import { fullIpc } from "../../engine/IpcOptions.ts"
import type * as M from "../../engine/protocol/AirbyteMessage.ts"
import { dropTemporary, type Prepared, prepare, swap, targetsOf } from "./DestinationTables.ts"
import { MISFIT } from "./DestinationTypes.ts"
import * as Loader from "./Loader.ts"
import * as Pg from "./PgClient.ts"
import { PostgresDestinationConfig } from "./PostgresConfig.ts"

/** A table's buffer is handed to its open COPY when it holds this many bytes of COPY text. */
export const COPY_CHUNK_BYTES = 256 * 1024
/** Room for one more line past the mark; a longer line is sent on its own. */
const CHUNK_CAPACITY = 2 * COPY_CHUNK_BYTES
/** With INSERTs, a table's buffer is loaded when it holds this many rows. */
export const INSERT_BATCH_ROWS = 10_000
/** `SLUICE_POSTGRES_LOAD_METHOD=insert` loads with multi-row INSERTs instead of COPY (benchmarks). */
export const LOAD_METHOD_ENV = "SLUICE_POSTGRES_LOAD_METHOD"

const EMPTY_META = "{\"changes\":[]}"

interface Table {
  readonly p: Prepared
  /** COPY text (copy) in `chunk[0, used)`, and a line that did not fit … */
  chunk: Buffer
  used: number
  overflow: string | undefined
  /** … or rows (insert) not loaded yet. */
  rows: Array<Loader.Row>
  swapped: boolean
}

const systemError = (message: string) => new ConnectorError({ failureType: "system_error", message: `postgres: ${message}` })

const metaOf = (record: M.AirbyteRecordMessage, changes: ReadonlyArray<M.RecordMetaChange> | undefined): string => {
  if (record.meta === undefined && changes === undefined) return EMPTY_META
  return JSON.stringify({ ...record.meta, changes: [...(record.meta?.changes ?? []), ...(changes ?? [])] })
}

const makeWriter = (client: Pg.Client, config: PostgresDestinationConfig, prepared: ReadonlyArray<Prepared>, method: Loader.LoadMethod) => {
  const byNamespace = new Map<string | undefined, Map<string, Table>>()
  const tables: Array<Table> = []
  for (const p of prepared) {
    const table: Table = { p, chunk: Buffer.allocUnsafe(method === "copy" ? CHUNK_CAPACITY : 0), used: 0, overflow: undefined, rows: [], swapped: false }
    tables.push(table)
    const byName = byNamespace.get(p.target.descriptor.namespace) ?? new Map<string, Table>()
    byName.set(p.target.descriptor.name, table)
    byNamespace.set(p.target.descriptor.namespace, byName)
  }
  const lookup = (namespace: string | undefined, name: string) => byNamespace.get(namespace)?.get(name)
  const loader = Loader.makeLoader(client, config, method)
  let inTransaction = false
  let sinceState = 0
  let seq = 0
  let lastEmittedAt = Number.NaN
  let lastExtractedAt = ""
  let pending: Array<M.AirbyteMessage> = []

  const extractedAt = (ms: number): string => {
    if (ms !== lastEmittedAt) {
      lastEmittedAt = ms
      const date = new Date(ms)
      lastExtractedAt = Number.isNaN(date.getTime()) ? new Date().toISOString() : date.toISOString()
    }
    return lastExtractedAt
  }

  /** Buffers the record as text inputs (a COPY line or a row); misfits become NULL and meta changes. Returns whether the buffer is full. */
  const append = (table: Table, record: M.AirbyteRecordMessage): boolean => {
    const { converters, stage, target } = table.p
    const columns = target.columns
    const row: Loader.Row = new Array(columns.length + (stage === undefined ? 3 : 4))
    let changes: Array<M.RecordMetaChange> | undefined = undefined
    const data = record.data
    for (let i = 0; i < columns.length; i++) {
      const column = columns[i]!
      const value = data[column.field]
      if (value === undefined || value === null) {
        row[i] = null
        continue
      }
      const text = converters[i]!(value)
      if (text === MISFIT) {
        row[i] = null
        changes ??= []
        changes.push({ field: column.field, change: "NULLED", reason: "DESTINATION_TYPECAST_ERROR" })
      } else row[i] = text
    }
    const n = columns.length
    row[n] = randomUUID()
    row[n + 1] = extractedAt(record.emitted_at)
    row[n + 2] = metaOf(record, changes)
    if (stage !== undefined) row[n + 3] = String(++seq)
    if (method === "insert") {
      table.rows.push(row)
      return table.rows.length >= INSERT_BATCH_ROWS
    }
    // Encoded at once: a line becomes garbage young instead of waiting in a list for the next load.
    const line = Loader.copyLine(row)
    if (table.used + line.length * 3 > table.chunk.length) {
      table.overflow = line
      return true
    }
    table.used += table.chunk.write(line, table.used)
    return table.used >= COPY_CHUNK_BYTES
  }

  const flushTable = (table: Table) =>
    Effect.gen(function*() {
      if (table.rows.length === 0 && table.used === 0 && table.overflow === undefined) return
      if (!inTransaction) {
        yield* Pg.query(client, config, "starting a transaction", "BEGIN")
        inTransaction = true
      }
      const text: Array<Uint8Array | string> = table.used === 0 ? [] : [table.chunk.subarray(0, table.used)]
      if (table.overflow !== undefined) text.push(table.overflow)
      const rows = table.rows
      // The loaded buffer may still be queued on the socket: the next lines go to a new one.
      if (table.used > 0) table.chunk = Buffer.allocUnsafe(CHUNK_CAPACITY)
      table.used = 0
      table.overflow = undefined
      table.rows = []
      yield* loader.load(table.p, text, rows)
    })

  /** Loads every buffer, commits, and releases the states received so far. */
  const commit = (out: Array<M.AirbyteMessage>) =>
    Effect.gen(function*() {
      for (const table of tables) yield* flushTable(table)
      yield* loader.finish
      if (inTransaction) {
        yield* Pg.query(client, config, "committing", "COMMIT")
        inTransaction = false
      }
      out.push(...pending)
      pending = []
    })

  const complete = (descriptor: M.StreamDescriptor, out: Array<M.AirbyteMessage>) =>
    Effect.gen(function*() {
      const table = lookup(descriptor.namespace, descriptor.name)
      if (table === undefined || table.p.target.mode !== "overwrite" || table.swapped) return
      yield* commit(out)
      yield* swap(client, config, table.p.target)
      table.swapped = true
    })

  /** Why a record cannot be written: its stream is unknown, or its table was already swapped in. */
  const refusal = (record: M.AirbyteRecordMessage, table: ReturnType<typeof lookup>): ConnectorError => {
    const label = record.namespace === undefined ? record.stream : `${record.namespace}.${record.stream}`
    return table === undefined
      ? new ConnectorError({ failureType: "config_error", message: `postgres: a record of stream '${label}', which is not in the configured catalog` })
      : systemError(`a record of stream '${label}' arrived after its COMPLETE status`)
  }

  /** Messages `from` on, with whatever Effects they need (a full table buffer, a stream's COMPLETE). */
  const finish = (batch: ReadonlyArray<M.AirbyteMessage>, from: number) =>
    Effect.gen(function*() {
      const out: Array<M.AirbyteMessage> = []
      for (let i = from; i < batch.length; i++) {
        const message = batch[i]!
        if (message.type === "RECORD") {
          const table = lookup(message.record.namespace, message.record.stream)
          if (table === undefined || table.swapped) return yield* refusal(message.record, table)
          sinceState++
          if (append(table, message.record)) yield* flushTable(table)
        } else if (message.type === "STATE") {
          pending.push({ ...message, state: { ...message.state, destinationStats: { recordCount: sinceState } } })
          sinceState = 0
        } else if (message.type === "TRACE" && message.trace.stream_status?.status === "COMPLETE") {
          yield* complete(message.trace.stream_status.stream_descriptor, out)
        }
      }
      if (pending.length > 0) yield* commit(out)
      return out
    })

  /**
   * Records that fit the table buffers and states are handled synchronously; an Effect (generator)
   * only from the first message that needs one. A generator per batch kept every batch alive past the
   * next young-generation GC (docs/replication.md, "Hot paths").
   */
  const onBatch = (batch: ReadonlyArray<M.AirbyteMessage>): Effect.Effect<ReadonlyArray<M.AirbyteMessage>, ConnectorError> => {
    for (let i = 0; i < batch.length; i++) {
      const message = batch[i]!
      if (message.type === "RECORD") {
        const table = lookup(message.record.namespace, message.record.stream)
        if (table === undefined || table.swapped) return Effect.fail(refusal(message.record, table))
        sinceState++
        if (append(table, message.record)) return Effect.andThen(flushTable(table), finish(batch, i + 1))
      } else if (message.type === "STATE") {
        pending.push({ ...message, state: { ...message.state, destinationStats: { recordCount: sinceState } } })
        sinceState = 0
      } else if (message.type === "TRACE" && message.trace.stream_status?.status === "COMPLETE") return finish(batch, i)
    }
    return pending.length > 0 ? finish(batch, batch.length) : Effect.succeed([])
  }

  /** The input ended: commit the rest; an overwrite that never completed keeps the old table. */
  const end = Effect.gen(function*() {
    const out: Array<M.AirbyteMessage> = []
    yield* commit(out)
    for (const table of tables) {
      const target = table.p.target
      if (target.mode !== "overwrite" || table.swapped) continue
      if (target.syncMode === "full_refresh") yield* dropTemporary(client, config, target)
      const kept = target.syncMode === "full_refresh" ? "" : `; ${target.writeTable} is kept for the next attempt to resume`
      out.push({ type: "LOG", log: { level: "WARN", message: `postgres: stream '${target.label}' did not complete: ${target.table} was not replaced${kept}` } })
    }
    return out
  })

  return { onBatch, end }
}

const write: DestinationConnector<PostgresDestinationConfig>["write"] = ({ catalog, config, messages }) =>
  Stream.unwrap(Effect.gen(function*() {
    const targets = targetsOf(catalog)
    if (targets instanceof ConnectorError) return yield* targets
    const method: Loader.LoadMethod = process.env[LOAD_METHOD_ENV] === "insert" ? "insert" : "copy"
    const client = yield* Pg.connect(config, "sluice-postgres-destination")
    const prepared = yield* prepare(client, config, targets)
    const writer = makeWriter(client, config, prepared, method)
    return messages.pipe(
      Batch.mapBatchEffect(writer.onBatch),
      Stream.concat(Stream.fromIterableEffect(writer.end))
    )
  }))

const check = (config: PostgresDestinationConfig): Effect.Effect<M.AirbyteConnectionStatus> =>
  Effect.scoped(Effect.gen(function*() {
    const client = yield* Pg.connect(config, "sluice-postgres-destination")
    const q = (what: string, sql: string, values?: ReadonlyArray<unknown>) => Pg.query(client, config, what, sql, values)
    // Everything the write needs, tried for real and rolled back.
    yield* q("starting a transaction", "BEGIN")
    const exists = yield* q("looking up the schema", "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", [config.schema])
    if (exists.length === 0) yield* q(`creating schema ${config.schema}`, `CREATE SCHEMA ${Pg.ident(config.schema)}`)
    const probe = Pg.qualified(config.schema, `_sluice_check_${randomUUID().slice(0, 8)}`)
    yield* q(`creating a table in schema ${config.schema}`, `CREATE TABLE ${probe} (id bigint)`)
    yield* q(`writing to a table in schema ${config.schema}`, `INSERT INTO ${probe} VALUES (1)`)
    yield* q("rolling back", "ROLLBACK")
    return { status: "SUCCEEDED" } satisfies M.AirbyteConnectionStatus
  })).pipe(Effect.catch((error: ConnectorError) => Effect.succeed<M.AirbyteConnectionStatus>({ status: "FAILED", message: error.message })))

export const postgresDestination: DestinationConnector<PostgresDestinationConfig> = {
  id: "postgres-destination",
  kind: "destination",
  description: "Typed tables in a PostgreSQL schema: append, overwrite (atomic swap) and append_dedup (upsert on the primary key).",
  config: PostgresDestinationConfig,
  spec: makeSpec({ config: PostgresDestinationConfig, title: "postgres destination", destinationSyncModes: ["append", "overwrite", "append_dedup"] }),
  ipc: fullIpc,
  check,
  write
}
