/**
 * What both transports share around the connectors: consuming the destination's output (phase times,
 * acknowledged states, CONTROL messages), the acknowledgement watchdog, the cap of states waiting for
 * an acknowledgement, the source heartbeat and the progress reporter.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Latch from "effect/Latch"
import * as Stream from "effect/Stream"
import type { LogEntry } from "../ConnectorProcess.ts"
import type * as M from "../protocol/AirbyteMessage.ts"
import type { ReplicationError, TransportContext } from "./ReplicationContext.ts"
import { destinationInputStalled, destinationTimeout, sourceHeartbeatTimeout } from "./ReplicationErrors.ts"

const PROGRESS_INTERVAL = "1 second"

/**
 * Watches the destination: fails when states wait longer than the ack timeout without an
 * acknowledgement, or (stdio, given `input`) when it has not taken its input for that long. `lastAck`
 * is read by reference so the relay can update it; `cap` is the transport's limit on waiting states.
 */
export const ackWatchdog = (context: TransportContext, lastAck: { at: number }, cap: number, input?: InputWatch) => {
  const timeout = Duration.fromInputUnsafe(context.limits.ackTimeout)
  const limitMs = Duration.toMillis(timeout)
  const every = Duration.min(timeout, Duration.seconds(1))
  return Effect.gen(function*() {
    for (;;) {
      yield* Effect.sleep(every)
      const pending = context.tracker.pendingStates
      const now = Date.now()
      if (pending > 0 && now - lastAck.at >= limitMs) return yield* destinationTimeout(pending, timeout, cap)
      if (input !== undefined && input.stalledFor(now) >= limitMs) return yield* destinationInputStalled(timeout)
      if (pending === 0) lastAck.at = now
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

/**
 * Calls `onPull` when the consumer asks `stream` for its next batch, then `onBatch` when one came or
 * `onEnd` when the stream ended or failed: whether, and since when, the consumer waits on the stream.
 * One Effect per batch.
 */
export const watchPulls = <A, E, R>(
  stream: Stream.Stream<A, E, R>,
  hooks: { readonly onPull: () => void; readonly onBatch: () => void; readonly onEnd: () => void }
): Stream.Stream<A, E, R> =>
  Stream.transformPull(stream, (pull) =>
    Effect.succeed(Effect.suspend(() => {
      hooks.onPull()
      return pull
    }).pipe(
      Effect.tap(() => Effect.sync(hooks.onBatch)),
      Effect.onError(() => Effect.sync(hooks.onEnd))
    )))

/**
 * The source heartbeat. `watch` wraps the source's stdout messages: silence counts only while Sluice
 * waits on them — not while it relays a batch, holds the source at the cap of pending states or waits
 * for the destination to take its input. `logs` wraps the source's log port: its LOG messages and
 * stderr lines are signs of life too. The monitor reports a silence of
 * `limits.sourceHeartbeatTimeout` with a WARN log (again after each further period), or a
 * heartbeat_timeout failure with `limits.sourceHeartbeatFailSync`. It never succeeds: it fails or runs
 * until interrupted.
 */
export interface SourceHeartbeat {
  readonly watch: <A, E, R>(messages: Stream.Stream<A, E, R>) => Stream.Stream<A, E, R>
  /** The source's log port, counting each line as a sign of life. */
  readonly logs: (onLog: ((entry: LogEntry) => void) | undefined) => (entry: LogEntry) => void
  readonly monitor: Effect.Effect<never, ReplicationError>
}

export const makeSourceHeartbeat = (context: TransportContext): SourceHeartbeat => {
  const timeout = Duration.fromInputUnsafe(context.limits.sourceHeartbeatTimeout)
  const limitMs = Duration.toMillis(timeout)
  // Sluice waits on the source since `since` (the start of the wait or the last sign of life).
  let waiting = false
  let since = Date.now()
  const monitor: Effect.Effect<never, ReplicationError> = Effect.gen(function*() {
    for (;;) {
      yield* Effect.sleep(Duration.min(timeout, Duration.seconds(1)))
      const now = Date.now()
      if (!waiting || now - since < limitMs) continue
      if (context.limits.sourceHeartbeatFailSync) return yield* sourceHeartbeatTimeout(timeout)
      context.input.onLog?.({
        origin: "source",
        channel: "log",
        level: "WARN",
        message: `the source has sent no message for ${Duration.format(timeout)}; it may be stuck (the sync goes on: ` +
          `SLUICE_SOURCE_HEARTBEAT_FAIL_SYNC=true fails it instead)`,
        timestamp: now
      })
      since = now
    }
  })
  return {
    watch: (messages) =>
      watchPulls(messages, {
        onPull: () => {
          waiting = true
          since = Date.now()
        },
        onBatch: () => {
          waiting = false
        },
        onEnd: () => {
          waiting = false
        }
      }),
    logs: (onLog) => (entry) => {
      since = Date.now()
      onLog?.(entry)
    },
    monitor
  }
}

/**
 * Stdio: whether the destination takes its input. `watch` wraps the stream written to its stdin;
 * `stalledFor(now)` is how long a batch handed to it has waited for the pipe to accept it (0 when the
 * writer has asked for more, or the input ended).
 */
export interface InputWatch {
  readonly watch: <A, E, R>(input: Stream.Stream<A, E, R>) => Stream.Stream<A, E, R>
  readonly stalledFor: (now: number) => number
}

export const makeInputWatch = (): InputWatch => {
  let handedAt: number | undefined
  return {
    watch: (input) =>
      watchPulls(input, {
        onPull: () => {
          handedAt = undefined
        },
        onBatch: () => {
          handedAt = Date.now()
        },
        onEnd: () => {
          handedAt = undefined
        }
      }),
    stalledFor: (now) => (handedAt === undefined ? 0 : now - handedAt)
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
