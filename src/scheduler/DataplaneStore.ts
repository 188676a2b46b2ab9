/**
 * The storage port for dataplane heartbeats (reference §5.8, §7.3): each launcher (one per
 * `sluice serve` process) logs a heartbeat; an hourly clean-up keeps each dataplane's latest row and
 * deletes rows older than 24 h. `src/store/` implements it. Declares no SQL.
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { StoreError } from "./StoreErrors.ts"
import type { DataplaneId } from "./Workload.ts"

export interface DataplaneHeartbeat {
  readonly dataplaneId: DataplaneId
  readonly at: number
}

export class DataplaneStore extends Context.Service<DataplaneStore, {
  /** Appends a heartbeat row for the dataplane (now). */
  heartbeat(dataplane: DataplaneId, version: string): Effect.Effect<void, StoreError>

  /** Deletes rows older than `olderThanMs` except each dataplane's latest; returns how many it deleted. */
  cleanup(now: number, olderThanMs: number): Effect.Effect<number, StoreError>

  /** Each dataplane's latest heartbeat. */
  readonly latest: Effect.Effect<ReadonlyArray<DataplaneHeartbeat>, StoreError>
}>()("sluice/scheduler/DataplaneStore") {}
