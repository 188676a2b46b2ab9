/**
 * Waits for workloads to end: one polling loop per process reads the statuses of every workload
 * somebody waits for in one query and completes their waiters (the workload API's terminal signal,
 * polled: LISTEN/NOTIFY does not work on the embedded database). Imports only scheduler ports.
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type { StoreError } from "./StoreErrors.ts"
import * as W from "./Workload.ts"
import { WorkloadStore } from "./WorkloadStore.ts"

export interface WorkloadWatcher {
  /** Completes with the workload's terminal status. */
  awaitEnd(id: W.WorkloadId): Effect.Effect<W.WorkloadStatus>
}

/** Starts the loop in the current scope; polls every `intervalMs`. */
export const make = Effect.fn("WorkloadWatcher.make")(function*(intervalMs: number) {
  const store = yield* WorkloadStore
  const waiters = new Map<W.WorkloadId, Deferred.Deferred<W.WorkloadStatus>>()
  const sweep: Effect.Effect<void, StoreError> = Effect.gen(function*() {
    if (waiters.size === 0) return
    const statuses = yield* store.statuses([...waiters.keys()])
    for (const [id, status] of statuses) {
      const waiter = waiters.get(id)
      if (waiter !== undefined && W.isTerminal(status)) {
        waiters.delete(id)
        yield* Deferred.succeed(waiter, status)
      }
    }
  })
  yield* sweep.pipe(
    Effect.catch((error) => Effect.logWarning(`workload watcher: ${error.message}`)),
    Effect.repeat(Schedule.spaced(intervalMs)),
    Effect.forkScoped
  )
  const watcher: WorkloadWatcher = {
    awaitEnd: (id) =>
      Effect.suspend(() => {
        const existing = waiters.get(id)
        if (existing !== undefined) return Deferred.await(existing)
        return Effect.flatMap(Deferred.make<W.WorkloadStatus>(), (deferred) => {
          waiters.set(id, deferred)
          return Deferred.await(deferred)
        })
      })
  }
  return watcher
})
