/**
 * The launcher interface: starts the worker of a claimed workload — a child process (ProcessLauncher,
 * the default) or, next, a Kubernetes pod — and hands back a handle to await or stop it. The launch
 * loop (WorkloadLauncher.ts) decides when; a launcher only knows how.
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import type { Workload } from "./Workload.ts"

export interface LaunchRequest {
  readonly workload: Workload
  /** The worker's bearer token for its workload endpoints (passed in env, never argv). */
  readonly token: string
  /** The API the worker reports to. */
  readonly serverUrl: string
}

export interface RunningWorker {
  /** An id for logs: a pid, a pod name. */
  readonly id: string
  /** Completes when the worker has exited, with its exit code (null: killed by a signal). */
  readonly exit: Effect.Effect<number | null>
  /** Asks the worker to stop (SIGTERM), kills it after `graceMs`, and waits for the exit. */
  stop(graceMs: number): Effect.Effect<void>
}

export class LaunchFailed extends Data.TaggedError("LaunchFailed")<{ readonly message: string }> {}

export class Launcher extends Context.Service<Launcher, {
  readonly kind: string
  launch(request: LaunchRequest): Effect.Effect<RunningWorker, LaunchFailed>
}>()("sluice/scheduler/Launcher") {}
