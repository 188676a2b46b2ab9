/**
 * SyncStats and per-stream stats as Airbyte reports them (reference §4.1): emitted, committed,
 * rejected and filtered counts, state counts and timings, phase times. Schema-first: persisted by the
 * scheduler and served by the API. Imports only `effect`.
 */
import * as Schema from "effect/Schema"

const Count = Schema.Number
const EpochMs = Schema.optionalKey(Schema.Number)

export const SyncStats = Schema.Struct({
  recordsEmitted: Count,
  bytesEmitted: Count,
  recordsCommitted: Count,
  bytesCommitted: Count,
  recordsRejected: Count,
  recordsFilteredOut: Count,
  bytesFilteredOut: Count,
  sourceStateMessagesEmitted: Count,
  destinationStateMessagesEmitted: Count,
  /** Seconds between a state's emission by the source and its acknowledgement by the destination. */
  meanSecondsBetweenStateMessageEmittedandCommitted: Schema.optionalKey(Schema.Number),
  maxSecondsBetweenStateMessageEmittedandCommitted: Schema.optionalKey(Schema.Number),
  /** Seconds between consecutive source states. */
  meanSecondsBeforeSourceStateMessageEmitted: Schema.optionalKey(Schema.Number),
  maxSecondsBeforeSourceStateMessageEmitted: Schema.optionalKey(Schema.Number),
  estimatedRecords: Schema.optionalKey(Count),
  estimatedBytes: Schema.optionalKey(Count),
  replicationStartTime: EpochMs,
  replicationEndTime: EpochMs,
  sourceReadStartTime: EpochMs,
  sourceReadEndTime: EpochMs,
  destinationWriteStartTime: EpochMs,
  destinationWriteEndTime: EpochMs
})
export type SyncStats = typeof SyncStats.Type

export const StreamSyncStats = Schema.Struct({
  streamName: Schema.String,
  streamNamespace: Schema.optionalKey(Schema.String),
  stats: SyncStats,
  /** The stream resumed from a state of an earlier attempt or sync. */
  wasResumed: Schema.Boolean
})
export type StreamSyncStats = typeof StreamSyncStats.Type

export const emptyStats = (): SyncStats => ({
  recordsEmitted: 0,
  bytesEmitted: 0,
  recordsCommitted: 0,
  bytesCommitted: 0,
  recordsRejected: 0,
  recordsFilteredOut: 0,
  bytesFilteredOut: 0,
  sourceStateMessagesEmitted: 0,
  destinationStateMessagesEmitted: 0
})
