/**
 * The storage port for a job's retry counters (Airbyte's `retry_states`, the four counters of
 * `RetryManager.RetryState`), so a restarted scheduler resumes the retry policy where it stopped.
 * The RetryManager's caller reads and writes it; `src/store/` implements it. Declares no SQL.
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { JobId } from "./Ids.ts"
import type { RetryState } from "./RetryManager.ts"
import type { JobNotFound, StoreError } from "./StoreErrors.ts"

export class RetryStateStore extends Context.Service<RetryStateStore, {
  /** The job's counters, or none when they were never written. */
  get(jobId: JobId): Effect.Effect<Option.Option<RetryState>, StoreError>

  /** Creates or replaces the job's counters (the last write wins). */
  put(jobId: JobId, state: RetryState): Effect.Effect<void, JobNotFound | StoreError>
}>()("sluice/scheduler/RetryStateStore") {}
