/**
 * The postgres source's `read`: every configured table inside one REPEATABLE READ READ ONLY
 * transaction (one snapshot for all of them), each through a server-side cursor fetched in batches,
 * full refresh or incremental on the user's cursor column, STREAM states with record counts.
 * Ties on the cursor: see docs/connectors-postgres.md ("Incremental reads"). Imports the kit and this folder.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { ConnectorError, type InputState } from "../../engine/kit/Connector.ts"
import { streamEstimateTrace, streamStatusTrace } from "../../engine/kit/SourceMessages.ts"
import type * as M from "../../engine/protocol/AirbyteMessage.ts"
import * as Pg from "./PgClient.ts"
import type { PostgresSourceConfig } from "./PostgresConfig.ts"
import { loadTables, type TableInfo } from "./SourceCatalog.ts"
import * as State from "./SourceState.ts"
import { type ColumnInfo, type Converter, converterOf, INVALID, isCursorable } from "./SourceTypes.ts"

/** Rows per FETCH: bounds the source's memory whatever the table size. */
export const FETCH_ROWS = 5_000
/** A STREAM state after about this many records (incremental: at the next change of cursor value). */
export const RECORDS_PER_STATE = 10_000

interface Incremental {
  readonly field: string
  /** Index of the cursor column in the select list. */
  readonly index: number
  /** Where to resume, from the input state. */
  readonly start: State.CursorState | undefined
}

export interface Plan {
  readonly descriptor: M.StreamDescriptor
  readonly table: TableInfo
  /** Selected columns, in table order; the cursor column is always among them. */
  readonly columns: ReadonlyArray<ColumnInfo>
  /** Whether each selected column goes into the record (false for a cursor the user deselected). */
  readonly emitted: ReadonlyArray<boolean>
  readonly incremental: Incremental | undefined
}

const configError = (message: string, descriptor?: M.StreamDescriptor) =>
  new ConnectorError({ failureType: "config_error", message, ...(descriptor === undefined ? {} : { streamDescriptor: descriptor }) })

const labelOf = (d: M.StreamDescriptor) => (d.namespace === undefined ? d.name : `${d.namespace}.${d.name}`)

const selectedNames = (stream: M.AirbyteStream): ReadonlySet<string> | undefined => {
  const properties = stream.json_schema["properties"]
  return typeof properties === "object" && properties !== null && Object.keys(properties).length > 0 ? new Set(Object.keys(properties)) : undefined
}

/** The plan of each configured stream, or the first configuration problem. */
export const plan = (
  configured: M.ConfiguredAirbyteCatalog,
  tables: ReadonlyArray<TableInfo>,
  state: InputState,
  defaultSchema: string,
  log: Array<M.AirbyteMessage>
): ReadonlyArray<Plan> | ConnectorError => {
  const plans: Array<Plan> = []
  for (const entry of configured.streams) {
    const { name, namespace } = entry.stream
    const descriptor: M.StreamDescriptor = namespace === undefined ? { name } : { name, namespace }
    const table = tables.find((t) => t.name === name && t.schema === (namespace ?? defaultSchema))
    if (table === undefined) return configError(`postgres: table ${labelOf(descriptor)} does not exist in the configured schemas (run discover again)`, descriptor)
    const wanted = selectedNames(entry.stream)
    const cursorPath = entry.sync_mode === "incremental" ? entry.cursor_field ?? entry.stream.default_cursor_field : undefined
    if (entry.sync_mode === "incremental" && (cursorPath === undefined || cursorPath.length !== 1)) {
      return configError(`postgres: incremental stream ${labelOf(descriptor)} needs a cursor_field naming one top-level column`, descriptor)
    }
    const field = cursorPath?.[0]
    const columns = table.columns.filter((c) => wanted === undefined || wanted.has(c.name) || c.name === field)
    const index = field === undefined ? -1 : columns.findIndex((c) => c.name === field)
    let incremental: Incremental | undefined = undefined
    if (field !== undefined) {
      const column = columns[index]
      if (column === undefined) return configError(`postgres: cursor column '${field}' does not exist in ${labelOf(descriptor)}`, descriptor)
      if (!isCursorable(column)) return configError(`postgres: column '${field}' of ${labelOf(descriptor)} (${column.type}) cannot be a cursor`, descriptor)
      let start = State.cursorStateOf(State.blobOf(state, name, namespace))
      if (start !== undefined && (start.cursorField.length !== 1 || start.cursorField[0] !== field)) {
        log.push({ type: "LOG", log: { level: "WARN", message: `${labelOf(descriptor)}: the cursor changed from ${start.cursorField.join(".")} to ${field}; reading from the start` } })
        start = undefined
      }
      incremental = { field, index, start }
    }
    plans.push({ descriptor, table, columns, emitted: columns.map((c) => wanted === undefined || wanted.has(c.name)), incremental })
  }
  return plans
}


/** Turns fetched rows into messages, placing states; `finish` closes the stream with its last state. */
const makeEmitter = (p: Plan, resumeInclusive: boolean) => {
  const names = p.columns.map((c) => c.name)
  const converters: ReadonlyArray<Converter> = p.columns.map(converterOf)
  const inc = p.incremental
  const cursorField = inc === undefined ? [] : [inc.field]
  // With `>=` the tie group of the saved cursor is read again, so its count starts over.
  let lastCursor: string | null | undefined = inc?.start?.cursor
  let tieCount = inc?.start === undefined || resumeInclusive ? 0 : inc.start.recordCount
  let sinceState = 0
  const blob = (): M.JsonObject =>
    inc === undefined || lastCursor === undefined ? {} : State.blobFor({ cursorField, cursor: lastCursor, recordCount: tieCount })
  const checkpoint = (out: Array<M.AirbyteMessage>) => {
    out.push(State.stateMessage(p.descriptor, blob(), sinceState))
    sinceState = 0
  }
  const namespace = p.descriptor.namespace
  return {
    rows: (rows: ReadonlyArray<ReadonlyArray<string | null>>): Array<M.AirbyteMessage> => {
      const out: Array<M.AirbyteMessage> = []
      const emittedAt = Date.now()
      for (const row of rows) {
        if (inc !== undefined) {
          const cursor = row[inc.index] ?? null
          if (cursor !== lastCursor) {
            // Every row with the previous cursor value has been read: a safe place for a state.
            if (sinceState >= RECORDS_PER_STATE) checkpoint(out)
            lastCursor = cursor
            tieCount = 0
          }
          tieCount++
        }
        const data: Record<string, unknown> = {}
        let changes: Array<M.RecordMetaChange> | undefined = undefined
        for (let i = 0; i < names.length; i++) {
          if (!p.emitted[i]!) continue
          const text = row[i]
          const name = names[i]!
          if (text === null || text === undefined) {
            data[name] = null
            continue
          }
          const value = converters[i]!(text)
          if (value === INVALID) {
            data[name] = null
            changes ??= []
            changes.push({ field: name, change: "NULLED", reason: "SOURCE_SERIALIZATION_ERROR" })
          } else data[name] = value
        }
        const record: M.AirbyteRecordMessage = namespace === undefined
          ? { stream: p.descriptor.name, data, emitted_at: emittedAt }
          : { namespace, stream: p.descriptor.name, data, emitted_at: emittedAt }
        out.push({ type: "RECORD", record: changes === undefined ? record : { ...record, meta: { changes } } })
        sinceState++
        if (inc === undefined && sinceState === RECORDS_PER_STATE) checkpoint(out)
      }
      return out
    },
    finish: (): Array<M.AirbyteMessage> => {
      const out: Array<M.AirbyteMessage> = []
      checkpoint(out)
      out.push(streamStatusTrace(p.descriptor, "COMPLETE"))
      return out
    }
  }
}

/** One table through a server-side cursor. Runs inside the read's snapshot transaction. */
const readTable = (client: Pg.Client, config: PostgresSourceConfig, p: Plan, n: number): Stream.Stream<M.AirbyteMessage, ConnectorError> =>
  Stream.unwrap(Effect.gen(function*() {
    const label = labelOf(p.descriptor)
    const from = Pg.qualified(p.table.schema, p.table.name)
    const select = `SELECT ${p.columns.map((c) => Pg.ident(c.name)).join(", ")} FROM ${from}`
    const inc = p.incremental
    let sql = select
    const values: Array<string> = []
    let inclusive = false
    if (inc !== undefined) {
      const column = Pg.ident(inc.field)
      const saved = inc.start?.cursor
      if (saved === undefined || saved === null) sql = `${select} ORDER BY ${column} ASC NULLS FIRST`
      else {
        // Rows that arrived with the saved cursor value after the last read make the tie group read again.
        const counted = yield* Pg.query(client, config, `counting ${label}`, `SELECT count(*) AS n FROM ${from} WHERE ${column} = $1`, [saved])
        inclusive = Number(counted[0]?.["n"] ?? 0) > (inc.start?.recordCount ?? 0)
        sql = `${select} WHERE ${column} ${inclusive ? ">=" : ">"} $1 ORDER BY ${column} ASC`
        values.push(saved)
      }
    }
    const cursorName = Pg.ident(`sluice_cursor_${n}`)
    yield* Pg.query(client, config, `opening a cursor on ${label}`, `DECLARE ${cursorName} NO SCROLL CURSOR FOR ${sql}`, values)
    const emitter = makeEmitter(p, inclusive)
    const head: Array<M.AirbyteMessage> = [streamStatusTrace(p.descriptor, "STARTED")]
    if (p.table.rowEstimate !== undefined) head.push(streamEstimateTrace(p.descriptor, p.table.rowEstimate))
    // The next FETCH is sent before this batch is converted, so the server works while the connector does.
    const fetch = () => {
      const rows = client.query<Array<string | null>>({ text: `FETCH ${FETCH_ROWS} FROM ${cursorName}`, rowMode: "array" }).then((r) => r.rows)
      rows.catch(() => undefined)
      return rows
    }
    let inFlight = fetch()
    const pages = Stream.paginate(true, (more: boolean) =>
      more
        ? Effect.map(Effect.tryPromise({ try: () => inFlight, catch: Pg.classify(config, `reading ${label}`) }), (rows) => {
          const last = rows.length < FETCH_ROWS
          if (!last) inFlight = fetch()
          const out = emitter.rows(rows)
          if (last) out.push(...emitter.finish())
          return [out, Option.some(!last)] as const
        })
        : Effect.succeed([[], Option.none()] as const))
    return Stream.concat(
      Stream.fromArray(head),
      Stream.concat(pages, Stream.fromEffectDrain(Pg.query(client, config, `closing the cursor on ${label}`, `CLOSE ${cursorName}`)))
    )
  })).pipe(Stream.mapError((error) =>
    error.streamDescriptor === undefined
      ? new ConnectorError({ failureType: error.failureType, message: error.message, internalMessage: error.internalMessage, streamDescriptor: p.descriptor })
      : error
  ))

/** The whole read: one snapshot, the configured tables one after the other. */
export const read = (input: {
  readonly config: PostgresSourceConfig
  readonly catalog: M.ConfiguredAirbyteCatalog
  readonly state: InputState
}): Stream.Stream<M.AirbyteMessage, ConnectorError> =>
  Stream.unwrap(Effect.gen(function*() {
    const { catalog, config, state } = input
    const client = yield* Pg.connect(config, "sluice-postgres-source")
    yield* Pg.query(client, config, "starting the snapshot", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    const defaultSchema = config.schemas[0] ?? "public"
    const schemas = [...new Set(catalog.streams.map((s) => s.stream.namespace ?? defaultSchema))]
    const tables = yield* loadTables(client, config, schemas)
    const log: Array<M.AirbyteMessage> = []
    const plans = plan(catalog, tables, state, defaultSchema, log)
    if (plans instanceof ConnectorError) return yield* plans
    const streams = plans.map((p, i) => readTable(client, config, p, i + 1))
    return Stream.concat(
      Stream.fromArray(log),
      Stream.concat(
        streams.reduce((all, s) => Stream.concat(all, s), Stream.empty as Stream.Stream<M.AirbyteMessage, ConnectorError>),
        Stream.fromEffectDrain(Pg.query(client, config, "ending the snapshot", "COMMIT"))
      )
    )
  }))
