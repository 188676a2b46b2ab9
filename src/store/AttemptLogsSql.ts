/**
 * The log half of JobStoreSql: appends numbered lines to an attempt (the attempt row's counter hands
 * out line numbers under its row lock, so concurrent appenders never collide) and reads them in pages.
 * Store-internal.
 */
import type { PgClient } from "@effect/sql-pg"
import * as Arr from "effect/Array"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { SqlError } from "effect/sql"
import { type LogLine, LogPage } from "../scheduler/AttemptLog.ts"
import type { AttemptNumber, JobId } from "../scheduler/Ids.ts"
import { AttemptNotFound } from "../scheduler/StoreErrors.ts"
import { orStoreError } from "./SqlFailure.ts"

/** Rows per INSERT (7 parameters each, far below PostgreSQL's 65 535). */
const INSERT_BATCH = 1000
const MAX_PAGE = 10_000

const CountRow = Schema.Struct({ log_line_count: Schema.Number })
const LogRow = Schema.Struct({
  line_no: Schema.Number,
  at: Schema.Date,
  level: Schema.String,
  origin: Schema.String,
  message: Schema.String
})
const decodePage = Schema.decodeUnknownEffect(LogPage)

export const make = (
  sql: PgClient.PgClient,
  attemptIdOf: (
    jobId: JobId,
    attemptNumber: AttemptNumber
  ) => Effect.Effect<number, AttemptNotFound | SqlError.SqlError | Schema.SchemaError>
) => {
  const appendLogs = Effect.fn("JobStore.appendLogs")(
    function*(jobId: JobId, attemptNumber: AttemptNumber, lines: ReadonlyArray<LogLine>) {
      if (lines.length === 0) return yield* Effect.asVoid(attemptIdOf(jobId, attemptNumber))
      yield* sql.withTransaction(Effect.gen(function*() {
        const counted = yield* sql`UPDATE attempts SET log_line_count = log_line_count + ${lines.length}
          WHERE job_id = ${jobId} AND attempt_number = ${attemptNumber} RETURNING log_line_count`
        if (counted[0] === undefined) return yield* new AttemptNotFound({ jobId, attemptNumber })
        const first = (yield* Schema.decodeUnknownEffect(CountRow)(counted[0])).log_line_count - lines.length
        const rows = lines.map((line, index) => ({
          job_id: jobId,
          attempt_number: attemptNumber,
          line_no: first + index,
          at: new Date(line.at),
          level: line.level,
          origin: line.origin,
          message: line.message
        }))
        for (const batch of Arr.chunksOf(rows, INSERT_BATCH)) yield* sql`INSERT INTO attempt_logs ${sql.insert(batch)}`
      }))
    },
    orStoreError("JobStore.appendLogs")
  )

  const readLogs = Effect.fn("JobStore.readLogs")(
    function*(jobId: JobId, attemptNumber: AttemptNumber, offset: number, limit: number) {
      yield* attemptIdOf(jobId, attemptNumber)
      const from = Math.max(Math.trunc(offset), 0)
      const count = Math.min(Math.max(Math.trunc(limit), 1), MAX_PAGE)
      const rows = yield* sql`SELECT line_no, at, level, origin, message FROM attempt_logs
        WHERE job_id = ${jobId} AND attempt_number = ${attemptNumber} AND line_no >= ${from}
        ORDER BY line_no LIMIT ${count + 1}`
      const decoded = yield* Effect.forEach(rows.slice(0, count), (row) => Schema.decodeUnknownEffect(LogRow)(row))
      const lines = decoded.map((row) => ({
        lineNo: row.line_no,
        at: row.at.getTime(),
        level: row.level,
        origin: row.origin,
        message: row.message
      }))
      const last = lines[lines.length - 1]
      return yield* decodePage({ lines, nextOffset: last === undefined ? from : last.lineNo + 1, hasMore: rows.length > count })
    },
    orStoreError("JobStore.readLogs")
  )

  return { appendLogs, readLogs }
}
