/**
 * A sync job end to end: real faker and jsonl processes, the real store (PGlite, and PostgreSQL when
 * SLUICE_TEST_DATABASE_URL is set), retries with short backoffs, partial failures, config errors and
 * cancellation.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Layer, Schema } from "effect"
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type * as M from "../../src/engine/protocol/AirbyteMessage.ts"
import * as FailureReason from "../../src/engine/replication/FailureReason.ts"
import { builtinConnectorCommand } from "../../src/plugins/builtin.ts"
import { faker } from "../../src/plugins/faker/Faker.ts"
import { jsonl } from "../../src/plugins/jsonl/JsonlDestination.ts"
import { ConnectionStore } from "../../src/scheduler/ConnectionStore.ts"
import { ConnectionId } from "../../src/scheduler/Ids.ts"
import { JobStore } from "../../src/scheduler/JobStore.ts"
import * as RetryPolicy from "../../src/scheduler/RetryPolicy.ts"
import { RetryStateStore } from "../../src/scheduler/RetryStateStore.ts"
import { AttemptSetupFailed, runSyncJob, type SyncJobInput } from "../../src/scheduler/SyncJob.ts"
import * as ConnectionStoreSql from "../../src/store/ConnectionStoreSql.ts"
import * as JobStoreSql from "../../src/store/JobStoreSql.ts"
import * as RetryStateStoreSql from "../../src/store/RetryStateStoreSql.ts"
import * as TestDatabase from "../store/TestDatabase.ts"

const quickPolicy: RetryPolicy.RetryPolicy = { ...RetryPolicy.defaults, backoff: { minSeconds: 1, maxSeconds: 1, base: 3 } }

const configure = (discovered: M.AirbyteCatalog): Effect.Effect<M.ConfiguredAirbyteCatalog, AttemptSetupFailed> =>
  Effect.succeed({
    streams: discovered.streams.map((stream) => ({ stream, sync_mode: "incremental", destination_sync_mode: "append" }))
  })

const input = (dir: string, sourceConfig: object, extra: Partial<SyncJobInput> = {}): SyncJobInput => ({
  connection: Schema.decodeSync(ConnectionId)("test"),
  spec: { source: sourceConfig },
  source: { connector: { command: builtinConnectorCommand("faker"), ipc: faker.ipc }, config: sourceConfig },
  destination: { connector: { command: builtinConnectorCommand("jsonl"), ipc: jsonl.ipc }, config: { path: dir } },
  configureCatalog: configure,
  makeMiddlewares: () => Effect.succeed([]),
  transport: "auto",
  policy: quickPolicy,
  failStaleJobs: true,
  ...extra
})

const withDir = <A, E, R>(f: (dir: string) => Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.promise(() => mkdtemp(join(tmpdir(), "sluice-sync-"))),
    f,
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  )

const lineCount = (path: string) => Effect.promise(() => readFile(path, "utf8").then((t) => t.split("\n").filter((l) => l.length > 0).length, () => 0))

for (const database of TestDatabase.all) {
  const stores = Layer.mergeAll(JobStoreSql.layer, ConnectionStoreSql.layer, RetryStateStoreSql.layer).pipe(
    Layer.provide(database.layer),
    Layer.orDie
  )
  const live = <A, E>(name: string, body: () => Effect.Effect<A, E, JobStore | ConnectionStore | RetryStateStore>) =>
    it.live(name, () => body().pipe(Effect.provide(stores)), 120_000)

  describe(`sync job on ${database.name}`, () => {
    live("succeeds, stores the state, and the next sync resumes from it", () =>
      withDir((dir) =>
        Effect.gen(function*() {
          const first = yield* runSyncJob(input(dir, { count: 100, seed: 1 }))
          assert.strictEqual(first.info.job.status, "succeeded")
          assert.strictEqual(first.info.attempts.length, 1)
          assert.strictEqual(first.info.attempts[0]?.totalStats?.recordsCommitted, 300)
          assert.deepStrictEqual(first.info.attempts[0]?.streamStats.map((s) => s.stats.recordsCommitted), [100, 100, 100])
          assert.isDefined(first.info.attempts[0]?.transport)
          const state = yield* (yield* ConnectionStore).getState(Schema.decodeSync(ConnectionId)("test"))
          assert.isTrue(Array.isArray(state) && state.length === 3)
          const second = yield* runSyncJob(input(dir, { count: 100, seed: 1 }))
          assert.strictEqual(second.info.job.status, "succeeded")
          assert.strictEqual(second.info.attempts[0]?.totalStats?.recordsEmitted, 0)
          assert.strictEqual(yield* lineCount(join(dir, "users.jsonl")), 100)
          const logs = yield* (yield* JobStore).readLogs(first.info.job.id, first.info.attempts[0]!.attemptNumber, 0, 100)
          assert.isTrue(logs.lines.some((l) => l.origin === "platform" && l.message.includes("completed over")))
        })
      ))

    live("fails twice then succeeds: 3 attempts, a failure summary on the first two, backoffs between", () =>
      withDir((dir) =>
        Effect.gen(function*() {
          const waits: Array<number> = []
          const { info } = yield* runSyncJob(input(dir, { count: 20, seed: 1, fail_until_attempt: 2 }, {
            events: { onBackoff: (wait) => waits.push(Duration.toMillis(wait)) }
          }))
          assert.strictEqual(info.job.status, "succeeded")
          assert.deepStrictEqual(info.attempts.map((a) => a.status), ["failed", "failed", "succeeded"])
          for (const attempt of info.attempts.slice(0, 2)) {
            const failure = attempt.failureSummary?.failures[0]
            assert.strictEqual(failure?.failureOrigin, "source")
            assert.strictEqual(failure?.failureType, "transient_error")
            assert.strictEqual(attempt.failureSummary?.partialSuccess, false)
          }
          assert.deepStrictEqual(waits, [1000, 1000])
          const retry = yield* (yield* RetryStateStore).get(info.job.id)
          assert.strictEqual(retry._tag === "Some" ? retry.value.totalCompleteFailures : -1, 2)
        })
      ))

    live("partial failures retry at once (the backoff resets) and lose no records", () =>
      withDir((dir) =>
        Effect.gen(function*() {
          const waits: Array<number> = []
          const { info } = yield* runSyncJob(input(dir, { count: 120, seed: 1, records_per_state: 20, fail_after_records: 100, fail_until_attempt: 2 }, {
            transport: "stdio",
            events: { onBackoff: (wait) => waits.push(Duration.toMillis(wait)) }
          }))
          assert.strictEqual(info.job.status, "succeeded")
          assert.strictEqual(info.attempts.length, 3)
          assert.isTrue(info.attempts[0]?.failureSummary?.partialSuccess)
          assert.deepStrictEqual(waits, [0, 0])
          const ids = new Set((yield* Effect.promise(() => readFile(join(dir, "users.jsonl"), "utf8")))
            .split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l)._sluice_data.id))
          assert.strictEqual(ids.size, 120)
        })
      ))

    live("a config error fails the job after one attempt", () =>
      withDir((dir) =>
        Effect.gen(function*() {
          const reason = FailureReason.make({ failureOrigin: "replication", failureType: "config_error", externalMessage: "streams.nope: no such stream", timestamp: Date.now() })
          const { info, outcome } = yield* runSyncJob(input(dir, { count: 5 }, { configureCatalog: () => Effect.fail(new AttemptSetupFailed({ reason })) }))
          assert.strictEqual(info.job.status, "failed")
          assert.strictEqual(info.attempts.length, 1)
          assert.strictEqual(info.attempts[0]?.failureSummary?.failures[0]?.externalMessage, "streams.nope: no such stream")
          assert.strictEqual(outcome._tag, "Failed")
        })
      ))

    live("interrupting the job cancels it: the attempt fails with manual_cancellation, the job ends cancelled", () =>
      withDir((dir) =>
        Effect.gen(function*() {
          let jobId: number | undefined
          const fiber = yield* runSyncJob(input(dir, { count: 5_000_000, seed: 1 }, {
            events: { onJobCreated: (id) => (jobId = id) }
          })).pipe(Effect.forkChild)
          yield* Effect.sleep("2 seconds")
          yield* Fiber.interrupt(fiber)
          const jobs = yield* JobStore
          const info = yield* jobs.getJob(jobId as never)
          assert.strictEqual(info.job.status, "cancelled")
          assert.strictEqual(info.attempts[0]?.status, "failed")
          assert.strictEqual(info.attempts[0]?.failureSummary?.failures[0]?.failureType, "manual_cancellation")
        })
      ))
  })
}
