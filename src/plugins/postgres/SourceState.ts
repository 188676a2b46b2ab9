/**
 * The postgres source's per-stream state: `{ cursor_field, cursor, cursor_record_count }`, where
 * `cursor` is the last cursor value as the server prints it and `cursor_record_count` the rows read
 * with exactly that value. Finding a stream's blob in STREAM, GLOBAL or LEGACY input states. Pure.
 */
import type { InputState } from "../../engine/kit/Connector.ts"
import type * as M from "../../engine/protocol/AirbyteMessage.ts"

export interface CursorState {
  readonly cursorField: ReadonlyArray<string>
  /** null: the last rows read had a NULL cursor (only on a first read); the next read starts over. */
  readonly cursor: string | null
  readonly recordCount: number
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const same = (d: M.StreamDescriptor, name: string, namespace: string | undefined) => d.name === name && d.namespace === namespace

/** The state blob of one stream: the last STREAM state for it, a GLOBAL stream_states entry, or `data[name]`. */
export const blobOf = (state: InputState, name: string, namespace: string | undefined): unknown => {
  switch (state._tag) {
    case "None":
      return undefined
    case "Legacy":
      return state.data[name]
    case "PerStream": {
      let found: unknown = undefined
      for (const message of state.states) {
        if (message.stream !== undefined && same(message.stream.stream_descriptor, name, namespace)) found = message.stream.stream_state
        else if (message.global !== undefined) {
          const inner = message.global.stream_states.find((s) => same(s.stream_descriptor, name, namespace))
          if (inner !== undefined) found = inner.stream_state
        } else if (isObject(message.data) && message.data[name] !== undefined) found = message.data[name]
      }
      return found
    }
  }
}

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
