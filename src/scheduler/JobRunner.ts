/**
 * The control plane's job loop: creates jobs for syncs, checks, discovers and specs, runs each attempt as a
 * workload (job `queued` until a launcher has a slot, `running` once launched), waits for its end,
 * and lets `RetryManager.runWithRetries` decide what follows — the next attempt resumes from the
 * committed state. Cancelling ends the job and its workloads (their workers stop). No SQL or HTTP.
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as FailureReason from "../engine/replication/FailureReason.ts"
import * as AttemptFailures from "./AttemptFailures.ts"
import { ConnectionSpecs } from "./ConnectionSpecs.ts"
import { ConnectionStore } from "./ConnectionStore.ts"
import { AttemptNumber, ConnectionId, type JobId } from "./Ids.ts"
import type { Job, JobConfigType } from "./Job.ts"
import { type JobInfo, JobStore } from "./JobStore.ts"
import type { ActiveJobExists, ConnectionNotFound, JobNotFound, StoreError } from "./StoreErrors.ts"
import * as JobStatus from "./JobStatus.ts"
import * as RetryManager from "./RetryManager.ts"
import { RetryStateStore } from "./RetryStateStore.ts"
import * as W from "./Workload.ts"
import { WorkloadStore } from "./WorkloadStore.ts"
import * as WorkloadWatcher from "./WorkloadWatcher.ts"

export interface JobRunnerOptions {
  /** This server: recorded as the owner of the jobs it runs (a live server adopts a dead one's). */
  readonly dataplane: W.DataplaneId
  /** A workload must be claimed within this (reference §5.2: 30 min). */
  readonly claimTimeoutMs: number
  /** How often the watcher polls workload statuses. */
  readonly watchIntervalMs: number
}

type Target = "source" | "destination"

/** Checks and discovers are not retried (Airbyte runs them once): every limit is reached at once. */
const noRetries = {
  maxSuccessiveCompleteFailures: 1,
  maxTotalCompleteFailures: 1,
  maxSuccessivePartialFailures: 1,
  maxTotalPartialFailures: 1
}

/** One job per connector of the connection (check and spec). */
export interface ConnectorJobs {
  readonly source: Job
  readonly destination: Job
}

export class JobRunner extends Context.Service<JobRunner, {
  /** Enqueues a sync of the connection (ActiveJobExists while one is active) and runs it. */
  sync(connection: ConnectionId): Effect.Effect<Job, ConnectionNotFound | ActiveJobExists | StoreError>
  /** Enqueues one check job per connector of the connection (output: `connectionStatus`). */
  check(connection: ConnectionId): Effect.Effect<ConnectorJobs, ConnectionNotFound | StoreError>
  /** Enqueues a discover of the connection's source (output: `catalog`). */
  discover(connection: ConnectionId): Effect.Effect<Job, ConnectionNotFound | StoreError>
  /**
   * Enqueues one `get_spec` job per connector of the connection (workload type spec, high priority;
   * output: `spec`, the connector's ConnectorSpecification). The job's config is the connector's
   * part of the connection spec; its `kind` says which side the worker runs.
   */
  spec(connection: ConnectionId): Effect.Effect<ConnectorJobs, ConnectionNotFound | StoreError>
  /** Cancels the job: manual_cancellation on its running attempt, its workloads cancelled. */
  cancel(jobId: JobId): Effect.Effect<JobInfo, JobNotFound | StoreError>
  /**
   * The takeover (shared PostgreSQL): adopts the non-terminal jobs of servers whose dataplane
   * heartbeat is older than `staleAfterMs` (a conditional owner change: one server wins each) and
   * resumes their retry loops here. A running attempt is awaited through its workload — the monitor
   * fails it at its heartbeat deadline when its worker is gone — then failed with that reason and
   * retried by policy. Returns the jobs this call adopted.
   */
  adoptOrphans(staleAfterMs: number): Effect.Effect<ReadonlyArray<JobId>, StoreError>
  /** Jobs this process is running (orchestrating). */
  readonly inFlight: Effect.Effect<number>
}>()("sluice/scheduler/JobRunner") {}

const platformFailure = (workload: W.Workload, at: number, note: string | undefined): FailureReason.FailureReason => ({
  failureOrigin: "airbyte_platform",
  failureType: "system_error",
  externalMessage: (workload.terminationReason ?? `the workload ended ${workload.status} without reporting a result`) +
    (note === undefined ? "" : ` ${note}`),
  internalMessage: `workload ${workload.id} ended ${workload.status}` +
    (workload.terminationSource === undefined ? "" : ` (source: ${workload.terminationSource})`) +
    (workload.terminationReason === undefined ? "" : `: ${workload.terminationReason}`) +
    (note === undefined ? "" : ` ${note}`),
  retryable: true,
  timestamp: at
})

/** Another server adopted the job (this one's dataplane heartbeat looked dead): stop its loop here. */
class Disowned extends Data.TaggedError("Disowned")<{ readonly jobId: JobId; readonly owner: string }> {}

/** What a job runs, from its config type. */
const kindOf = (configType: JobConfigType): { readonly type: W.WorkloadType; readonly target: Target | undefined } =>
  configType === "sync"
    ? { type: "sync", target: undefined }
    : configType === "check_connection_source"
    ? { type: "check", target: "source" }
    : configType === "check_connection_destination"
    ? { type: "check", target: "destination" }
    : configType === "discover_schema"
    ? { type: "discover", target: undefined }
    : { type: "spec", target: undefined }

/** Where an adopted job's loop resumes: the retry counters, the attempt, and a note for its failure. */
interface Resume {
  readonly state: RetryManager.RetryState
  readonly firstAttemptNumber: number
  readonly note: string
}

export const make = Effect.fn("JobRunner.make")(function*(options: JobRunnerOptions) {
  const jobs = yield* JobStore
  const connections = yield* ConnectionStore
  const workloads = yield* WorkloadStore
  const retryStates = yield* RetryStateStore
  const specs = yield* ConnectionSpecs
  const watcher = yield* WorkloadWatcher.make(options.watchIntervalMs)
  const fibers = yield* FiberSet.make()

  /**
   * One attempt as a workload: queue the job, create the workload, await its end, read the outcome.
   * An existing workload of the attempt (a job adopted mid-attempt) is awaited instead; a job another
   * server adopted meanwhile stops this loop (Disowned) before it creates anything.
   */
  const attemptViaWorkload = (job: Job, type: W.WorkloadType, target: Target | undefined, resume?: Resume) => (n: number) =>
    Effect.gen(function*() {
      const attemptNumber = AttemptNumber.make(n)
      const actor = `${job.scope}${target === undefined ? "" : `-${target}`}`
      const id = W.WorkloadId.make(
        type === "sync"
          ? W.syncId(job.scope, job.id, n)
          : type === "check"
          ? W.checkId(actor, job.id, n)
          : type === "discover"
          ? W.discoverId(actor, job.id, n)
          : W.specId(job.id)
      )
      const existing = yield* workloads.get(id).pipe(
        Effect.map(Option.some),
        Effect.catchTag("WorkloadNotFound", () => Effect.succeed(Option.none()))
      )
      if (Option.isNone(existing)) {
        const current = (yield* jobs.getJob(job.id)).job
        if (current.owner !== undefined && current.owner !== options.dataplane) {
          return yield* new Disowned({ jobId: job.id, owner: current.owner })
        }
        const queued = yield* jobs.queueJob(job.id)
        if (JobStatus.isTerminal(queued.status)) return RetryManager.cancelled
        const now = yield* Clock.currentTimeMillis
        yield* workloads.create({
          id,
          type,
          jobId: job.id,
          attemptNumber,
          connection: ConnectionId.make(job.scope),
          priority: W.priorityOf(type),
          ...(type === "sync" ? { mutexKey: job.scope } : {}),
          deadline: now + options.claimTimeoutMs
        }).pipe(Effect.catchTag("WorkloadExists", () => Effect.void))
      }
      yield* watcher.awaitEnd(id)
      const workload = yield* workloads.get(id)
      const info = yield* jobs.getJob(job.id)
      if (info.job.status === "cancelled") return RetryManager.cancelled
      const attempt = info.attempts.find((a) => a.attemptNumber === attemptNumber)
      const at = yield* Clock.currentTimeMillis
      const note = resume !== undefined && n === resume.firstAttemptNumber ? resume.note : undefined
      if (attempt === undefined || attempt.status === "running") {
        // The worker never reported: never launched, killed, or superseded. The workload says why.
        if (attempt === undefined) yield* jobs.createAttempt(job.id)
        // What the worker persisted before it went away counts (a killed sync may have committed states).
        const summary = FailureReason.summarize([platformFailure(workload, at, note)], attempt?.totalStats?.recordsCommitted ?? 0)
        yield* jobs.failAttempt(job.id, attemptNumber, summary)
        const persisted = (yield* jobs.getJob(job.id)).attempts.find((a) => a.attemptNumber === attemptNumber)
        return RetryManager.failed(summary, RetryManager.hasProgress(persisted?.totalStats))
      }
      if (attempt.status === "succeeded") return RetryManager.succeeded(attempt)
      const summary = attempt.failureSummary ?? { failures: [platformFailure(workload, at, note)] }
      return RetryManager.failed(summary, RetryManager.hasProgress(attempt.totalStats))
    })

  const policyOf = (job: Job, type: W.WorkloadType) =>
    Effect.gen(function*() {
      const record = yield* connections.get(ConnectionId.make(job.scope))
      const policy = yield* specs.policy(record.spec)
      return type === "sync" ? policy : { ...policy, ...noRetries }
    })

  /** Runs the job's attempts to its end (from `resume` for an adopted job); interruption (shutdown) cancels it. */
  const run = (job: Job, type: W.WorkloadType, target: Target | undefined, resume?: Resume) =>
    Effect.gen(function*() {
      const outcome = yield* RetryManager.runWithRetries({
        policy: yield* policyOf(job, type),
        connectionName: job.scope,
        runAttempt: attemptViaWorkload(job, type, target, resume),
        onDecision: (decision) => retryStates.put(job.id, decision.state),
        ...(resume === undefined ? {} : { state: resume.state, firstAttemptNumber: resume.firstAttemptNumber })
      })
      if (outcome._tag === "Failed") yield* jobs.failJob(job.id)
      if (outcome._tag === "Cancelled") yield* jobs.cancelJob(job.id, AttemptFailures.cancellation(Date.now()))
    }).pipe(
      Effect.catchTag("Disowned", (disowned) =>
        Effect.logWarning(`job ${disowned.jobId} was adopted by ${disowned.owner}: its loop stops here`)),
      Effect.onInterrupt(() => cancel(job.id).pipe(Effect.ignore)),
      Effect.catchCause((cause) =>
        Effect.gen(function*() {
          yield* Effect.logError(`job ${job.id} stopped unexpectedly`, cause)
          yield* jobs.failJob(job.id).pipe(Effect.ignore)
        })
      ),
      Effect.withSpan("JobRunner.run", { attributes: { jobId: job.id, type } })
    )

  const start = (configType: JobConfigType, type: W.WorkloadType, connection: ConnectionId, target?: Target) =>
    Effect.gen(function*() {
      const record = yield* connections.get(connection)
      const side = target === undefined ? undefined : record.spec[target]
      // A spec job runs one connector: its config is that connector's part of the connection.
      const config = type === "spec" && typeof side === "object" && side !== null && !Array.isArray(side)
        ? { ...side }
        : record.spec
      const job = yield* jobs.enqueueJob({ configType, scope: connection, config, owner: options.dataplane })
      yield* FiberSet.run(fibers, run(job, type, target))
      return job
    })

  /** Only syncs are blocked by an active job (the database's one-active-sync index). */
  const startUnblocked = (configType: Exclude<JobConfigType, "sync">, type: W.WorkloadType, connection: ConnectionId, target?: Target) =>
    start(configType, type, connection, target).pipe(Effect.catchTag("ActiveJobExists", (error) => Effect.die(error)))

  const cancel = Effect.fn("JobRunner.cancel")(function*(jobId: JobId) {
    const at = yield* Clock.currentTimeMillis
    yield* jobs.cancelJob(jobId, AttemptFailures.cancellation(at))
    for (const workload of yield* workloads.activeOfJob(jobId)) {
      // Ended or gone since it was listed: nothing left to cancel.
      yield* workloads.cancel(workload.id, { source: "api", reason: "The job was cancelled" }).pipe(
        Effect.catchTags({ WorkloadGone: () => Effect.void, WorkloadNotFound: () => Effect.void, WorkloadTransitionInvalid: () => Effect.void })
      )
    }
    return yield* jobs.getJob(jobId)
  })

  /**
   * Where an adopted job resumes: at its running attempt (awaited through its workload), or after
   * its last failed attempt — unless that one already stopped the retries (a config error, a reached
   * limit: the job fails now) — once what is left of its backoff has passed.
   */
  const resumeAdopted = (job: Job, from: string) =>
    Effect.gen(function*() {
      const { type, target } = kindOf(job.configType)
      const policy = yield* policyOf(job, type)
      const state = Option.getOrElse(yield* retryStates.get(job.id), () => RetryManager.initial)
      const last = (yield* jobs.getJob(job.id)).attempts.at(-1)
      const note = `The server that ran this job (${from}) stopped sending dataplane heartbeats; ${options.dataplane} took the job over.`
      yield* Effect.logWarning(`job ${job.id}: adopted from ${from}`)
      if (last === undefined || last.status === "running") {
        return yield* run(job, type, target, { state, firstAttemptNumber: last?.attemptNumber ?? 0, note })
      }
      if (last.status === "succeeded") return
      if (last.failureSummary?.failures[0]?.failureType === "config_error" || !RetryManager.shouldRetry(policy, state)) {
        yield* jobs.failJob(job.id)
        return
      }
      const now = yield* Clock.currentTimeMillis
      const waited = now - (last.endedAt ?? now)
      yield* Effect.sleep(Duration.millis(Math.max(0, Duration.toMillis(RetryManager.backoff(policy, state)) - waited)))
      return yield* run(job, type, target, { state, firstAttemptNumber: last.attemptNumber + 1, note })
    }).pipe(
      Effect.catchCause((cause) => Effect.logError(`job ${job.id}: the takeover failed`, cause)),
      Effect.withSpan("JobRunner.resumeAdopted", { attributes: { jobId: job.id, from } })
    )

  const adoptOrphans = Effect.fn("JobRunner.adoptOrphans")(function*(staleAfterMs: number) {
    const now = yield* Clock.currentTimeMillis
    const adopted: Array<JobId> = []
    for (const job of yield* jobs.orphans(now, staleAfterMs)) {
      if (job.owner === undefined || job.owner === options.dataplane) continue
      if (!(yield* jobs.adopt(job.id, job.owner, options.dataplane))) continue
      adopted.push(job.id)
      yield* FiberSet.run(fibers, resumeAdopted({ ...job, owner: options.dataplane }, job.owner))
    }
    return adopted
  })

  return JobRunner.of({
    adoptOrphans,
    sync: Effect.fn("JobRunner.sync")(function*(connection: ConnectionId) {
      return yield* start("sync", "sync", connection)
    }),
    check: Effect.fn("JobRunner.check")(function*(connection: ConnectionId) {
      const source = yield* startUnblocked("check_connection_source", "check", connection, "source")
      const destination = yield* startUnblocked("check_connection_destination", "check", connection, "destination")
      return { source, destination }
    }),
    discover: Effect.fn("JobRunner.discover")(function*(connection: ConnectionId) {
      return yield* startUnblocked("discover_schema", "discover", connection)
    }),
    spec: Effect.fn("JobRunner.spec")(function*(connection: ConnectionId) {
      const source = yield* startUnblocked("get_spec", "spec", connection, "source")
      const destination = yield* startUnblocked("get_spec", "spec", connection, "destination")
      return { source, destination }
    }),
    cancel,
    inFlight: FiberSet.size(fibers)
  })
})

export const layer = (options: JobRunnerOptions) => Layer.effect(JobRunner, make(options))
