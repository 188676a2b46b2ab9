import { assert, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { JobStore } from "../../src/scheduler/JobStore.ts"
import { AttemptNumber, ConnectionId } from "../../src/scheduler/Ids.ts"
import { DataplaneStore } from "../../src/scheduler/DataplaneStore.ts"
import * as W from "../../src/scheduler/Workload.ts"
import { type NewWorkload, WorkloadStore } from "../../src/scheduler/WorkloadStore.ts"
import * as DataplaneStoreSql from "../../src/store/DataplaneStoreSql.ts"
import * as JobStoreSql from "../../src/store/JobStoreSql.ts"
import * as WorkloadStoreSql from "../../src/store/WorkloadStoreSql.ts"
import * as TestDatabase from "./TestDatabase.ts"

const HOUR = 3_600_000
const dp = W.DataplaneId.make
let seq = 0
const tok = () => `token-hash-${++seq}-${Math.random()}`

/** A check job with a pending workload of a fresh id. */
const newWorkload = (overrides: Partial<NewWorkload> = {}) =>
  Effect.gen(function*() {
    const jobs = yield* JobStore
    const job = yield* jobs.enqueueJob({ configType: "check_connection_source", scope: "c", config: {} })
    seq++
    return yield* (yield* WorkloadStore).create({
      id: W.WorkloadId.make(W.checkId(`a${seq}`, job.id, 0)),
      type: "check",
      jobId: job.id,
      attemptNumber: AttemptNumber.make(0),
      priority: W.PRIORITY_HIGH,
      deadline: Date.now() + HOUR,
      ...overrides
    })
  })

type Step = (store: WorkloadStore["Service"], id: W.WorkloadId) => Effect.Effect<unknown, unknown>
const steps: Record<W.WorkloadCall, Step> = {
  claim: (s, id) => s.claim(id, dp("dp1"), Date.now() + HOUR, `t-${id}`),
  launch: (s, id) => s.launch(id, Date.now() + HOUR),
  running: (s, id) => s.running(id, Date.now() + HOUR),
  heartbeat: (s, id) => s.heartbeat(id, Date.now() + HOUR),
  succeed: (s, id) => s.succeed(id),
  fail: (s, id) => s.fail(id, { source: "test", reason: "boom" }),
  cancel: (s, id) => s.cancel(id, { source: "test", reason: "stop" })
}
/** The calls that bring a fresh workload into each status. */
const pathTo: Record<W.WorkloadStatus, ReadonlyArray<W.WorkloadCall>> = {
  pending: [],
  claimed: ["claim"],
  launched: ["claim", "launch"],
  running: ["claim", "launch", "running"],
  success: ["claim", "succeed"],
  failure: ["fail"],
  cancelled: ["cancel"]
}
const calls: ReadonlyArray<W.WorkloadCall> = ["claim", "launch", "running", "heartbeat", "succeed", "fail", "cancel"]

/** The expected outcome of `call` from `from`: the status after it, or the error's tag. */
const expected = (call: W.WorkloadCall, from: W.WorkloadStatus): string => {
  if (call === "claim") return from === "pending" || from === "claimed" ? "claimed" : `unchanged:${from}`
  if (W.allowedFrom[call].includes(from)) return W.targetOf[call]
  const mismatch = W.onMismatch(call, from)
  return mismatch === "repeat" ? `unchanged:${from}` : mismatch === "gone" ? "WorkloadGone" : "WorkloadTransitionInvalid"
}

for (const db of TestDatabase.all) {
  const stores = Layer.mergeAll(JobStoreSql.layer, WorkloadStoreSql.layer, DataplaneStoreSql.layer).pipe(Layer.provideMerge(db.layer))

  layer(stores, { timeout: "120 seconds", excludeTestServices: true })(`WorkloadStoreSql on ${db.name}`, (it) => {
    it.effect("every call from every status: the table, 410 for an ended workload, idempotent repeats", () =>
      Effect.gen(function*() {
        const store = yield* WorkloadStore
        for (const from of W.WorkloadStatus.literals) {
          for (const call of calls) {
            const workload = yield* newWorkload()
            for (const step of pathTo[from]) yield* steps[step](store, workload.id)
            assert.strictEqual((yield* store.get(workload.id)).status, from)
            const outcome = yield* steps[call](store, workload.id).pipe(
              Effect.map((r) => r as { readonly workload: W.Workload; readonly changed: boolean }),
              Effect.map((r) => r.changed ? r.workload.status : `unchanged:${r.workload.status}`),
              Effect.catch((e) => Effect.succeed((e as { readonly _tag: string })._tag))
            )
            assert.strictEqual(outcome, expected(call, from), `${call} from ${from}`)
          }
        }
      }))

    it.effect("claim by another dataplane is skipped; fail records source and reason; running records the start time", () =>
      Effect.gen(function*() {
        const store = yield* WorkloadStore
        const workload = yield* newWorkload()
        assert.isTrue((yield* store.claim(workload.id, dp("a"), Date.now() + HOUR, tok())).changed)
        const other = yield* store.claim(workload.id, dp("b"), Date.now() + HOUR, tok())
        assert.isFalse(other.changed)
        assert.strictEqual(other.workload.dataplaneId, "a")
        assert.isTrue((yield* store.claim(workload.id, dp("a"), Date.now() + HOUR, tok())).changed, "same dataplane: idempotent")
        const runningOne = (yield* store.running(workload.id, Date.now() + HOUR)).workload
        assert.isDefined(runningOne.startedAt)
        assert.isAtLeast(runningOne.startedAt!, runningOne.createdAt)
        const failed = (yield* store.fail(workload.id, { source: "launch", reason: "no worker" })).workload
        assert.strictEqual(failed.terminationSource, "launch")
        assert.strictEqual(failed.terminationReason, "no worker")
        assert.isUndefined(failed.deadline)
      }))

    it.effect("a newer sync supersedes the active workloads of its mutex key", () =>
      Effect.gen(function*() {
        const store = yield* WorkloadStore
        const connection = ConnectionId.make("mutexed")
        const done = yield* newWorkload({ mutexKey: "mutexed", connection, type: "sync" })
        yield* store.succeed(done.id)
        const older = yield* newWorkload({ mutexKey: "mutexed", connection, type: "sync" })
        const newer = yield* newWorkload({ mutexKey: "mutexed", connection, type: "sync" })
        const superseded = yield* store.get(older.id)
        assert.strictEqual(superseded.status, "failure")
        assert.strictEqual(superseded.terminationReason, `Superseded by ${newer.id}`)
        assert.strictEqual(superseded.terminationSource, "workload-api")
        assert.strictEqual((yield* store.get(done.id)).status, "success")
        assert.strictEqual((yield* store.get(newer.id)).status, "pending")
      }))

    it.effect("poll: priority then FIFO, redelivery window, claimed items leave the queue", () =>
      Effect.gen(function*() {
        const store = yield* WorkloadStore
        // Drain what earlier tests left.
        yield* store.poll(["check", "sync", "discover", "spec"], 10_000, HOUR)
        const low = yield* newWorkload({ type: "discover", priority: W.PRIORITY_DEFAULT })
        const high = yield* newWorkload({ type: "discover", priority: W.PRIORITY_HIGH })
        const polled = yield* store.poll(["discover"], 10, 0)
        assert.deepStrictEqual(polled.map((w) => w.id), [high.id, low.id])
        yield* store.claim(high.id, dp("x"), Date.now() + HOUR, tok())
        const again = yield* store.poll(["discover"], 10, 60_000)
        assert.deepStrictEqual(again.map((w) => w.id), [low.id], "redelivered: the window was 0")
        assert.deepStrictEqual(yield* store.poll(["discover"], 10, 60_000), [], "inside the window")
        assert.deepStrictEqual(yield* store.poll(["sync"], 10, 0), [])
      }))

    it.effect("the monitor fails overdue workloads with reasons that say what happened", () =>
      Effect.gen(function*() {
        const store = yield* WorkloadStore
        const now = Date.now()
        const unclaimed = yield* newWorkload({ deadline: now - 1 })
        const unlaunched = yield* newWorkload()
        yield* store.claim(unlaunched.id, dp("m"), now - 1, tok())
        const silent = yield* newWorkload()
        yield* store.claim(silent.id, dp("m"), now + HOUR, tok())
        yield* store.running(silent.id, now - 1)
        const alive = yield* newWorkload()
        yield* store.claim(alive.id, dp("m"), now + HOUR, tok())
        yield* store.running(alive.id, now + HOUR)
        const failed = yield* store.failOverdue(now, { nonSyncTimeoutMs: 4 * HOUR, syncTimeoutMs: 720 * HOUR })
        const byId = new Map(failed.map((f) => [f.workload.id, f]))
        assert.strictEqual(byId.get(unclaimed.id)?.source, "workload-monitor-claim")
        assert.strictEqual(byId.get(unlaunched.id)?.source, "workload-monitor-start")
        assert.strictEqual(byId.get(silent.id)?.source, "workload-monitor-heartbeat")
        assert.match(byId.get(silent.id)?.reason ?? "", /heartbeats/)
        assert.isFalse(byId.has(alive.id))
        assert.strictEqual((yield* store.get(silent.id)).status, "failure")
        const timedOut = yield* store.failOverdue(Date.now() + 1000, { nonSyncTimeoutMs: 0, syncTimeoutMs: 720 * HOUR })
        assert.deepStrictEqual(timedOut.filter((f) => f.workload.id === alive.id).map((f) => f.source), ["workload-monitor-non-sync-timeout"])
        assert.deepStrictEqual(yield* store.failOverdue(now, { nonSyncTimeoutMs: 4 * HOUR, syncTimeoutMs: 720 * HOUR }), [], "conditional: nothing twice")
      }))

    it.effect("failActive fails the active workloads of one dataplane (or all), with source and reason, once", () =>
      Effect.gen(function*() {
        const store = yield* WorkloadStore
        const pending = yield* newWorkload()
        const deadOne = yield* newWorkload()
        yield* store.claim(deadOne.id, dp("dead"), Date.now() + HOUR, tok())
        yield* store.running(deadOne.id, Date.now() + HOUR)
        const deadDone = yield* newWorkload()
        yield* store.claim(deadDone.id, dp("dead"), Date.now() + HOUR, tok())
        yield* store.succeed(deadDone.id)
        const live = yield* newWorkload()
        yield* store.claim(live.id, dp("live"), Date.now() + HOUR, tok())
        const failed = yield* store.failActive(dp("dead"), { source: "dataplane-takeover", reason: "its server stopped" })
        assert.deepStrictEqual(failed.map((w) => w.id), [deadOne.id])
        const after = yield* store.get(deadOne.id)
        assert.strictEqual(after.status, "failure")
        assert.strictEqual(after.terminationSource, "dataplane-takeover")
        assert.strictEqual(after.terminationReason, "its server stopped")
        assert.strictEqual((yield* store.get(deadDone.id)).status, "success")
        assert.strictEqual((yield* store.get(live.id)).status, "claimed")
        assert.strictEqual((yield* store.get(pending.id)).status, "pending")
        assert.deepStrictEqual(yield* store.failActive(dp("dead"), { source: "again", reason: "again" }), [], "conditional: nothing twice")
        const all = yield* store.failActive(undefined, { source: "startup", reason: "restarted" })
        const ids = new Set(all.map((w) => w.id))
        assert.isTrue(ids.has(live.id) && ids.has(pending.id))
        assert.strictEqual((yield* store.countByStatus()).get("pending") ?? 0, 0)
      }))

    it.effect("dataplane heartbeats: the clean-up keeps each dataplane's latest row", () =>
      Effect.gen(function*() {
        const store = yield* DataplaneStore
        yield* store.heartbeat(dp("one"), "0.1.0")
        yield* store.heartbeat(dp("one"), "0.1.0")
        yield* store.heartbeat(dp("two"), "0.1.0")
        const deleted = yield* store.cleanup(Date.now() + 48 * HOUR, 24 * HOUR)
        assert.strictEqual(deleted, 1)
        assert.deepStrictEqual((yield* store.latest).map((h) => h.dataplaneId).sort(), ["one", "two"])
        assert.strictEqual(yield* store.cleanup(Date.now(), 24 * HOUR), 0)
      }))
  })
}

const url = process.env["SLUICE_TEST_DATABASE_URL"]
if (url !== undefined && url !== "") {
  const twoClients = JobStoreSql.layer.pipe(Layer.provideMerge(TestDatabase.postgresInFreshSchema(url)))
  layer(twoClients, { timeout: "120 seconds", excludeTestServices: true })("WorkloadStoreSql, concurrent claimers on PostgreSQL", (it) => {
    it.effect("two launchers polling and claiming at once never take the same workload", () =>
      Effect.gen(function*() {
        const a = yield* WorkloadStoreSql.make
        const b = yield* WorkloadStoreSql.make
        const jobs = yield* JobStore
        const ids: Array<W.WorkloadId> = []
        for (let i = 0; i < 60; i++) {
          const job = yield* jobs.enqueueJob({ configType: "check_connection_source", scope: "race", config: {} })
          const id = W.WorkloadId.make(W.checkId("race", job.id, 0))
          ids.push(id)
          yield* a.create({ id, type: "check", jobId: job.id, attemptNumber: AttemptNumber.make(0), priority: 1, deadline: Date.now() + HOUR })
        }
        const launcher = (store: WorkloadStore["Service"], name: string) =>
          Effect.gen(function*() {
            const mine: Array<W.WorkloadId> = []
            for (let round = 0; round < 40; round++) {
              const polled = yield* store.poll(["check"], 3, 60_000)
              for (const w of polled) {
                const claimed = yield* store.claim(w.id, dp(name), Date.now() + HOUR, tok())
                if (claimed.changed) mine.push(w.id)
              }
            }
            return mine
          })
        const [fromA, fromB] = yield* Effect.all([launcher(a, "A"), launcher(b, "B")], { concurrency: 2 })
        const all = [...fromA, ...fromB]
        assert.strictEqual(new Set(all).size, all.length, "no workload claimed twice")
        assert.strictEqual(all.length, ids.length, "every workload claimed")
        assert.isAbove(fromA.length, 0)
        assert.isAbove(fromB.length, 0)
      }))
  })
}
