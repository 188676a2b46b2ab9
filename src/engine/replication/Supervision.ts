/**
 * What both transports share around the connectors: consuming the destination's output (phase times,
 * acknowledged states, CONTROL messages), the acknowledgement watchdog and the progress reporter.
 */
import { Duration, Effect, Latch, Stream } from "effect"
import type * as M from "../protocol/AirbyteMessage.ts"
import type { TransportContext } from "./ReplicationContext.ts"
import { destinationTimeout } from "./ReplicationErrors.ts"

const PROGRESS_INTERVAL = "1 second"

/**
 * Watches acknowledgements: fails when states wait longer than the ack timeout without one. `lastAck`
 * is read by reference so the relay can update it; `cap` is the transport's limit on waiting states, if any.
 */
export const ackWatchdog = (context: TransportContext, lastAck: { at: number }, cap?: number) => {
  const timeout = Duration.fromInputUnsafe(context.limits.ackTimeout)
  const every = Duration.min(timeout, Duration.seconds(1))
  return Effect.gen(function*() {
    for (;;) {
      yield* Effect.sleep(every)
      const pending = context.tracker.pendingStates
      if (pending > 0 && Date.now() - lastAck.at >= Duration.toMillis(timeout)) {
        return yield* destinationTimeout(pending, timeout, cap)
      }
      if (pending === 0) lastAck.at = Date.now()
    }
  })
}

/**
 * The cap on states waiting for an acknowledgement (`limits.maxPendingStates`), which bounds what
 * Sluice holds for a destination that acknowledges late. `full` says whether the cap is reached;
 * `room` waits until it is not, checking and closing in one step so that an acknowledgement between
 * the two is not lost; `release`, called after an acknowledgement lowered the count, wakes the waiter.
 */
export interface StateCap {
  readonly limit: number
  readonly full: () => boolean
  readonly room: Effect.Effect<void>
  readonly release: () => void
}

export const makeStateCap = (context: TransportContext): Effect.Effect<StateCap> =>
  Effect.map(Latch.make(true), (latch) => {
    const limit = context.limits.maxPendingStates
    const full = () => context.tracker.pendingStates >= limit
    return {
      limit,
      full,
      room: Effect.suspend(() => {
        if (!full()) return Effect.void
        latch.closeUnsafe()
        return latch.await
      }),
      release: () => {
        if (!full()) latch.openUnsafe()
      }
    }
  })

/** Calls onProgress about once a second until interrupted. */
export const progressReporter = (context: TransportContext) =>
  context.input.onProgress === undefined ? Effect.never : Effect.forever(
    Effect.sleep(PROGRESS_INTERVAL).pipe(
      Effect.andThen(Effect.sync(() => context.input.onProgress?.({ stats: context.tracker.totals(), streamStats: context.tracker.streamStats() })))
    )
  )


/**
 * Runs the destination's output: records the write phase, hands each echoed STATE to `onState` and
 * persists CONTROL messages through the input's port.
 */
export const consumeDestination = <E, E2>(
  context: TransportContext,
  output: Stream.Stream<M.AirbyteMessage, E>,
  onState: (state: M.AirbyteStateMessage) => Effect.Effect<void, E2>
): Effect.Effect<void, E | E2> => {
  const { input, tracker } = context
  return output.pipe(
    Stream.onStart(Effect.sync(() => {
      tracker.phases.destinationWriteStartTime = Date.now()
    })),
    Stream.runForEach((message) => {
      if (message.type === "STATE") return onState(message.state)
      if (message.type === "CONTROL" && input.onControl !== undefined) {
        return input.onControl("destination", message.control.connectorConfig?.config ?? {}).pipe(Effect.ignore)
      }
      return Effect.void
    }),
    Effect.tap(() => Effect.sync(() => {
      tracker.phases.destinationWriteEndTime = Date.now()
    }))
  )
}
