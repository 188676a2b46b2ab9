/**
 * WorkloadStore on PostgreSQL/PGlite: conditional UPDATEs decided by `Workload.allowedFrom`, the queue
 * as columns of the workload row (poll deadline, ack) polled with FOR UPDATE SKIP LOCKED, the mutex
 * supersede on create, and the monitor's overdue sweeps. The only place that writes workload SQL.
 */
import { PgClient } from "@effect/sql-pg"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type { Statement } from "effect/sql"
import type { JobId } from "../scheduler/Ids.ts"
import * as W from "../scheduler/Workload.ts"
import { WorkloadExists, WorkloadGone, WorkloadNotFound, WorkloadTransitionInvalid } from "../scheduler/WorkloadErrors.ts"
import { type MonitorLimits, type NewWorkload, type Transition, WorkloadStore } from "../scheduler/WorkloadStore.ts"
import { orStoreError, uniqueViolation } from "./SqlFailure.ts"

const Ts = Schema.NullOr(Schema.Date)
const Text = Schema.NullOr(Schema.String)

const WorkloadRow = Schema.Struct({
  id: Schema.String,
  type: Schema.String,
  status: Schema.String,
  job_id: Schema.BigInt,
  attempt_number: Schema.Number,
  connection: Text,
  priority: Schema.Number,
  mutex_key: Text,
  dataplane_id: Text,
  deadline: Ts,
  termination_source: Text,
  termination_reason: Text,
  created_at: Schema.Date,
  started_at: Ts,
  updated_at: Schema.Date,
  last_heartbeat_at: Ts
})
const decodeRow = Schema.decodeUnknownEffect(WorkloadRow)
const decodeWorkload = Schema.decodeUnknownEffect(W.Workload)
const StatusRow = Schema.Struct({ id: Schema.String, status: W.WorkloadStatus })
const decodeStatuses = Schema.decodeUnknownEffect(Schema.Array(StatusRow))
const CountRow = Schema.Struct({ status: W.WorkloadStatus, n: Schema.BigInt })
const decodeCounts = Schema.decodeUnknownEffect(Schema.Array(CountRow))

const opt = <K extends string, V>(key: K, value: V | null): { readonly [P in K]?: V } =>
  (value === null ? {} : { [key]: value }) as { readonly [P in K]?: V }
const ms = (date: Date | null) => date === null ? null : date.getTime()

const toWorkload = (raw: unknown) =>
  Effect.flatMap(decodeRow(raw), (row) =>
    decodeWorkload({
      id: row.id,
      type: row.type,
      status: row.status,
      jobId: Number(row.job_id),
      attemptNumber: row.attempt_number,
      priority: row.priority,
      createdAt: row.created_at.getTime(),
      updatedAt: row.updated_at.getTime(),
      ...opt("connection", row.connection),
      ...opt("mutexKey", row.mutex_key),
      ...opt("dataplaneId", row.dataplane_id),
      ...opt("startedAt", ms(row.started_at)),
      ...opt("lastHeartbeatAt", ms(row.last_heartbeat_at)),
      ...opt("deadline", ms(row.deadline)),
      ...opt("terminationSource", row.termination_source),
      ...opt("terminationReason", row.termination_reason)
    }))

const byQueueOrder = (a: W.Workload, b: W.Workload) =>
  b.priority - a.priority || a.createdAt - b.createdAt || a.id.localeCompare(b.id)

export const make = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient

  const find = (id: W.WorkloadId) =>
    Effect.flatMap(
      sql`SELECT * FROM workloads WHERE id = ${id}`,
      (rows): Effect.Effect<W.Workload, WorkloadNotFound | Schema.SchemaError> =>
        rows[0] === undefined ? Effect.fail(new WorkloadNotFound({ workloadId: id })) : toWorkload(rows[0])
    )

  /**
   * Runs the conditional update of `call`; when it matched nothing, decides from the current status:
   * a repeated terminal call is a no-op, an ended workload is WorkloadGone (410), otherwise invalid.
   */
  const transition = (id: W.WorkloadId, call: W.WorkloadCall, set: Statement.Fragment) =>
    Effect.gen(function*() {
      const rows = yield* sql`UPDATE workloads SET status = ${W.targetOf[call]}, updated_at = now(), ${set}
        WHERE id = ${id} AND status IN ${sql.in(W.allowedFrom[call])} RETURNING *`
      if (rows[0] !== undefined) return { workload: yield* toWorkload(rows[0]), changed: true }
      const current = yield* find(id)
      const mismatch = W.onMismatch(call, current.status)
      if (mismatch === "repeat") return { workload: current, changed: false }
      if (mismatch === "gone") return yield* new WorkloadGone({ workloadId: id, status: current.status, call })
      return yield* new WorkloadTransitionInvalid({ workloadId: id, status: current.status, call })
    })

  const ended = (transition: Transition) =>
    sql`deadline = NULL, acked_at = COALESCE(acked_at, now()),
      termination_source = ${transition.source ?? null}, termination_reason = ${transition.reason ?? null}`

  const create = Effect.fn("WorkloadStore.create")(function*(workload: NewWorkload) {
    return yield* sql.withTransaction(Effect.gen(function*() {
      const rows = yield* sql`INSERT INTO workloads ${sql.insert({
        id: workload.id,
        type: workload.type,
        status: "pending",
        job_id: workload.jobId,
        attempt_number: workload.attemptNumber,
        connection: workload.connection ?? null,
        priority: workload.priority,
        mutex_key: workload.mutexKey ?? null,
        deadline: new Date(workload.deadline)
      })} RETURNING *`.pipe(
        Effect.catchIf((error) => uniqueViolation(error) === "workloads_pkey", () => Effect.fail(new WorkloadExists({ workloadId: workload.id })))
      )
      if (workload.mutexKey !== undefined) {
        yield* sql`UPDATE workloads SET status = 'failure', updated_at = now(), ${ended({ source: "workload-api", reason: `Superseded by ${workload.id}` })}
          WHERE mutex_key = ${workload.mutexKey} AND id <> ${workload.id} AND status IN ${sql.in(W.activeStatuses)}`
      }
      return yield* toWorkload(rows[0])
    }))
  }, orStoreError("WorkloadStore.create"))

  const get = Effect.fn("WorkloadStore.get")(function*(id: W.WorkloadId) {
    return yield* find(id)
  }, orStoreError("WorkloadStore.get"))

  const authenticate = Effect.fn("WorkloadStore.authenticate")(function*(tokenHash: string) {
    const rows = yield* sql`SELECT * FROM workloads WHERE token_hash = ${tokenHash}`
    return rows[0] === undefined ? undefined : yield* toWorkload(rows[0])
  }, orStoreError("WorkloadStore.authenticate"))

  const poll = Effect.fn("WorkloadStore.poll")(function*(types: ReadonlyArray<W.WorkloadType>, quantity: number, redeliveryMs: number) {
    if (types.length === 0 || quantity <= 0) return []
    const rows = yield* sql.withTransaction(sql`UPDATE workloads SET poll_deadline = now() + ${redeliveryMs} * interval '1 millisecond'
      WHERE id IN (
        SELECT id FROM workloads
        WHERE status = 'pending' AND acked_at IS NULL AND poll_deadline <= now() AND type IN ${sql.in(types)}
        ORDER BY priority DESC, created_at, id
        LIMIT ${quantity}
        FOR UPDATE SKIP LOCKED
      ) RETURNING *`)
    const workloads = yield* Effect.forEach(rows, toWorkload)
    return [...workloads].sort(byQueueOrder)
  }, orStoreError("WorkloadStore.poll"))

  const claim = Effect.fn("WorkloadStore.claim")(function*(id: W.WorkloadId, dataplane: W.DataplaneId, deadline: number, tokenHash: string) {
    const rows = yield* sql`UPDATE workloads
      SET status = 'claimed', updated_at = now(), acked_at = COALESCE(acked_at, now()), dataplane_id = ${dataplane},
        token_hash = ${tokenHash},
        deadline = CASE WHEN status = 'pending' THEN ${new Date(deadline)} ELSE deadline END
      WHERE id = ${id} AND (status = 'pending' OR (status = 'claimed' AND dataplane_id = ${dataplane})) RETURNING *`
    if (rows[0] !== undefined) return { workload: yield* toWorkload(rows[0]), changed: true }
    return { workload: yield* find(id), changed: false }
  }, orStoreError("WorkloadStore.claim"))

  const launch = Effect.fn("WorkloadStore.launch")(function*(id: W.WorkloadId, deadline: number) {
    return yield* transition(id, "launch", sql`deadline = ${new Date(deadline)}`)
  }, orStoreError("WorkloadStore.launch"))

  const running = Effect.fn("WorkloadStore.running")(function*(id: W.WorkloadId, deadline: number) {
    return yield* transition(id, "running", sql`deadline = ${new Date(deadline)}, started_at = COALESCE(started_at, now())`)
  }, orStoreError("WorkloadStore.running"))

  const heartbeat = Effect.fn("WorkloadStore.heartbeat")(function*(id: W.WorkloadId, deadline: number) {
    return yield* transition(id, "heartbeat", sql`deadline = ${new Date(deadline)}, last_heartbeat_at = now()`)
  }, orStoreError("WorkloadStore.heartbeat"))

  const succeed = Effect.fn("WorkloadStore.succeed")(function*(id: W.WorkloadId) {
    return yield* transition(id, "succeed", ended({}))
  }, orStoreError("WorkloadStore.succeed"))

  const fail = Effect.fn("WorkloadStore.fail")(function*(id: W.WorkloadId, t: Transition) {
    return yield* transition(id, "fail", ended(t))
  }, orStoreError("WorkloadStore.fail"))

  const cancel = Effect.fn("WorkloadStore.cancel")(function*(id: W.WorkloadId, t: Transition) {
    return yield* transition(id, "cancel", ended(t))
  }, orStoreError("WorkloadStore.cancel"))

  const failActive = Effect.fn("WorkloadStore.failActive")(function*(dataplane: W.DataplaneId | undefined, t: Transition) {
    const of = dataplane === undefined ? sql`true` : sql`dataplane_id = ${dataplane}`
    const rows = yield* sql`UPDATE workloads SET status = 'failure', updated_at = now(), ${ended(t)}
      WHERE status IN ${sql.in(W.activeStatuses)} AND ${of} RETURNING *`
    return yield* Effect.forEach(rows, toWorkload)
  }, orStoreError("WorkloadStore.failActive"))

  const activeOfJob = Effect.fn("WorkloadStore.activeOfJob")(function*(jobId: JobId) {
    const rows = yield* sql`SELECT * FROM workloads WHERE job_id = ${jobId} AND status IN ${sql.in(W.activeStatuses)}`
    return yield* Effect.forEach(rows, toWorkload)
  }, orStoreError("WorkloadStore.activeOfJob"))

  const statuses = Effect.fn("WorkloadStore.statuses")(function*(ids: ReadonlyArray<W.WorkloadId>) {
    if (ids.length === 0) return new Map<W.WorkloadId, W.WorkloadStatus>()
    const rows = yield* Effect.flatMap(sql`SELECT id, status FROM workloads WHERE id IN ${sql.in(ids)}`, decodeStatuses)
    return new Map(rows.map((row) => [W.WorkloadId.make(row.id), row.status]))
  }, orStoreError("WorkloadStore.statuses"))

  const sweep = (where: Statement.Fragment, source: string, reason: string) =>
    Effect.flatMap(
      sql`UPDATE workloads SET status = 'failure', updated_at = now(), ${ended({ source, reason })}
        WHERE ${where} RETURNING *`,
      (rows) => Effect.forEach(rows, (row) => Effect.map(toWorkload(row), (workload) => ({ workload, source, reason })))
    )

  const failOverdue = Effect.fn("WorkloadStore.failOverdue")(function*(now: number, limits: MonitorLimits) {
    const at = new Date(now)
    const claim = yield* sweep(
      sql`status = 'pending' AND deadline < ${at}`,
      "workload-monitor-claim",
      "No data-plane available to process the job: no launcher claimed the workload before its deadline."
    )
    const start = yield* sweep(
      sql`status = 'claimed' AND deadline < ${at}`,
      "workload-monitor-start",
      "Unable to start the job: the launcher claimed the workload but did not launch its worker before the deadline."
    )
    const heartbeat = yield* sweep(
      sql`status IN ('launched', 'running') AND deadline < ${at}`,
      "workload-monitor-heartbeat",
      "Sluice could not track the sync progress: the worker exited without reporting status, or stopped sending heartbeats before the deadline."
    )
    const nonSync = yield* sweep(
      sql`status = 'running' AND type <> 'sync' AND started_at < ${new Date(now - limits.nonSyncTimeoutMs)}`,
      "workload-monitor-non-sync-timeout",
      `The ${"check, discover or spec"} workload ran longer than the non-sync timeout (${Math.round(limits.nonSyncTimeoutMs / 1000)} s).`
    )
    const sync = yield* sweep(
      sql`status = 'running' AND type = 'sync' AND started_at < ${new Date(now - limits.syncTimeoutMs)}`,
      "workload-monitor-sync-timeout",
      `The sync ran longer than the sync timeout (${Math.round(limits.syncTimeoutMs / 1000)} s).`
    )
    return [...claim, ...start, ...heartbeat, ...nonSync, ...sync]
  }, orStoreError("WorkloadStore.failOverdue"))

  const countByStatus = Effect.fn("WorkloadStore.countByStatus")(function*(type?: W.WorkloadType) {
    const where = type === undefined ? sql`true` : sql`type = ${type}`
    const rows = yield* Effect.flatMap(sql`SELECT status, count(*) AS n FROM workloads WHERE ${where} GROUP BY status`, decodeCounts)
    return new Map(rows.map((row) => [row.status, Number(row.n)]))
  }, orStoreError("WorkloadStore.countByStatus"))

  return WorkloadStore.of({
    create,
    get,
    authenticate,
    poll,
    claim,
    launch,
    running,
    heartbeat,
    succeed,
    fail,
    cancel,
    failActive,
    activeOfJob,
    statuses,
    failOverdue,
    countByStatus
  })
})

/** WorkloadStore on the SQL database; needs a migrated PgClient. */
export const layer = Layer.effect(WorkloadStore, make)
