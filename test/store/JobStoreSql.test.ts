import { assert, layer } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import type { AttemptFailureSummary } from "../../src/engine/replication/FailureReason.ts"
import * as FailureReason from "../../src/engine/replication/FailureReason.ts"
import { emptyStats, type StreamSyncStats, type SyncStats } from "../../src/engine/replication/SyncStats.ts"
import * as AttemptFailures from "../../src/scheduler/AttemptFailures.ts"
import { AttemptNumber, JobId } from "../../src/scheduler/Ids.ts"
import { JobStore, type NewJob } from "../../src/scheduler/JobStore.ts"
import { RetryStateStore } from "../../src/scheduler/RetryStateStore.ts"
import { DataplaneStore } from "../../src/scheduler/DataplaneStore.ts"
import { DataplaneId } from "../../src/scheduler/Workload.ts"
import * as DataplaneStoreSql from "../../src/store/DataplaneStoreSql.ts"
import * as JobStoreSql from "../../src/store/JobStoreSql.ts"
import * as RetryStateStoreSql from "../../src/store/RetryStateStoreSql.ts"
import * as TestDatabase from "./TestDatabase.ts"

const sync = (connection: string): NewJob => ({ configType: "sync", scope: connection, config: { connection, secret: "**********" } })
const failure = (message: string, timestamp = 1): AttemptFailureSummary => ({
  failures: [{ failureOrigin: "source", failureType: "system_error", externalMessage: message, timestamp }],
  partialSuccess: false
})
const stats = (records: number, extra: Partial<SyncStats> = {}): SyncStats => ({
  ...emptyStats(),
  recordsEmitted: records,
  bytesEmitted: records * 10,
  recordsCommitted: records,
  bytesCommitted: records * 10,
  ...extra
})
const stream = (name: string, records: number, namespace?: string): StreamSyncStats => ({
  streamName: name,
  ...(namespace === undefined ? {} : { streamNamespace: namespace }),
  stats: stats(records),
  wasResumed: false
})
const n = AttemptNumber.make

for (const db of TestDatabase.all) {
  const stores = Layer.mergeAll(JobStoreSql.layer, RetryStateStoreSql.layer, DataplaneStoreSql.layer).pipe(Layer.provideMerge(db.layer))

  layer(stores, { timeout: "120 seconds", excludeTestServices: true })(`JobStoreSql on ${db.name}`, (it) => {
    it.effect("full lifecycle: pending → running → incomplete → running → succeeded, attempts 0 and 1", () =>
      Effect.gen(function*() {
        const store = yield* JobStore
        const job = yield* store.enqueueJob(sync("lifecycle"))
        assert.strictEqual(job.status, "pending")
        assert.strictEqual(job.configType, "sync")
        assert.deepStrictEqual(job.config, { connection: "lifecycle", secret: "**********" })
        const first = yield* store.createAttempt(job.id)
        assert.strictEqual(first.attemptNumber, 0)
        assert.strictEqual(first.status, "running")
        assert.strictEqual((yield* store.getJob(job.id)).job.status, "running")
        yield* store.failAttempt(job.id, first.attemptNumber, failure("boom"))
        const afterFailure = yield* store.getJob(job.id)
        assert.strictEqual(afterFailure.job.status, "incomplete")
        assert.strictEqual(afterFailure.attempts[0]?.status, "failed")
        assert.isDefined(afterFailure.attempts[0]?.endedAt)
        assert.deepStrictEqual(afterFailure.attempts[0]?.failureSummary, failure("boom"))
        const second = yield* store.createAttempt(job.id)
        assert.strictEqual(second.attemptNumber, 1)
        assert.strictEqual((yield* store.getJob(job.id)).job.status, "running")
        yield* store.succeedAttempt(job.id, second.attemptNumber)
        const done = yield* store.getJob(job.id)
        assert.strictEqual(done.job.status, "succeeded")
        assert.deepStrictEqual(done.attempts.map((a) => [a.attemptNumber, a.status]), [[0, "failed"], [1, "succeeded"]])
        assert.isAtLeast(done.job.updatedAt, done.job.createdAt)
      }))

    it.effect("a terminal job is left alone; it takes no new attempt", () =>
      Effect.gen(function*() {
        const store = yield* JobStore
        const job = yield* store.enqueueJob(sync("terminal"))
        const attempt = yield* store.createAttempt(job.id)
        yield* store.succeedAttempt(job.id, attempt.attemptNumber)
        assert.strictEqual((yield* store.failJob(job.id)).status, "succeeded")
        assert.strictEqual((yield* store.cancelJob(job.id, AttemptFailures.cancellation(5))).status, "succeeded")
        assert.strictEqual((yield* store.queueJob(job.id)).status, "succeeded")
        yield* store.failAttempt(job.id, attempt.attemptNumber, failure("late"))
        const after = yield* store.getJob(job.id)
        assert.strictEqual(after.attempts[0]?.status, "succeeded")
        const error = yield* Effect.flip(store.createAttempt(job.id))
        assert.strictEqual(error._tag, "JobIsTerminal")
      }))

    it.effect("illegal transitions fail with IllegalJobTransition naming from and to", () =>
      Effect.gen(function*() {
        const store = yield* JobStore
        const job = yield* store.enqueueJob(sync("illegal"))
        assert.strictEqual((yield* store.queueJob(job.id)).status, "queued")
        const queuedTwice = yield* Effect.flip(store.queueJob(job.id))
        assert.strictEqual(queuedTwice._tag, "IllegalJobTransition")
        yield* store.createAttempt(job.id)
        const error = yield* Effect.flip(store.queueJob(job.id))
        assert.strictEqual(error._tag, "IllegalJobTransition")
        if (error._tag === "IllegalJobTransition") {
          assert.strictEqual(error.from, "running")
          assert.strictEqual(error.to, "queued")
        }
        const busy = yield* Effect.flip(store.createAttempt(job.id))
        assert.strictEqual(busy._tag, "AttemptAlreadyRunning")
        assert.strictEqual((yield* store.getJob(job.id)).job.status, "running")
      }))

    it.effect("one active sync per connection: ActiveJobExists with the blocking job, allowed again after it ends", () =>
      Effect.gen(function*() {
        const store = yield* JobStore
        const results = yield* Effect.all([store.enqueueJob(sync("exclusive")), store.enqueueJob(sync("exclusive"))], {
          concurrency: 2,
          mode: "result"
        })
        const created = results.flatMap((r) => (r._tag === "Success" ? [r.success] : []))
        const refused = results.flatMap((r) => (r._tag === "Failure" ? [r.failure] : []))
        assert.strictEqual(created.length, 1)
        assert.strictEqual(refused.length, 1)
        const first = created[0]!
        const error = refused[0]!
        assert.strictEqual(error._tag, "ActiveJobExists")
        if (error._tag === "ActiveJobExists") {
          assert.strictEqual(error.existingJobId, first.id)
          assert.include(error.message, `(${first.id})`)
        }
        const check = yield* store.enqueueJob({ configType: "check_connection_source", scope: "exclusive", config: {} })
        assert.strictEqual(check.status, "pending")
        yield* store.createAttempt(first.id)
        yield* store.failAttempt(first.id, n(0), failure("x"))
        assert.strictEqual((yield* Effect.flip(store.enqueueJob(sync("exclusive"))))._tag, "ActiveJobExists")
        yield* store.failJob(first.id)
        const next = yield* store.enqueueJob(sync("exclusive"))
        assert.isAbove(next.id, first.id)
      }))

    it.effect("stats: upserted in progress, replaced by the final write, read back per attempt", () =>
      Effect.gen(function*() {
        const store = yield* JobStore
        const job = yield* store.enqueueJob(sync("stats"))
        const attempt = yield* store.createAttempt(job.id)
        yield* store.writeStats(job.id, attempt.attemptNumber, stats(5), [stream("users", 3), stream("users", 2, "public")])
        const progress = (yield* store.getJob(job.id)).attempts[0]
        assert.strictEqual(progress?.totalStats?.recordsCommitted, 5)
        assert.strictEqual(progress?.streamStats.length, 2)
        const final = stats(100, { estimatedRecords: 120, meanSecondsBetweenStateMessageEmittedandCommitted: 0.25, replicationStartTime: 1_700_000_000_123 })
        yield* store.writeStats(job.id, attempt.attemptNumber, final, [stream("users", 60), stream("users", 40, "public"), stream("orders", 0)])
        const read = (yield* store.getJob(job.id)).attempts[0]
        assert.deepStrictEqual(read?.totalStats, final)
        assert.deepStrictEqual(read?.streamStats, [stream("orders", 0), stream("users", 60), stream("users", 40, "public")])
        const missing = yield* Effect.flip(store.writeStats(job.id, n(7), final, []))
        assert.strictEqual(missing._tag, "AttemptNotFound")
      }))

    it.effect("listJobs: filters by connection, status and config type, newest first, paged by cursor", () =>
      Effect.gen(function*() {
        const store = yield* JobStore
        const ids: Array<JobId> = []
        for (let i = 0; i < 5; i++) {
          const job = yield* store.enqueueJob(sync("paged"))
          ids.push(job.id)
          if (i < 4) yield* store.failJob(job.id)
        }
        yield* store.enqueueJob({ configType: "discover_schema", scope: "paged", config: {} })
        const page1 = yield* store.listJobs({ connection: "paged", configType: "sync", limit: 2 })
        assert.deepStrictEqual(page1.jobs.map((j) => j.id), [ids[4], ids[3]])
        assert.isDefined(page1.nextCursor)
        const page2 = yield* store.listJobs({ connection: "paged", configType: "sync", limit: 2, ...(page1.nextCursor === undefined ? {} : { cursor: page1.nextCursor }) })
        assert.deepStrictEqual(page2.jobs.map((j) => j.id), [ids[2], ids[1]])
        const page3 = yield* store.listJobs({ connection: "paged", configType: "sync", limit: 2, ...(page2.nextCursor === undefined ? {} : { cursor: page2.nextCursor }) })
        assert.deepStrictEqual(page3.jobs.map((j) => j.id), [ids[0]])
        assert.isUndefined(page3.nextCursor)
        const failed = yield* store.listJobs({ connection: "paged", status: ["failed"], limit: 10 })
        assert.strictEqual(failed.jobs.length, 4)
        const all = yield* store.listJobs({ connection: "paged", limit: 10 })
        assert.strictEqual(all.jobs.length, 6)
        assert.strictEqual(all.jobs[0]?.configType, "discover_schema")
        assert.deepStrictEqual((yield* store.listJobs({ connection: "nobody", limit: 10 })).jobs, [])
        assert.deepStrictEqual((yield* store.listJobs({ status: [], limit: 10 })).jobs, [])
      }))

    it.effect("logs: appended in order across calls, read with offset and limit", () =>
      Effect.gen(function*() {
        const store = yield* JobStore
        const job = yield* store.enqueueJob(sync("logs"))
        const attempt = yield* store.createAttempt(job.id)
        const line = (i: number) => ({ at: 1_700_000_000_000 + i, level: "INFO" as const, origin: "source" as const, message: `line ${i}` })
        yield* store.appendLogs(job.id, attempt.attemptNumber, Array.from({ length: 1500 }, (_, i) => line(i)))
        yield* store.appendLogs(job.id, attempt.attemptNumber, [line(1500), { ...line(1501), level: "ERROR", origin: "platform" }])
        yield* store.appendLogs(job.id, attempt.attemptNumber, [])
        const page = yield* store.readLogs(job.id, attempt.attemptNumber, 1498, 3)
        assert.deepStrictEqual(page.lines.map((l) => [l.lineNo, l.message]), [[1498, "line 1498"], [1499, "line 1499"], [1500, "line 1500"]])
        assert.strictEqual(page.lines[0]?.at, 1_700_000_001_498)
        assert.strictEqual(page.nextOffset, 1501)
        assert.isTrue(page.hasMore)
        const last = yield* store.readLogs(job.id, attempt.attemptNumber, page.nextOffset, 100)
        assert.deepStrictEqual(last.lines.map((l) => [l.lineNo, l.level, l.origin]), [[1501, "ERROR", "platform"]])
        assert.isFalse(last.hasMore)
        assert.strictEqual((yield* store.getJob(job.id)).attempts[0]?.logLineCount, 1502)
        const missing = yield* Effect.flip(store.readLogs(job.id, n(3), 0, 10))
        assert.strictEqual(missing._tag, "AttemptNotFound")
      }))

    it.effect("orphans lists the non-terminal jobs of owners without a recent dataplane heartbeat; adopt is conditional", () =>
      Effect.gen(function*() {
        const store = yield* JobStore
        const dataplanes = yield* DataplaneStore
        const ghost = yield* store.enqueueJob({ configType: "check_connection_source", scope: "owned", config: {}, owner: "ghost" })
        const ended = yield* store.enqueueJob({ configType: "check_connection_source", scope: "owned", config: {}, owner: "ghost" })
        yield* store.cancelJob(ended.id, AttemptFailures.cancellation(Date.now()))
        const unowned = yield* store.enqueueJob({ configType: "check_connection_source", scope: "owned", config: {} })
        assert.isUndefined(unowned.owner)
        const live = yield* store.enqueueJob({ configType: "check_connection_source", scope: "owned", config: {}, owner: "live" })
        assert.strictEqual(live.owner, "live")
        // The database's clock decides the ages: let the ghost's job age, then the live owner beats.
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 1500)))
        yield* dataplanes.heartbeat(DataplaneId.make("live"), "test")
        const orphans = (yield* store.orphans(Date.now(), 1000)).filter((job) => job.scope === "owned")
        assert.deepStrictEqual(orphans.map((job) => job.id), [ghost.id], "only the ghost's active job")
        assert.isTrue(yield* store.adopt(ghost.id, "ghost", "me"))
        assert.isFalse(yield* store.adopt(ghost.id, "ghost", "other"), "adopted once")
        assert.isFalse(yield* store.adopt(ended.id, "ghost", "me"), "a terminal job is not adopted")
        assert.strictEqual((yield* store.getJob(ghost.id)).job.owner, "me")
      }))

    it.effect("failNonTerminalJobs fails what a stopped process left, with an airbyte_platform reason", () =>
      Effect.gen(function*() {
        const store = yield* JobStore
        const done = yield* store.enqueueJob({ configType: "check_connection_source", scope: "crashed", config: {} })
        yield* store.failJob(done.id)
        const running = yield* store.enqueueJob(sync("crashed"))
        yield* store.createAttempt(running.id)
        const pending = yield* store.enqueueJob({ configType: "discover_schema", scope: "crashed", config: {} })
        const other = yield* store.enqueueJob(sync("untouched"))
        const failed = yield* store.failNonTerminalJobs("crashed")
        assert.deepStrictEqual(failed, [running.id, pending.id])
        const info = yield* store.getJob(running.id)
        assert.strictEqual(info.job.status, "failed")
        assert.strictEqual(info.attempts[0]?.status, "failed")
        assert.strictEqual(info.attempts[0]?.failureSummary?.failures[0]?.failureOrigin, "airbyte_platform")
        assert.strictEqual((yield* store.getJob(pending.id)).job.status, "failed")
        assert.strictEqual((yield* store.getJob(other.id)).job.status, "pending")
        assert.deepStrictEqual(yield* store.failNonTerminalJobs("crashed"), [])
      }))

    it.effect("cancelJob ends the job cancelled and fails its running attempt with the summary", () =>
      Effect.gen(function*() {
        const store = yield* JobStore
        const job = yield* store.enqueueJob(sync("cancel"))
        yield* store.createAttempt(job.id)
        const cancelled = yield* store.cancelJob(job.id, AttemptFailures.cancellation(9, true))
        assert.strictEqual(cancelled.status, "cancelled")
        const attempt = (yield* store.getJob(job.id)).attempts[0]
        assert.strictEqual(attempt?.status, "failed")
        assert.strictEqual(attempt?.failureSummary?.failures[0]?.failureType, "manual_cancellation")
        assert.isTrue(attempt?.failureSummary?.partialSuccess)
        const queued = yield* store.enqueueJob(sync("cancel"))
        yield* store.queueJob(queued.id)
        assert.strictEqual((yield* store.cancelJob(queued.id, AttemptFailures.cancellation(10))).status, "cancelled")
      }))

    it.effect("output, transport and size-limited failure summaries are stored on the attempt", () =>
      Effect.gen(function*() {
        const store = yield* JobStore
        const job = yield* store.enqueueJob(sync("details"))
        const attempt = yield* store.createAttempt(job.id)
        yield* store.setTransport(job.id, attempt.attemptNumber, { transport: "socket", serialization: "PROTOBUF", reason: "both support sockets" })
        yield* store.writeOutput(job.id, attempt.attemptNumber, { sync: { status: "failed" } })
        const many = Array.from({ length: 15 }, (_, i) => failure("x".repeat(60_000), 100 - i).failures[0]!)
        yield* store.failAttempt(job.id, attempt.attemptNumber, { failures: many })
        const read = (yield* store.getJob(job.id)).attempts[0]
        assert.deepStrictEqual(read?.transport, { transport: "socket", serialization: "PROTOBUF", reason: "both support sockets" })
        assert.deepStrictEqual(read?.output, { sync: { status: "failed" } })
        const failures = read?.failureSummary?.failures ?? []
        assert.strictEqual(failures.length, FailureReason.MAX_FAILURES_TO_KEEP)
        assert.deepStrictEqual(failures.map((f) => f.timestamp), [86, 87, 88, 89, 90, 91, 92, 93, 94, 95])
        assert.isBelow(failures[0]?.externalMessage?.length ?? 0, 50_100)
      }))

    it.effect("unknown jobs and attempts are typed errors", () =>
      Effect.gen(function*() {
        const store = yield* JobStore
        const ghost = JobId.make(987_654_321)
        assert.strictEqual((yield* Effect.flip(store.getJob(ghost)))._tag, "JobNotFound")
        assert.strictEqual((yield* Effect.flip(store.createAttempt(ghost)))._tag, "JobNotFound")
        assert.strictEqual((yield* Effect.flip(store.failJob(ghost)))._tag, "JobNotFound")
        assert.strictEqual((yield* Effect.flip(store.failAttempt(ghost, n(0), failure("x"))))._tag, "AttemptNotFound")
        assert.strictEqual((yield* Effect.flip(store.appendLogs(ghost, n(0), [])))._tag, "AttemptNotFound")
      }))

    it.effect("retry states: none until written, then the last write wins; unknown job → JobNotFound", () =>
      Effect.gen(function*() {
        const store = yield* JobStore
        const retries = yield* RetryStateStore
        const job = yield* store.enqueueJob(sync("retries"))
        assert.isTrue(Option.isNone(yield* retries.get(job.id)))
        const state = { successiveCompleteFailures: 2, totalCompleteFailures: 3, successivePartialFailures: 0, totalPartialFailures: 1 }
        yield* retries.put(job.id, state)
        yield* retries.put(job.id, { ...state, totalPartialFailures: 4 })
        assert.deepStrictEqual(yield* retries.get(job.id), Option.some({ ...state, totalPartialFailures: 4 }))
        assert.strictEqual((yield* Effect.flip(retries.put(JobId.make(987_654_321), state)))._tag, "JobNotFound")
      }))
  })
}
