/**
 * The launch loop of one dataplane (one `sluice serve` process): polls the queue for as many
 * workloads as it has free slots per type (MAX_SYNC_WORKERS for syncs, MAX_CHECK_WORKERS for check,
 * discover and spec), claims each (the exclusivity gate), creates the job's attempt (job `running`),
 * starts the worker through the Launcher, marks it launched, stops workers whose workload ended
 * (cancelled, failed by the monitor) and fails workloads whose worker exited without reporting.
 * Excess work stays queued; slots free only when a worker process has exited.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import { createHash, randomBytes } from "node:crypto"
import { JobStore } from "./JobStore.ts"
import { Launcher, type RunningWorker } from "./Launcher.ts"
import * as W from "./Workload.ts"
import { WorkloadStore } from "./WorkloadStore.ts"

export interface WorkloadLauncherOptions {
  readonly dataplane: W.DataplaneId
  readonly serverUrl: string
  readonly maxSyncWorkers: number
  readonly maxCheckWorkers: number
  readonly pollIntervalMs: number
  /** Queue redelivery window (reference §5.5: 300 s). */
  readonly redeliveryMs: number
  /** claimed → launched deadline (30 min) and launched → running deadline (10 min). */
  readonly launchTimeoutMs: number
  readonly startTimeoutMs: number
  /** SIGTERM → SIGKILL when stopping a worker. */
  readonly stopGraceMs: number
}

type Pool = "sync" | "check"
const poolOf = (type: W.WorkloadType): Pool => (type === "sync" ? "sync" : "check")
const typesOf: Record<Pool, ReadonlyArray<W.WorkloadType>> = { sync: ["sync"], check: ["spec", "check", "discover"] }

export const hashToken = (token: string) => createHash("sha256").update(token).digest("hex")

export interface LaunchLoop {
  /** Workers running now, per pool. */
  readonly running: () => Readonly<Record<Pool, number>>
  /** Stops taking work; waits up to `graceMs` for workers to finish, then stops the rest. */
  drain(graceMs: number): Effect.Effect<void>
}

export const make = Effect.fn("WorkloadLauncher.make")(function*(options: WorkloadLauncherOptions) {
  const store = yield* WorkloadStore
  const jobs = yield* JobStore
  const launcher = yield* Launcher
  const scope = yield* Scope.Scope
  const workers = yield* FiberSet.make()
  const running: Record<Pool, number> = { sync: 0, check: 0 }
  const local = new Map<W.WorkloadId, RunningWorker>()
  const limits: Record<Pool, number> = { sync: options.maxSyncWorkers, check: options.maxCheckWorkers }
  let accepting = true

  const failLaunch = (workload: W.Workload, reason: string) =>
    store.fail(workload.id, { source: "launch", reason }).pipe(Effect.ignore)

  /** Runs one claimed workload's worker to its exit. The slot is held until then. */
  const runWorkload = (workload: W.Workload, token: string) =>
    Effect.gen(function*() {
      const attempt = yield* jobs.createAttempt(workload.jobId).pipe(Effect.result)
      if (attempt._tag === "Failure") {
        const error = attempt.failure
        if (error._tag === "JobIsTerminal") {
          return yield* store.cancel(workload.id, { source: "launch", reason: `the job ended (${error.status}) before its workload started` }).pipe(Effect.ignore)
        }
        return yield* failLaunch(workload, `cannot create the attempt: ${error.message}`)
      }
      if (attempt.success.attemptNumber !== workload.attemptNumber) {
        return yield* failLaunch(workload, `the job's next attempt is ${attempt.success.attemptNumber}, not ${workload.attemptNumber}`)
      }
      const started = yield* launcher.launch({ workload, token, serverUrl: options.serverUrl }).pipe(Effect.result)
      if (started._tag === "Failure") return yield* failLaunch(workload, started.failure.message)
      const worker = started.success
      local.set(workload.id, worker)
      const now = yield* Clock.currentTimeMillis
      yield* store.launch(workload.id, now + options.startTimeoutMs).pipe(Effect.ignore)
      const code = yield* worker.exit
      local.delete(workload.id)
      const after = yield* store.get(workload.id)
      if (W.isActive(after.status)) {
        yield* store.fail(workload.id, {
          source: "launcher",
          reason: `The worker exited (${code === null ? "killed by a signal" : `code ${code}`}) without reporting the result of the workload.`
        }).pipe(Effect.ignore)
      }
    }).pipe(
      Effect.ensuring(Effect.sync(() => {
        running[poolOf(workload.type)]--
      })),
      Effect.catchCause((cause) => Effect.logError(`workload ${workload.id}: the launcher failed`, cause))
    )

  /** Stops local workers whose workload has ended (cancelled, superseded, failed by the monitor). */
  const reap = Effect.gen(function*() {
    if (local.size === 0) return
    const statuses = yield* store.statuses([...local.keys()])
    for (const [id, status] of statuses) {
      const worker = local.get(id)
      if (worker !== undefined && W.isTerminal(status)) {
        local.delete(id)
        yield* Effect.forkIn(worker.stop(options.stopGraceMs), scope)
      }
    }
  })

  const fill = Effect.gen(function*() {
    for (const pool of ["check", "sync"] as const) {
      const free = limits[pool] - running[pool]
      if (!accepting || free <= 0) continue
      const polled = yield* store.poll(typesOf[pool], free, options.redeliveryMs)
      for (const workload of polled) {
        if (!accepting || running[pool] >= limits[pool]) break
        const token = randomBytes(32).toString("base64url")
        const now = yield* Clock.currentTimeMillis
        const claimed = yield* store.claim(workload.id, options.dataplane, now + options.launchTimeoutMs, hashToken(token))
        if (!claimed.changed) continue
        running[pool]++
        yield* FiberSet.run(workers, runWorkload(claimed.workload, token))
      }
    }
  })

  const loop = yield* Effect.all([reap, fill], { discard: true }).pipe(
    Effect.catch((error) => Effect.logWarning(`launcher: ${error.message}`)),
    Effect.repeat(Schedule.spaced(options.pollIntervalMs)),
    Effect.forkScoped
  )

  const loopState: LaunchLoop = {
    running: () => ({ ...running }),
    drain: (graceMs) =>
      Effect.gen(function*() {
        accepting = false
        const done = yield* Effect.timeoutOption(FiberSet.awaitEmpty(workers), graceMs)
        if (done._tag === "None") {
          yield* Effect.forEach([...local.entries()], ([id, worker]) =>
            Effect.andThen(
              store.cancel(id, { source: "shutdown", reason: "The server shut down before the workload finished" }).pipe(Effect.ignore),
              worker.stop(options.stopGraceMs)
            ), { concurrency: "unbounded", discard: true })
          yield* FiberSet.awaitEmpty(workers)
        }
        yield* Fiber.interrupt(loop)
      })
  }
  return loopState
})
