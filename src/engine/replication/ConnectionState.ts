/**
 * The state of a connection as it is handed to the next `read`: the latest STREAM state per stream,
 * or the latest GLOBAL state, or the latest LEGACY blob. Built from the input state and then from
 * every state the destination commits. Pure; imports only engine modules.
 */
import type * as M from "../protocol/AirbyteMessage.ts"
import { streamKey } from "./StatsTracker.ts"

/** What `read --state` gets: an array of STREAM/GLOBAL states, a LEGACY blob, or nothing. */
export type StateInput = ReadonlyArray<M.AirbyteStateMessage> | M.JsonObject | undefined

/** Drops what the engine and the destination add (`id`, `partition_id`, stats) before persisting. */
export const clean = (state: M.AirbyteStateMessage): M.AirbyteStateMessage => {
  const {
    id: _id,
    partition_id: _partition,
    sourceStats: _source,
    destinationStats: _destination,
    committedRecordsCount: _records,
    committedBytesCount: _bytes,
    rejectedRecordsCount: _rejected,
    ...rest
  } = state
  return rest
}

export class ConnectionState {
  private readonly streams = new Map<string, M.AirbyteStateMessage>()
  private global: M.AirbyteStateMessage | undefined
  private legacy: M.JsonObject | undefined

  constructor(input: StateInput) {
    if (input === undefined) return
    if (Array.isArray(input)) for (const state of input as ReadonlyArray<M.AirbyteStateMessage>) this.apply(state)
    else this.legacy = input as M.JsonObject
  }

  /** Stream keys that have a state (for `wasResumed`). */
  streamKeys(): ReadonlySet<string> {
    const keys = new Set(this.streams.keys())
    for (const s of this.global?.global?.stream_states ?? []) keys.add(streamKey(s.stream_descriptor.name, s.stream_descriptor.namespace))
    return keys
  }

  /** Applies a committed state (engine fields are dropped). */
  apply(raw: M.AirbyteStateMessage) {
    const state = clean(raw)
    const type = state.type ?? "LEGACY"
    if (type === "STREAM" && state.stream !== undefined) {
      const d = state.stream.stream_descriptor
      this.streams.set(streamKey(d.name, d.namespace), state)
      this.global = undefined
      this.legacy = undefined
    } else if (type === "GLOBAL") {
      this.global = state
      this.streams.clear()
      this.legacy = undefined
    } else if (state.data !== undefined && state.data !== null) {
      this.legacy = state.data
      this.streams.clear()
      this.global = undefined
    }
  }

  /** The state to pass to the next read. */
  toInput(): StateInput {
    if (this.global !== undefined) return [this.global]
    if (this.streams.size > 0) return [...this.streams.values()]
    return this.legacy
  }
}
