/**
 * The control plane's crons: the workload monitor (fails overdue workloads; the job's retry loop
 * takes over), the dataplane heartbeat and its hourly clean-up (keep each dataplane's latest row,
 * delete rows older than 24 h), per-connection schedules (interval or cron) that enqueue syncs, and
 * on shared PostgreSQL the takeover of the jobs of servers whose dataplane heartbeat stopped.
 * Conditional updates and the one-active-sync index make them safe to run on several servers at once.
 */
import * as Clock from "effect/Clock"
import * as Cron from "effect/Cron"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import { type ConnectionSchedule, ConnectionSpecs } from "./ConnectionSpecs.ts"
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
  /** Adopt the jobs of servers without a dataplane heartbeat for this long (checked every heartbeat); absent: never. */
  readonly takeoverAfterMs?: number
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

/** A stored cron schedule that does not parse (config loading and the API reject these first). */
export class ScheduleInvalid extends Data.TaggedError("ScheduleInvalid")<{
  readonly connection: string
  readonly cron: string
  readonly timezone: string | undefined
  readonly reason: string
}> {
  override get message() {
    return `connection ${this.connection}: invalid schedule cron ${JSON.stringify(this.cron)}` +
      `${this.timezone === undefined ? "" : ` (time zone ${this.timezone})`}: ${this.reason}`
  }
}

/**
 * When the connection's next scheduled sync is due (epoch ms), from when its last sync was created
 * (`lastRunAt`, undefined when it never ran) and when scheduling began for it (`since`: the later of
 * the server's start and the connection's creation). Interval: at once when it never ran, else
 * `everyMs` after the last sync. Cron: the first fire time after the last sync (or after `since`), so
 * a server that was down at fire times runs one catch-up sync, not one per missed time. Manual: never
 * (undefined). Pure.
 */
export const nextRunAt = (
  connection: string,
  schedule: ConnectionSchedule,
  lastRunAt: number | undefined,
  since: number
): Result.Result<number | undefined, ScheduleInvalid> => {
  if (schedule._tag === "manual") return Result.succeed(undefined)
  if (schedule._tag === "interval") return Result.succeed(lastRunAt === undefined ? since : lastRunAt + schedule.everyMs)
  const cron = Cron.parse(schedule.cron, schedule.timezone)
  if (Result.isFailure(cron)) {
    return Result.fail(new ScheduleInvalid({ connection, cron: schedule.cron, timezone: schedule.timezone, reason: cron.failure.message }))
  }
  return Result.succeed(Cron.next(cron.success, new Date(lastRunAt ?? since)).getTime())
}

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
    const next = nextRunAt(connection.name, schedule, last?.createdAt, Math.max(startedAt, connection.createdAt))
    if (Result.isFailure(next)) {
      yield* Effect.logWarning(`${next.failure.message}; the connection is not synced on schedule`)
      continue
    }
    if (next.success === undefined || next.success > now) continue
    yield* runner.sync(connection.name).pipe(
      Effect.tap((job) => Effect.logInfo(`scheduled sync of ${connection.name}: job ${job.id}`)),
      Effect.catch((error) => Effect.logDebug(`scheduled sync of ${connection.name} skipped: ${error.message}`))
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
  const takeoverAfterMs = options.takeoverAfterMs
  if (takeoverAfterMs !== undefined) {
    const runner = yield* JobRunner
    yield* every("takeover", options.dataplaneHeartbeatMs, Effect.asVoid(runner.adoptOrphans(takeoverAfterMs)))
  }
})
