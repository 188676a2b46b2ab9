/**
 * What both transports share around the connectors: consuming the destination's output (phase times,
 * acknowledged states, CONTROL messages), the acknowledgement watchdog, the cap of states waiting for
 * an acknowledgement, the source heartbeat and the progress reporter.
 */
import { Duration, Effect, Latch, Stream } from "effect"
import type * as M from "../protocol/AirbyteMessage.ts"
import type { ReplicationError, TransportContext } from "./ReplicationContext.ts"
import { destinationTimeout, sourceHeartbeatTimeout } from "./ReplicationErrors.ts"

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
  /** When Sluice last held the source at the cap (now while it does; 0 if never). */
  readonly heldAt: () => number
}

export const makeStateCap = (context: TransportContext): Effect.Effect<StateCap> =>
  Effect.map(Latch.make(true), (latch) => {
    const limit = context.limits.maxPendingStates
    const full = () => context.tracker.pendingStates >= limit
    let holding = false
    let heldUntil = 0
    return {
      limit,
      full,
      room: Effect.suspend(() => {
        if (!full()) return Effect.void
        holding = true
        latch.closeUnsafe()
        return latch.await
      }),
      release: () => {
        if (full()) return
        if (holding) heldUntil = Date.now()
        holding = false
        latch.openUnsafe()
      },
      heldAt: () => (holding ? Date.now() : heldUntil)
    }
  })

/**
 * The source heartbeat: `beat` on every batch from the source's stdout, `end` when it is done. The
 * monitor reports a source silent for `limits.sourceHeartbeatTimeout` while Sluice was ready to read
 * it — a WARN log (then again after each further period), or a heartbeat_timeout failure with
 * `limits.sourceHeartbeatFailSync`. Time spent holding the source at the cap of pending states does
 * not count. The monitor never succeeds: it fails or runs until interrupted.
 */
export interface SourceHeartbeat {
  readonly beat: () => void
  readonly end: () => void
  readonly monitor: Effect.Effect<never, ReplicationError>
}

export const makeSourceHeartbeat = (context: TransportContext, cap: StateCap): SourceHeartbeat => {
  const timeout = Duration.fromInputUnsafe(context.limits.sourceHeartbeatTimeout)
  const limitMs = Duration.toMillis(timeout)
  let last = Date.now()
  let done = false
  const monitor: Effect.Effect<never, ReplicationError> = Effect.gen(function*() {
    for (;;) {
      yield* Effect.sleep(Duration.min(timeout, Duration.seconds(1)))
      if (done) return yield* Effect.never
      const now = Date.now()
      if (now - Math.max(last, cap.heldAt()) < limitMs) continue
      if (context.limits.sourceHeartbeatFailSync) return yield* sourceHeartbeatTimeout(timeout)
      context.input.onLog?.({
        origin: "source",
        channel: "log",
        level: "WARN",
        message: `the source has sent no message for ${Duration.format(timeout)}; it may be stuck (the sync goes on: ` +
          `SLUICE_SOURCE_HEARTBEAT_FAIL_SYNC=true fails it instead)`,
        timestamp: now
      })
      last = now
    }
  })
  return {
    beat: () => {
      last = Date.now()
    },
    end: () => {
      done = true
    },
    monitor
  }
}

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
