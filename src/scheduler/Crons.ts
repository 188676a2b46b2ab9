/**
 * The control plane's crons: the workload monitor (fails overdue workloads; the job's retry loop
 * takes over), the dataplane heartbeat and its hourly clean-up (keep each dataplane's latest row,
 * delete rows older than 24 h), and per-connection schedules (interval or cron) that enqueue syncs.
 * Conditional updates and the one-active-sync index make them safe to run on several servers at once.
 */
import { Clock, Cron, Effect, Result, Schedule } from "effect"
import { ConnectionSpecs } from "./ConnectionSpecs.ts"
import { ConnectionStore } from "./ConnectionStore.ts"
import { DataplaneStore } from "./DataplaneStore.ts"
import { JobRunner } from "./JobRunner.ts"
import { JobStore } from "./JobStore.ts"
import type { DataplaneId } from "./Workload.ts"
import { type MonitorLimits, WorkloadStore } from "./WorkloadStore.ts"

export interface CronOptions {
  readonly dataplane: DataplaneId
  readonly version: string
  readonly monitorIntervalMs: number
  readonly limits: MonitorLimits
  readonly dataplaneHeartbeatMs: number
  readonly heartbeatCleanupMs: number
  readonly heartbeatRetentionMs: number
  readonly scheduleIntervalMs: number
}

const every = <E, R>(name: string, intervalMs: number, task: Effect.Effect<void, E, R>) =>
  task.pipe(
    Effect.catchCause((cause) => Effect.logWarning(`${name} failed`, cause)),
    Effect.repeat(Schedule.spaced(intervalMs)),
    Effect.withSpan(`Crons.${name}`),
    Effect.forkScoped
  )

/** Fails overdue workloads; returns what it failed (for logs and tests). */
export const monitorOnce = Effect.fn("Crons.monitor")(function*(limits: MonitorLimits) {
  const store = yield* WorkloadStore
  const failed = yield* store.failOverdue(yield* Clock.currentTimeMillis, limits)
  for (const f of failed) yield* Effect.logWarning(`workload ${f.workload.id} failed by ${f.source}: ${f.reason}`)
  return failed
})

/** Enqueues a sync for every connection whose schedule is due (an active sync makes it wait). */
export const scheduleOnce = Effect.fn("Crons.schedule")(function*(startedAt: number) {
  const connections = yield* ConnectionStore
  const specs = yield* ConnectionSpecs
  const jobs = yield* JobStore
  const runner = yield* JobRunner
  const now = yield* Clock.currentTimeMillis
  for (const connection of yield* connections.list) {
    const schedule = specs.schedule(connection.spec)
    if (schedule._tag === "manual") continue
    const last = (yield* jobs.listJobs({ connection: connection.name, configType: "sync", limit: 1 })).jobs[0]
    const since = last?.createdAt ?? Math.max(startedAt, connection.createdAt)
    let due: boolean
    if (schedule._tag === "interval") due = last === undefined || since + schedule.everyMs <= now
    else {
      const cron = Cron.parse(schedule.cron, schedule.timezone)
      due = Result.isSuccess(cron) && Cron.next(cron.success, new Date(since)).getTime() <= now
    }
    if (!due) continue
    yield* runner.sync(connection.name).pipe(
      Effect.tap((job) => Effect.logInfo(`scheduled sync of ${connection.name}: job ${job.id}`)),
      Effect.catch((error) => Effect.logDebug(`scheduled sync of ${connection.name} skipped: ${String(error)}`))
    )
  }
})

/** Starts every cron in the current scope. */
export const start = Effect.fn("Crons.start")(function*(options: CronOptions) {
  const dataplanes = yield* DataplaneStore
  const startedAt = yield* Clock.currentTimeMillis
  yield* every("monitor", options.monitorIntervalMs, Effect.asVoid(monitorOnce(options.limits)))
  yield* every("dataplaneHeartbeat", options.dataplaneHeartbeatMs, dataplanes.heartbeat(options.dataplane, options.version))
  yield* every(
    "dataplaneHeartbeatCleanup",
    options.heartbeatCleanupMs,
    Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.asVoid(dataplanes.cleanup(now, options.heartbeatRetentionMs)))
  )
  yield* every("schedules", options.scheduleIntervalMs, scheduleOnce(startedAt))
})
