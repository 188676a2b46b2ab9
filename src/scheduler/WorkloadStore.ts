/**
 * The storage port for workloads and their queue (reference §5.1, §5.5): every status change is a
 * conditional update decided by `Workload.allowedFrom`; the queue is polled FIFO within priority with
 * FOR UPDATE SKIP LOCKED and a redelivery window; claim is the exclusivity gate. The scheduler, the
 * launchers, the monitor and the API call it; `src/store/` implements it. Declares no SQL.
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { AttemptNumber, ConnectionId, JobId } from "./Ids.ts"
import type { StoreError } from "./StoreErrors.ts"
import type { DataplaneId, Workload, WorkloadId, WorkloadStatus, WorkloadType } from "./Workload.ts"
import type { WorkloadExists, WorkloadGone, WorkloadNotFound, WorkloadTransitionInvalid } from "./WorkloadErrors.ts"

export interface NewWorkload {
  readonly id: WorkloadId
  readonly type: WorkloadType
  readonly jobId: JobId
  readonly attemptNumber: AttemptNumber
  readonly connection?: ConnectionId
  readonly priority: number
  /** Syncs: the connection. Creating one fails every other active workload with the same key. */
  readonly mutexKey?: string
  /** Must be claimed before this (epoch ms). */
  readonly deadline: number
}

/** A status change: `deadline` replaces the deadline (claim only when it was pending). */
export interface Transition {
  readonly deadline?: number
  /** fail and cancel: who ended it and why. */
  readonly source?: string
  readonly reason?: string
}

/** A workload the monitor failed, and why. */
export interface OverdueFailure {
  readonly workload: Workload
  readonly source: string
  readonly reason: string
}

export interface MonitorLimits {
  /** Non-sync workloads running longer than this fail (default 4 h). */
  readonly nonSyncTimeoutMs: number
  /** Syncs running longer than this fail (default 30 days). */
  readonly syncTimeoutMs: number
}

/** The result of a transition: the workload after it, and whether this call changed it. */
export interface Transitioned {
  readonly workload: Workload
  readonly changed: boolean
}

export type TransitionError = WorkloadNotFound | WorkloadGone | WorkloadTransitionInvalid | StoreError

export class WorkloadStore extends Context.Service<WorkloadStore, {
  /**
   * Inserts a `pending` workload with its deadline and enqueues it. With a mutex key, every other
   * active workload of that key is failed "Superseded by <id>" (source `workload-api`). An existing
   * id fails with WorkloadExists.
   */
  create(workload: NewWorkload): Effect.Effect<Workload, WorkloadExists | StoreError>

  get(id: WorkloadId): Effect.Effect<Workload, WorkloadNotFound | StoreError>

  /** The workload whose token hashes to `tokenHash` (in any status: an ended one answers 410, not 401). */
  authenticate(tokenHash: string): Effect.Effect<Workload | undefined, StoreError>

  /**
   * Up to `quantity` pending workloads of `types` whose poll deadline has passed, highest priority
   * first then oldest, locked with SKIP LOCKED while their poll deadline moves `redeliveryMs` ahead
   * (at-least-once: an item polled but never claimed comes back after the window).
   */
  poll(types: ReadonlyArray<WorkloadType>, quantity: number, redeliveryMs: number): Effect.Effect<ReadonlyArray<Workload>, StoreError>

  /**
   * pending → claimed by `dataplane` (idempotent for the same dataplane), storing the SHA-256 (hex)
   * of the token the launcher hands its worker (the token itself is never stored). `changed: false`
   * with the current workload when another dataplane has it or it is no longer pending: skip it.
   */
  claim(id: WorkloadId, dataplane: DataplaneId, deadline: number, tokenHash: string): Effect.Effect<Transitioned, WorkloadNotFound | StoreError>

  /** claimed|launched → launched, new deadline. 410 when ended. */
  launch(id: WorkloadId, deadline: number): Effect.Effect<Transitioned, TransitionError>

  /** claimed|launched|running → running, new deadline; the first call records the start time. */
  running(id: WorkloadId, deadline: number): Effect.Effect<Transitioned, TransitionError>

  /** running only: new deadline and last_heartbeat_at. 410 when ended; 409 before `running`. */
  heartbeat(id: WorkloadId, deadline: number): Effect.Effect<Transitioned, TransitionError>

  /** Terminal calls: any active status; repeating one on its own result is a no-op (changed: false); another end is 410. */
  succeed(id: WorkloadId): Effect.Effect<Transitioned, TransitionError>
  fail(id: WorkloadId, transition: Transition): Effect.Effect<Transitioned, TransitionError>
  cancel(id: WorkloadId, transition: Transition): Effect.Effect<Transitioned, TransitionError>

  /**
   * Fails every active workload claimed by `dataplane` — or every active workload when it is
   * undefined — with `transition`'s source and reason; returns what it failed. For workloads whose
   * launcher is gone: the start-up clean-up of the embedded store (all of them belong to a previous
   * run) and the takeover of a dead server (its dataplane). A worker still running for one of them
   * gets 410 at its next heartbeat and stops. Conditional, so several servers may run it at once.
   */
  failActive(dataplane: DataplaneId | undefined, transition: Transition): Effect.Effect<ReadonlyArray<Workload>, StoreError>

  /** The active workloads of a job (to cancel them with the job). */
  activeOfJob(jobId: JobId): Effect.Effect<ReadonlyArray<Workload>, StoreError>

  /** The current status of each listed workload (missing ids are left out). */
  statuses(ids: ReadonlyArray<WorkloadId>): Effect.Effect<ReadonlyMap<WorkloadId, WorkloadStatus>, StoreError>

  /**
   * The monitor: fails every active workload past its deadline (claim, launch, heartbeat) or running
   * longer than its type's limit, each with the cron's name as the source and a reason that says what
   * happened. Conditional, so several servers may run it at once.
   */
  failOverdue(now: number, limits: MonitorLimits): Effect.Effect<ReadonlyArray<OverdueFailure>, StoreError>

  /** Counts by status, for the bench and tests. */
  countByStatus(type?: WorkloadType): Effect.Effect<ReadonlyMap<WorkloadStatus, number>, StoreError>
}>()("sluice/scheduler/WorkloadStore") {}
