/**
 * The job model: one run of a sync, check, discover or spec for a scope (the connection), with the
 * redacted spec that ran. Times are epoch milliseconds here; Date exists only at the SQL edge.
 * Schema-first (persisted and served over HTTP); imports only `effect` and engine/scheduler models.
 */
import * as Schema from "effect/Schema"
import { JsonObject } from "../engine/protocol/AirbyteMessage.ts"
import { JobId } from "./Ids.ts"
import { JobStatus } from "./JobStatus.ts"

/** Epoch milliseconds. */
export const EpochMs = Schema.Int
export type EpochMs = typeof EpochMs.Type

/** What a job runs (Airbyte's `job_config_type`, the subset Sluice runs). */
export const JobConfigType = Schema.Literals([
  "sync",
  "check_connection_source",
  "check_connection_destination",
  "discover_schema",
  "get_spec"
])
export type JobConfigType = typeof JobConfigType.Type

export const Job = Schema.Struct({
  id: JobId,
  configType: JobConfigType,
  /** The connection name for connection jobs (sync, check, discover); the connector id for get_spec. */
  scope: Schema.String,
  status: JobStatus,
  /** The spec that ran, with secrets already redacted by the caller. */
  config: JsonObject,
  /**
   * The server (dataplane id) whose job runner orchestrates the job's attempts; absent for jobs run
   * in process (`sluice sync`), which no server ever adopts.
   */
  owner: Schema.optionalKey(Schema.String),
  createdAt: EpochMs,
  updatedAt: EpochMs
})
export type Job = typeof Job.Type
