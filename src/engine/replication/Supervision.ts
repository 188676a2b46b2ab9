/**
 * Fibers that run beside a transport: the acknowledgement watchdog and the progress reporter.
 */
import { Duration, Effect } from "effect"
import type { TransportContext } from "./ReplicationContext.ts"
import { destinationTimeout } from "./ReplicationErrors.ts"

const PROGRESS_INTERVAL = "1 second"

/**
 * Watches acknowledgements: fails when states wait longer than the ack timeout without one. `lastAck`
 * is read by reference so the relay can update it.
 */
export const ackWatchdog = (context: TransportContext, lastAck: { at: number }) => {
  const timeout = Duration.fromInputUnsafe(context.limits.ackTimeout)
  const every = Duration.min(timeout, Duration.seconds(1))
  return Effect.gen(function*() {
    for (;;) {
      yield* Effect.sleep(every)
      const pending = context.tracker.pendingStates
      if (pending > 0 && Date.now() - lastAck.at >= Duration.toMillis(timeout)) {
        return yield* destinationTimeout(pending, timeout)
      }
      if (pending === 0) lastAck.at = Date.now()
    }
  })
}

/** Calls onProgress about once a second until interrupted. */
export const progressReporter = (context: TransportContext) =>
  context.input.onProgress === undefined ? Effect.never : Effect.forever(
    Effect.sleep(PROGRESS_INTERVAL).pipe(
      Effect.andThen(Effect.sync(() => context.input.onProgress?.({ stats: context.tracker.totals(), streamStats: context.tracker.streamStats() })))
    )
  )

