/**
 * Loading rows into the destination's tables on one connection. COPY (the default): one COPY FROM
 * STDIN per table and transaction, kept open while that table's rows keep coming, so the server
 * ingests while the connector converts the next records; ended on a commit or when another table's
 * rows are due. INSERT: multi-row INSERTs of text parameters. append_dedup rows go to the staging
 * table and are merged (the latest cursor wins, then the latest record) when its load ends.
 * Imports `pg-copy-streams`, `effect` and this folder.
 */
import * as Effect from "effect/Effect"
import type { CopyStreamQuery } from "pg-copy-streams"
import type { ConnectorError } from "../../engine/kit/Connector.ts"
import { META_COLUMNS, type Prepared } from "./DestinationTables.ts"
import * as Pg from "./PgClient.ts"
import type { PostgresDestinationConfig } from "./PostgresConfig.ts"

/** Text inputs of one row (null for NULL): the target's columns, the `_sluice_*` columns, then `_sluice_seq` for staging. */
export type Row = Array<string | null>
export type LoadMethod = "copy" | "insert"

/** The largest number of bind parameters one statement may have (the protocol counts them in 16 bits). */
const MAX_PARAMETERS = 65_535
const MAX_INSERT_ROWS = 1_000

const SPECIAL = /[\\\t\n\r]/
const SPECIAL_ALL = /[\\\t\n\r]/g
const ESCAPES: Readonly<Record<string, string>> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" }

/** One value in COPY's text format. */
const copyValue = (value: string | null): string =>
  value === null ? "\\N" : SPECIAL.test(value) ? value.replace(SPECIAL_ALL, (c) => ESCAPES[c]!) : value

/** A row as one line of COPY text (with its newline). */
export const copyLine = (row: Row): string => {
  let line = copyValue(row[0] ?? null)
  for (let i = 1; i < row.length; i++) line += "\t" + copyValue(row[i] ?? null)
  return line + "\n"
}

const columnsOf = (p: Prepared): ReadonlyArray<string> => [
  ...p.target.columns.map((c) => c.name),
  ...META_COLUMNS,
  ...(p.stage === undefined ? [] : ["_sluice_seq"])
]

/** Where a target's rows are loaded: its write table, or its staging table. */
const loadTableOf = (schema: string, p: Prepared) => (p.stage === undefined ? Pg.qualified(schema, p.target.writeTable) : Pg.ident(p.stage))

/**
 * append_dedup: of each key's staged rows the one with the highest cursor (then the latest) is upserted,
 * replacing a stored row only when its cursor is not older (a stored NULL cursor is always replaced).
 */
export const mergeSql = (schema: string, p: Prepared): string => {
  const columns = [...p.target.columns.map((c) => c.name), ...META_COLUMNS]
  const key = p.target.primaryKey.map(Pg.ident).join(", ")
  const list = columns.map(Pg.ident).join(", ")
  const cursor = p.target.cursor === undefined ? undefined : Pg.ident(p.target.cursor)
  const order = [key, ...(cursor === undefined ? [] : [`${cursor} DESC NULLS LAST`]), "\"_sluice_seq\" DESC"].join(", ")
  const updates = columns.filter((c) => !p.target.primaryKey.includes(c)).map((c) => `${Pg.ident(c)} = EXCLUDED.${Pg.ident(c)}`).join(", ")
  const when = cursor === undefined ? "" : ` WHERE t.${cursor} IS NULL OR EXCLUDED.${cursor} >= t.${cursor}`
  return `INSERT INTO ${Pg.qualified(schema, p.target.writeTable)} AS t (${list}) ` +
    `SELECT ${list} FROM (SELECT DISTINCT ON (${key}) * FROM ${Pg.ident(p.stage ?? "")} ORDER BY ${order}) AS s ` +
    `ON CONFLICT (${key}) DO UPDATE SET ${updates}${when}`
}

interface ActiveCopy {
  readonly p: Prepared
  readonly stream: CopyStreamQuery
  readonly finished: Promise<void>
  failure: unknown
}

export interface Loader {
  /** Loads COPY text (copy) or rows (insert) of a target inside the open transaction. */
  readonly load: (p: Prepared, text: ReadonlyArray<Uint8Array | string>, rows: ReadonlyArray<Row>) => Effect.Effect<void, ConnectorError>
  /** Ends the open COPY (merging staged rows): call before COMMIT. */
  readonly finish: Effect.Effect<void, ConnectorError>
}

export const makeLoader = (client: Pg.Client, config: PostgresDestinationConfig, method: LoadMethod): Loader => {
  let active: ActiveCopy | undefined = undefined
  const failed = (p: Prepared) => Pg.classify(config, `loading into ${p.target.writeTable}`)

  const merge = (p: Prepared) =>
    p.stage === undefined ? Effect.void : Effect.andThen(
      Pg.query(client, config, `merging into ${p.target.writeTable}`, mergeSql(config.schema, p)),
      Pg.query(client, config, `clearing ${p.stage}`, `TRUNCATE ${Pg.ident(p.stage)}`)
    )

  const finish = Effect.suspend(() => {
    const copy = active
    if (copy === undefined) return Effect.void
    active = undefined
    return Effect.andThen(
      Effect.tryPromise({
        try: () => {
          copy.stream.end()
          return copy.finished
        },
        catch: failed(copy.p)
      }),
      merge(copy.p)
    )
  })

  const start = (p: Prepared) =>
    Effect.map(Effect.promise(() => import("pg-copy-streams")), ({ default: copyStreams }): ActiveCopy => {
      const stream = client.query(copyStreams.from(`COPY ${loadTableOf(config.schema, p)} (${columnsOf(p).map(Pg.ident).join(", ")}) FROM STDIN`))
      const copy: ActiveCopy = {
        p,
        stream,
        failure: undefined,
        finished: new Promise<void>((resolve, reject) => {
          stream.on("error", (error) => {
            copy.failure = error
            reject(error)
          })
          stream.on("finish", () => resolve())
        })
      }
      // A failure is reported by the next write or by `finish`; this keeps it from being unhandled meanwhile.
      copy.finished.catch(() => undefined)
      active = copy
      return copy
    })

  const write = (copy: ActiveCopy, payload: Uint8Array | string) =>
    Effect.tryPromise({
      try: () =>
        new Promise<void>((resolve, reject) => {
          if (copy.failure !== undefined) return reject(copy.failure)
          if (copy.stream.write(payload)) return resolve()
          const onDrain = () => {
            copy.stream.off("error", onError)
            resolve()
          }
          const onError = (error: unknown) => {
            copy.stream.off("drain", onDrain)
            reject(error)
          }
          copy.stream.once("drain", onDrain)
          copy.stream.once("error", onError)
        }),
      catch: failed(copy.p)
    })

  const copyLoad = (p: Prepared, text: ReadonlyArray<Uint8Array | string>) =>
    Effect.gen(function*() {
      if (text.length === 0) return
      if (active !== undefined && active.p !== p) yield* finish
      const copy = active ?? (yield* start(p))
      for (const piece of text) yield* write(copy, piece)
    })

  const insertLoad = (p: Prepared, rows: ReadonlyArray<Row>) =>
    Effect.gen(function*() {
      if (rows.length === 0) return
      const head = `INSERT INTO ${loadTableOf(config.schema, p)} (${columnsOf(p).map(Pg.ident).join(", ")})`
      const width = rows[0]!.length
      const perStatement = Math.max(1, Math.min(MAX_INSERT_ROWS, Math.floor(MAX_PARAMETERS / width)))
      for (let first = 0; first < rows.length; first += perStatement) {
        const values: Array<string | null> = []
        const tuples: Array<string> = []
        for (const row of rows.slice(first, first + perStatement)) {
          const params: Array<string> = []
          for (const value of row) {
            values.push(value)
            params.push(`$${values.length}`)
          }
          tuples.push(`(${params.join(", ")})`)
        }
        yield* Pg.query(client, config, `loading into ${p.target.writeTable}`, `${head} VALUES ${tuples.join(", ")}`, values)
      }
      yield* merge(p)
    })

  return {
    load: (p, text, rows) => (method === "copy" ? copyLoad(p, text) : insertLoad(p, rows)),
    finish
  }
}
