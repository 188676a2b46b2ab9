/**
 * An attempt's log lines as the store keeps them: numbered from 0 per attempt, with time, level and
 * origin, read back in pages. Schema-first (served over HTTP); imports only `effect` and models.
 */
import * as Schema from "effect/Schema"
import { LogLevel } from "../engine/protocol/AirbyteMessage.ts"
import { EpochMs } from "./Job.ts"

/** Who wrote the line: a connector, the replication relay, or Sluice itself. */
export const LogOrigin = Schema.Literals(["source", "destination", "replication", "platform"])
export type LogOrigin = typeof LogOrigin.Type

/** A line to append. */
export const LogLine = Schema.Struct({
  at: EpochMs,
  level: LogLevel,
  origin: LogOrigin,
  message: Schema.String
})
export type LogLine = typeof LogLine.Type

/** A stored line with its 0-based number within the attempt. */
export const StoredLogLine = Schema.Struct({ lineNo: Schema.Int, ...LogLine.fields })
export type StoredLogLine = typeof StoredLogLine.Type

export const LogPage = Schema.Struct({
  lines: Schema.Array(StoredLogLine),
  /** The offset to read the next page from. */
  nextOffset: Schema.Int,
  /** Lines exist at or after `nextOffset`. */
  hasMore: Schema.Boolean
})
export type LogPage = typeof LogPage.Type
