/**
 * FailureReason and AttemptFailureSummary as Airbyte defines them (reference §3): what failed, where,
 * whether retrying can help. Schema-first: they are persisted and sent over HTTP. Imports only
 * `effect` and engine modules.
 */
import * as Schema from "effect/Schema"
import type { ConnectorFailure } from "../ConnectorFailure.ts"

export const FailureOrigin = Schema.Literals([
  "source",
  "destination",
  "replication",
  "persistence",
  "normalization",
  "dbt",
  "airbyte_platform",
  "unknown"
])
export type FailureOrigin = typeof FailureOrigin.Type

export const FailureType = Schema.Literals([
  "config_error",
  "system_error",
  "manual_cancellation",
  "refresh_schema",
  "heartbeat_timeout",
  "destination_timeout",
  "transient_error"
])
export type FailureType = typeof FailureType.Type

export const FailureStreamDescriptor = Schema.Struct({
  name: Schema.String,
  namespace: Schema.optionalKey(Schema.String)
})

export const FailureReason = Schema.Struct({
  failureOrigin: FailureOrigin,
  failureType: FailureType,
  internalMessage: Schema.optionalKey(Schema.String),
  externalMessage: Schema.optionalKey(Schema.String),
  stacktrace: Schema.optionalKey(Schema.String),
  retryable: Schema.optionalKey(Schema.Boolean),
  /** Epoch milliseconds. */
  timestamp: Schema.Number,
  metadata: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown)),
  streamDescriptor: Schema.optionalKey(FailureStreamDescriptor)
})
export type FailureReason = typeof FailureReason.Type

export const AttemptFailureSummary = Schema.Struct({
  failures: Schema.Array(FailureReason),
  /** True when the attempt committed records before failing. */
  partialSuccess: Schema.optionalKey(Schema.Boolean)
})
export type AttemptFailureSummary = typeof AttemptFailureSummary.Type

/** Airbyte's limits (FailureHelper): longer texts are cut with a note; at most 10 failures kept. */
export const MAX_MESSAGE_CHARS = 50_000
export const MAX_STACKTRACE_CHARS = 100_000
export const MAX_FAILURES_TO_KEEP = 10

const truncate = (text: string | undefined, max: number): string | undefined =>
  text === undefined || text.length <= max ? text : `${text.slice(0, max)}… [truncated by Sluice: ${text.length - max} more characters]`

/** Applies the size limits, keeping only the fields that are set. */
export const make = (reason: FailureReason): FailureReason => {
  const internalMessage = truncate(reason.internalMessage, MAX_MESSAGE_CHARS)
  const externalMessage = truncate(reason.externalMessage, MAX_MESSAGE_CHARS)
  const stacktrace = truncate(reason.stacktrace, MAX_STACKTRACE_CHARS)
  return {
    ...reason,
    ...(internalMessage === undefined ? {} : { internalMessage }),
    ...(externalMessage === undefined ? {} : { externalMessage }),
    ...(stacktrace === undefined ? {} : { stacktrace })
  }
}

/** A connector's failure as a FailureReason (origin source or destination). */
export const fromConnectorFailure = (failure: ConnectorFailure, timestamp: number): FailureReason =>
  make({
    failureOrigin: failure.origin,
    failureType: failure.failureType,
    externalMessage: failure.externalMessage,
    internalMessage: failure.internalMessage,
    ...(failure.stacktrace === undefined ? {} : { stacktrace: failure.stacktrace }),
    retryable: failure.retryable,
    timestamp,
    metadata: {
      connector_command: failure.command,
      from_trace_message: failure.fromTraceMessage,
      ...(failure.exitCode === undefined ? {} : { exit_code: failure.exitCode }),
      ...(failure.signal === undefined ? {} : { signal: failure.signal })
    },
    ...(failure.streamDescriptor === undefined
      ? {}
      : {
        streamDescriptor: {
          name: failure.streamDescriptor.name,
          ...(failure.streamDescriptor.namespace === undefined ? {} : { namespace: failure.streamDescriptor.namespace })
        }
      })
  })

/** Earliest first, at most MAX_FAILURES_TO_KEEP. */
export const summarize = (failures: ReadonlyArray<FailureReason>, recordsCommitted: number): AttemptFailureSummary => ({
  failures: [...failures].sort((a, b) => a.timestamp - b.timestamp).slice(0, MAX_FAILURES_TO_KEEP),
  partialSuccess: recordsCommitted > 0
})
