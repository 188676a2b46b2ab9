/**
 * What every source built with the kit needs: stream-status and estimate traces, the state blob of one
 * stream in the `--state` input (STREAM, GLOBAL or LEGACY), and a read's output as plain protocol
 * messages. Imports only effect, Batch, the protocol and the connector contract.
 */
import * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import * as Batch from "../Batch.ts"
import type * as M from "../protocol/AirbyteMessage.ts"
import { expand, MalformedRecordLines, type SourceMessage } from "../protocol/RecordLines.ts"
import { ConnectorError, type InputState } from "./Connector.ts"

const descriptorFields = (descriptor: M.StreamDescriptor) =>
  descriptor.namespace === undefined ? { name: descriptor.name } : { name: descriptor.name, namespace: descriptor.namespace }

export const streamStatusTrace = (descriptor: M.StreamDescriptor, status: M.AirbyteStreamStatus): M.TraceMessage => ({
  type: "TRACE",
  trace: { type: "STREAM_STATUS", emitted_at: Date.now(), stream_status: { stream_descriptor: descriptor, status } }
})

export const streamEstimateTrace = (descriptor: M.StreamDescriptor, rows: number): M.TraceMessage => ({
  type: "TRACE",
  trace: { type: "ESTIMATE", emitted_at: Date.now(), estimate: { ...descriptorFields(descriptor), type: "STREAM", row_estimate: rows } }
})

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
const same = (d: M.StreamDescriptor, name: string, namespace: string | undefined) => d.name === name && d.namespace === namespace

/**
 * The state blob of one stream: the last STREAM state for it, its entry in a GLOBAL state's
 * `stream_states`, or `data[name]` of a LEGACY state; undefined when the input has none.
 */
export const streamStateOf = (state: InputState, name: string, namespace: string | undefined): unknown => {
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

/** Record lines a source wrote wrongly, as the failure the kit reports. */
export const malformedLinesError = (error: MalformedRecordLines) => new ConnectorError({ failureType: "system_error", message: error.message })

/** A read's output with RecordLines parsed back into RECORD messages (for tests and in-process use). */
export const protocolMessages = <E>(messages: Stream.Stream<SourceMessage, E>): Stream.Stream<M.AirbyteMessage, E | ConnectorError> =>
  messages.pipe(Batch.mapBatchEffect((batch) => {
    const out = expand(batch)
    return out instanceof MalformedRecordLines ? Effect.fail(malformedLinesError(out)) : Effect.succeed(out)
  }))
