/**
 * The postgres source's per-stream state: `{ cursor_field, cursor, cursor_record_count }`, where
 * `cursor` is the last cursor value as the server prints it and `cursor_record_count` the rows read
 * with exactly that value. Finding a stream's blob in STREAM, GLOBAL or LEGACY input states. Pure.
 */
import { streamStateOf } from "../../engine/kit/SourceMessages.ts"
import type * as M from "../../engine/protocol/AirbyteMessage.ts"

export interface CursorState {
  readonly cursorField: ReadonlyArray<string>
  /** null: the last rows read had a NULL cursor (only on a first read); the next read starts over. */
  readonly cursor: string | null
  readonly recordCount: number
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** The state blob of one stream (see the kit's `streamStateOf`). */
export const blobOf = streamStateOf

/** The cursor state in a blob; undefined for no state, an empty blob or one this source did not write. */
export const cursorStateOf = (blob: unknown): CursorState | undefined => {
  if (!isObject(blob)) return undefined
  const field = blob["cursor_field"]
  const cursor = blob["cursor"]
  const count = blob["cursor_record_count"]
  if (!Array.isArray(field) || !field.every((f) => typeof f === "string")) return undefined
  if (typeof cursor !== "string" && cursor !== null) return undefined
  return { cursorField: field, cursor, recordCount: typeof count === "number" && Number.isSafeInteger(count) && count >= 0 ? count : 0 }
}

/** The `stream_state` blob written for a cursor state. */
export const blobFor = (state: CursorState): M.JsonObject => ({
  cursor_field: [...state.cursorField],
  cursor: state.cursor,
  cursor_record_count: state.recordCount
})

/** A STREAM state message with the records emitted since the previous one. */
export const stateMessage = (descriptor: M.StreamDescriptor, blob: M.JsonObject, recordCount: number): M.AirbyteMessage => ({
  type: "STATE",
  state: { type: "STREAM", stream: { stream_descriptor: descriptor, stream_state: blob }, sourceStats: { recordCount } }
})
