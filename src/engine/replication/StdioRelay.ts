/**
 * The stdio relay's per-batch work: count what the source emitted, run the middleware chain, give
 * each STATE its id and record count, count what is forwarded, and encode the batch as one buffer of
 * JSON lines. Only RECORD and STATE reach the destination. Synchronous: one call per batch.
 */
import type * as M from "../protocol/AirbyteMessage.ts"
import { rawLineOf } from "../protocol/Jsonl.ts"
import type { Middleware } from "./Middleware.ts"
import type { StatsTracker } from "./StatsTracker.ts"

export interface RelayHooks {
  /** A source CONTROL message (a new config to persist); never forwarded. */
  readonly onControl: (message: M.ControlMessage) => void
  /** A RECORD of a stream outside the configured catalog (dropped; reported once per stream). */
  readonly onUnknownStream: (name: string, namespace: string | undefined) => void
  /** A TRACE from the source (stream status, estimate, error); never forwarded. */
  readonly onTrace: (message: M.TraceMessage) => void
}

const encoder = new TextEncoder()

export const makeRelay = (tracker: StatsTracker, middlewares: ReadonlyArray<Middleware>, hooks: RelayHooks) => {
  const unknown = new Set<string>()
  return (batch: ReadonlyArray<M.AirbyteMessage>, now: number): Uint8Array => {
    // 1. What the source emitted; only records of configured streams and states go on.
    let relayed: Array<M.AirbyteMessage> | undefined
    for (let i = 0; i < batch.length; i++) {
      const message = batch[i]!
      let keep = false
      if (message.type === "RECORD") {
        const counters = tracker.counters(message.record.stream, message.record.namespace)
        if (counters !== undefined) {
          tracker.emitted(counters)
          keep = true
        } else {
          const key = `${message.record.namespace ?? ""}.${message.record.stream}`
          if (!unknown.has(key)) {
            unknown.add(key)
            hooks.onUnknownStream(message.record.stream, message.record.namespace)
          }
        }
      } else if (message.type === "STATE") keep = true
      else if (message.type === "CONTROL") hooks.onControl(message)
      else if (message.type === "TRACE") {
        if (message.trace.type === "ESTIMATE" && message.trace.estimate !== undefined) tracker.estimate(message.trace.estimate)
        hooks.onTrace(message)
      }
      if (keep) relayed?.push(message)
      else relayed ??= batch.slice(0, i) as Array<M.AirbyteMessage>
    }
    let out: ReadonlyArray<M.AirbyteMessage> = relayed ?? batch
    // 2. Middleware (may change or drop records).
    for (const middleware of middlewares) {
      if (out.length === 0) break
      out = middleware.process(out)
    }
    // 3. What is forwarded, encoded in one buffer.
    let text = ""
    for (const message of out) {
      if (message.type === "RECORD") {
        // A record no middleware replaced goes out as the source wrote it: no re-encoding.
        const line = rawLineOf(message) ?? JSON.stringify(message)
        tracker.forwarded(tracker.counters(message.record.stream, message.record.namespace)!, line.length + 1)
        text += line + "\n"
      } else if (message.type === "STATE") {
        text += JSON.stringify(tracker.sourceState(message, now)) + "\n"
      }
    }
    return encoder.encode(text)
  }
}
