/**
 * The attempt model: one try of a job, numbered from 0, with its failure summary, the transport it
 * chose (and why), its output, totals and per-stream stats. Times are epoch milliseconds.
 * Schema-first (persisted and served over HTTP); imports only `effect` and engine/scheduler models.
 */
import * as Schema from "effect/Schema"
import { JsonObject } from "../engine/protocol/AirbyteMessage.ts"
import type { Architecture } from "../engine/replication/Architecture.ts"
import { AttemptFailureSummary } from "../engine/replication/FailureReason.ts"
import { StreamSyncStats, SyncStats } from "../engine/replication/SyncStats.ts"
import { Serialization } from "../engine/IpcOptions.ts"
import { AttemptId, AttemptNumber, JobId } from "./Ids.ts"
import { EpochMs } from "./Job.ts"
import { AttemptStatus } from "./JobStatus.ts"

/** The engine's `Architecture` (transport, serialization, reason) as a Schema, to persist it. */
export const AttemptTransport: Schema.Codec<Architecture> = Schema.Union([
  Schema.Struct({ transport: Schema.Literal("stdio"), serialization: Schema.Literal("JSONL"), reason: Schema.String }),
  Schema.Struct({ transport: Schema.Literal("socket"), serialization: Serialization, reason: Schema.String })
])

export const Attempt = Schema.Struct({
  id: AttemptId,
  jobId: JobId,
  attemptNumber: AttemptNumber,
  status: AttemptStatus,
  createdAt: EpochMs,
  updatedAt: EpochMs,
  endedAt: Schema.optionalKey(EpochMs),
  /** The final output of the attempt (a JobOutput-like JSON object). */
  output: Schema.optionalKey(JsonObject),
  failureSummary: Schema.optionalKey(AttemptFailureSummary),
  transport: Schema.optionalKey(AttemptTransport),
  totalStats: Schema.optionalKey(SyncStats),
  streamStats: Schema.Array(StreamSyncStats),
  /** How many log lines the store holds for the attempt (read them with `JobStore.readLogs`). */
  logLineCount: Schema.Int
})
export type Attempt = typeof Attempt.Type
