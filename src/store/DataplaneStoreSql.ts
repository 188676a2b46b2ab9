/**
 * DataplaneStore on PostgreSQL/PGlite: the dataplane heartbeat log and its clean-up (keep each
 * dataplane's latest row, delete rows older than the cut-off). Store-internal SQL only.
 */
import { PgClient } from "@effect/sql-pg"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { DataplaneStore } from "../scheduler/DataplaneStore.ts"
import { DataplaneId } from "../scheduler/Workload.ts"
import { orStoreError } from "./SqlFailure.ts"

const LatestRow = Schema.Struct({ dataplane_id: DataplaneId, created_at: Schema.Date })
const decodeLatest = Schema.decodeUnknownEffect(Schema.Array(LatestRow))

export const make = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient

  const heartbeat = Effect.fn("DataplaneStore.heartbeat")(function*(dataplane: DataplaneId, version: string) {
    yield* sql`INSERT INTO dataplane_heartbeat_log ${sql.insert({ dataplane_id: dataplane, dataplane_version: version })}`
  }, orStoreError("DataplaneStore.heartbeat"))

  const cleanup = Effect.fn("DataplaneStore.cleanup")(function*(now: number, olderThanMs: number) {
    const deleted = yield* sql`DELETE FROM dataplane_heartbeat_log AS h
      WHERE h.created_at < ${new Date(now - olderThanMs)}
        AND h.id <> (SELECT l.id FROM dataplane_heartbeat_log AS l WHERE l.dataplane_id = h.dataplane_id
          ORDER BY l.created_at DESC, l.id DESC LIMIT 1)
      RETURNING h.id`
    return deleted.length
  }, orStoreError("DataplaneStore.cleanup"))

  const latest = Effect.flatMap(
    sql`SELECT DISTINCT ON (dataplane_id) dataplane_id, created_at FROM dataplane_heartbeat_log
      ORDER BY dataplane_id, created_at DESC, id DESC`,
    decodeLatest
  ).pipe(
    Effect.map((rows) => rows.map((row) => ({ dataplaneId: row.dataplane_id, at: row.created_at.getTime() }))),
    orStoreError("DataplaneStore.latest"),
    Effect.withSpan("DataplaneStore.latest")
  )

  return DataplaneStore.of({ heartbeat, cleanup, latest })
})

/** DataplaneStore on the SQL database; needs a migrated PgClient. */
export const layer = Layer.effect(DataplaneStore, make)
