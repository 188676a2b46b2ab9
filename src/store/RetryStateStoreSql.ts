/**
 * RetryStateStore on PostgreSQL/PGlite through @effect/sql-pg: one retry_states row per job (with
 * the job's connection), upserted. The only place that writes SQL for retry counters. Needs a
 * migrated PgClient (see Database.ts).
 */
import { PgClient } from "@effect/sql-pg"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { JobId } from "../scheduler/Ids.ts"
import { RetryState } from "../scheduler/RetryManager.ts"
import { RetryStateStore } from "../scheduler/RetryStateStore.ts"
import { JobNotFound } from "../scheduler/StoreErrors.ts"
import { orStoreError } from "./SqlFailure.ts"

const RetryStateRow = Schema.Struct({
  successive_complete_failures: Schema.Number,
  total_complete_failures: Schema.Number,
  successive_partial_failures: Schema.Number,
  total_partial_failures: Schema.Number
})

const toRetryState = (raw: unknown) =>
  Effect.flatMap(Schema.decodeUnknownEffect(RetryStateRow)(raw), (row) =>
    Schema.decodeUnknownEffect(RetryState)({
      successiveCompleteFailures: row.successive_complete_failures,
      totalCompleteFailures: row.total_complete_failures,
      successivePartialFailures: row.successive_partial_failures,
      totalPartialFailures: row.total_partial_failures
    }))

export const make = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient

  const get = Effect.fn("RetryStateStore.get")(function*(jobId: JobId) {
    const rows = yield* sql`SELECT * FROM retry_states WHERE job_id = ${jobId}`
    return rows[0] === undefined ? Option.none() : Option.some(yield* toRetryState(rows[0]))
  }, orStoreError("RetryStateStore.get"))

  const put = Effect.fn("RetryStateStore.put")(function*(jobId: JobId, state: RetryState) {
    const rows = yield* sql`INSERT INTO retry_states (job_id, connection, successive_complete_failures,
        total_complete_failures, successive_partial_failures, total_partial_failures)
      SELECT id, scope, ${state.successiveCompleteFailures}, ${state.totalCompleteFailures},
        ${state.successivePartialFailures}, ${state.totalPartialFailures} FROM jobs WHERE id = ${jobId}
      ON CONFLICT (job_id) DO UPDATE SET
        successive_complete_failures = EXCLUDED.successive_complete_failures,
        total_complete_failures = EXCLUDED.total_complete_failures,
        successive_partial_failures = EXCLUDED.successive_partial_failures,
        total_partial_failures = EXCLUDED.total_partial_failures,
        updated_at = now()
      RETURNING job_id`
    if (rows.length === 0) return yield* new JobNotFound({ jobId })
  }, orStoreError("RetryStateStore.put"))

  return RetryStateStore.of({ get, put })
})

/** RetryStateStore on the SQL database; needs a migrated PgClient (Database.layerPglite, layerPostgres…). */
export const layer = Layer.effect(RetryStateStore, make)
