import { assert, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import type * as M from "../../src/engine/protocol/AirbyteMessage.ts"
import { ConnectionStore } from "../../src/scheduler/ConnectionStore.ts"
import { AttemptNumber, ConnectionId, JobId } from "../../src/scheduler/Ids.ts"
import * as ConnectionStoreSql from "../../src/store/ConnectionStoreSql.ts"
import * as TestDatabase from "./TestDatabase.ts"

const id = ConnectionId.make
const commitOf = (job: number, attempt: number, state: ReadonlyArray<M.AirbyteStateMessage> | M.JsonObject | undefined) => ({
  jobId: JobId.make(job),
  attemptNumber: AttemptNumber.make(attempt),
  state
})
const streamState = (name: string, cursor: number, namespace?: string): M.AirbyteStateMessage => ({
  type: "STREAM",
  stream: {
    stream_descriptor: { name, ...(namespace === undefined ? {} : { namespace }) },
    stream_state: { cursor }
  }
})
const globalState = (lsn: number): M.AirbyteStateMessage => ({
  type: "GLOBAL",
  global: { shared_state: { lsn }, stream_states: [{ stream_descriptor: { name: "users" }, stream_state: { lsn } }] }
})

for (const db of TestDatabase.all) {
  layer(ConnectionStoreSql.layer.pipe(Layer.provideMerge(db.layer)), { timeout: "120 seconds", excludeTestServices: true })(
    `ConnectionStoreSql on ${db.name}`,
    (it) => {
      it.effect("connections: upsert replaces the spec, get, list, delete", () =>
        Effect.gen(function*() {
          const store = yield* ConnectionStore
          const created = yield* store.upsert(id("alpha"), { source: { connector: "faker", config: { count: 10 } } })
          assert.strictEqual(created.name, "alpha")
          const updated = yield* store.upsert(id("alpha"), { source: { connector: "faker", config: { count: 20 } } })
          assert.deepStrictEqual(updated.spec, { source: { connector: "faker", config: { count: 20 } } })
          assert.strictEqual(updated.createdAt, created.createdAt)
          yield* store.upsert(id("beta"), {})
          const names = (yield* store.list).map((c) => c.name)
          assert.includeMembers([...names], ["alpha", "beta"])
          assert.deepStrictEqual((yield* store.get(id("alpha"))).spec, updated.spec)
          yield* store.delete(id("beta"))
          const error = yield* Effect.flip(store.get(id("beta")))
          assert.strictEqual(error._tag, "ConnectionNotFound")
          assert.strictEqual((yield* Effect.flip(store.delete(id("beta"))))._tag, "ConnectionNotFound")
        }))

      it.effect("STREAM states: saved per stream, merged by later commits, engine fields dropped", () =>
        Effect.gen(function*() {
          const store = yield* ConnectionStore
          const name = id("streams")
          yield* store.upsert(name, {})
          assert.isUndefined(yield* store.getState(name))
          const withEngineFields: M.AirbyteStateMessage = {
            ...streamState("users", 1),
            id: 7,
            partition_id: "p1",
            sourceStats: { recordCount: 3 },
            vendor_field: "kept"
          }
          yield* store.commitState(name, commitOf(1, 0, [withEngineFields, streamState("orders", 1, "shop")]))
          yield* store.commitState(name, commitOf(1, 1, [streamState("orders", 2, "shop")]))
          const state = yield* store.getState(name)
          assert.deepStrictEqual(state, [{ ...streamState("users", 1), vendor_field: "kept" }, streamState("orders", 2, "shop")])
          const history = yield* store.stateHistory(name, 10)
          assert.deepStrictEqual(history.map((h): ReadonlyArray<unknown> => [h.kind, h.jobId, h.attemptNumber]), [["commit", 1, 1], ["commit", 1, 0]])
          assert.deepStrictEqual(history[0]?.state, [streamState("orders", 2, "shop")])
        }))

      it.effect("GLOBAL replaces streams, a LEGACY blob replaces GLOBAL, STREAM replaces LEGACY", () =>
        Effect.gen(function*() {
          const store = yield* ConnectionStore
          const name = id("kinds")
          yield* store.upsert(name, {})
          yield* store.commitState(name, commitOf(2, 0, [streamState("users", 1)]))
          yield* store.commitState(name, commitOf(2, 0, [globalState(10)]))
          assert.deepStrictEqual(yield* store.getState(name), [globalState(10)])
          yield* store.commitState(name, commitOf(3, 0, { legacy: { cursor: "2024-01-01" } }))
          assert.deepStrictEqual(yield* store.getState(name), { legacy: { cursor: "2024-01-01" } })
          yield* store.commitState(name, commitOf(4, 0, [{ type: "LEGACY", data: { v: 2 } }]))
          assert.deepStrictEqual(yield* store.getState(name), { v: 2 })
          yield* store.commitState(name, commitOf(5, 0, [globalState(11), streamState("orders", 3)]))
          assert.deepStrictEqual(yield* store.getState(name), [streamState("orders", 3)])
          yield* store.commitState(name, commitOf(5, 1, undefined))
          assert.deepStrictEqual(yield* store.getState(name), [streamState("orders", 3)])
          const history = yield* store.stateHistory(name, 2)
          assert.deepStrictEqual(history.map((h): number | undefined => h.jobId), [5, 4])
          assert.deepStrictEqual(history[1]?.state, [{ type: "LEGACY", data: { v: 2 } }])
        }))

      it.effect("resetState forgets the state and records the reset; unknown connections are typed errors", () =>
        Effect.gen(function*() {
          const store = yield* ConnectionStore
          const name = id("reset")
          yield* store.upsert(name, {})
          yield* store.commitState(name, commitOf(6, 0, [globalState(1)]))
          yield* store.resetState(name)
          assert.isUndefined(yield* store.getState(name))
          const [latest] = yield* store.stateHistory(name, 1)
          assert.strictEqual(latest?.kind, "reset")
          assert.isUndefined(latest?.jobId)
          const ghost = id("ghost")
          assert.strictEqual((yield* Effect.flip(store.commitState(ghost, commitOf(1, 0, [globalState(1)]))))._tag, "ConnectionNotFound")
          assert.strictEqual((yield* Effect.flip(store.getState(ghost)))._tag, "ConnectionNotFound")
          assert.strictEqual((yield* Effect.flip(store.resetState(ghost)))._tag, "ConnectionNotFound")
          yield* store.delete(name)
          yield* store.upsert(name, {})
          assert.isUndefined(yield* store.getState(name))
          assert.deepStrictEqual(yield* store.stateHistory(name, 10), [])
        }))
    }
  )
}
