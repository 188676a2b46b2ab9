/**
 * The workload group, called by workers with their per-workload token: fetch the input, report
 * running, heartbeat (410 once the workload has ended: the worker stops), committed states, stats,
 * logs, and success or failure with the attempt's end. Declaration only (WorkloadsHandlers.ts).
 */
import * as Schema from "effect/Schema"
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "effect/http-api"
import { StreamSyncStats, SyncStats } from "../engine/replication/SyncStats.ts"
import { AttemptEnd } from "../scheduler/AttemptEnd.ts"
import { LogLine } from "../scheduler/AttemptLog.ts"
import { StoredState } from "../scheduler/ConnectionStore.ts"
import { WorkloadId } from "../scheduler/Workload.ts"
import { WorkloadGone, WorkloadNotFound, WorkloadTransitionInvalid } from "../scheduler/WorkloadErrors.ts"
import { Forbidden } from "./ApiErrors.ts"
import { WorkloadInput, WorkloadRead } from "./ApiModels.ts"
import { WorkerAuth } from "./Auth.ts"

const params = { id: WorkloadId }
const errors = [WorkloadNotFound, WorkloadGone, WorkloadTransitionInvalid, Forbidden] as const

export class WorkloadsApi extends HttpApiGroup.make("workloads")
  .add(
    HttpApiEndpoint.get("input", "/workloads/:id/input", { params, success: WorkloadInput, error: errors }),
    HttpApiEndpoint.post("running", "/workloads/:id/running", { params, success: WorkloadRead, error: errors }),
    HttpApiEndpoint.post("heartbeat", "/workloads/:id/heartbeat", { params, success: HttpApiSchema.NoContent, error: errors }),
    HttpApiEndpoint.post("state", "/workloads/:id/state", {
      params,
      payload: Schema.Struct({ state: StoredState }),
      success: HttpApiSchema.NoContent,
      error: errors
    }),
    HttpApiEndpoint.post("stats", "/workloads/:id/stats", {
      params,
      payload: Schema.Struct({ stats: SyncStats, streamStats: Schema.Array(StreamSyncStats) }),
      success: HttpApiSchema.NoContent,
      error: errors
    }),
    HttpApiEndpoint.post("logs", "/workloads/:id/logs", {
      params,
      payload: Schema.Struct({ lines: Schema.Array(LogLine) }),
      success: HttpApiSchema.NoContent,
      error: errors
    }),
    HttpApiEndpoint.post("success", "/workloads/:id/success", {
      params,
      payload: Schema.Struct({ end: AttemptEnd }),
      success: WorkloadRead,
      error: errors
    }),
    HttpApiEndpoint.post("failure", "/workloads/:id/failure", {
      params,
      payload: Schema.Struct({ end: AttemptEnd }),
      success: WorkloadRead,
      error: errors
    })
  )
  .middleware(WorkerAuth)
{}
