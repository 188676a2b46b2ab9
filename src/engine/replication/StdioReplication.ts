/**
 * The stdio (legacy) transport: source stdout → relay (stats, middleware, state ids) → destination
 * stdin; the destination's echoed states commit through the port. Backpressure end to end: pipes
 * between processes, and a cap on states waiting for an acknowledgement.
 */
import { Duration, Effect, Latch, Stream } from "effect"
import * as Batch from "../Batch.ts"
import * as Runtime from "../ConnectorRuntime.ts"
import type { LogEntry } from "../ConnectorProcess.ts"
import type * as M from "../protocol/AirbyteMessage.ts"
import * as FailureReason from "./FailureReason.ts"
import { ReplicationError, type TransportContext } from "./ReplicationContext.ts"
import { makeRelay } from "./StdioRelay.ts"

const PROGRESS_INTERVAL = "1 second"

const runOptions = (context: TransportContext, role: "source" | "destination"): Runtime.RunOptions => ({
  role,
  connector: role === "source" ? context.input.source.connector : context.input.destination.connector,
  jobId: context.input.jobId,
  attempt: context.input.attempt,
  onLog: context.input.onLog,
  maxLineBytes: context.limits.maxLineBytes,
  killGracePeriod: context.limits.killGracePeriod,
  env: { DATA_CHANNEL_MEDIUM: "STDIO", DATA_CHANNEL_FORMAT: "JSONL" }
})

const log = (context: TransportContext, entry: Omit<LogEntry, "timestamp" | "channel">) =>
  context.input.onLog?.({ ...entry, channel: "log", timestamp: Date.now() })

export const destinationTimeout = (pending: number, timeout: Duration.Duration) =>
  new ReplicationError({
    reason: FailureReason.make({
      failureOrigin: "destination",
      failureType: "destination_timeout",
      externalMessage: `the destination acknowledged no state for ${Duration.format(timeout)} while ${pending} waited; ` +
        `it may be stuck — check its logs`,
      internalMessage: `no destination STATE echo for ${Duration.format(timeout)}, ${pending} states pending`,
      retryable: true,
      timestamp: Date.now()
    })
  })

export const unacknowledged = (pending: number) =>
  new ReplicationError({
    reason: FailureReason.make({
      failureOrigin: "destination",
      failureType: "system_error",
      externalMessage: `the destination finished without acknowledging the last ${pending} state(s); ` +
        `the records after the last acknowledged state are not known to be written`,
      internalMessage: `destination exited 0 with ${pending} unacknowledged states`,
      retryable: true,
      timestamp: Date.now()
    })
  })

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

export const runStdio = (context: TransportContext) =>
  Effect.gen(function*() {
    const { input, tracker } = context
    const capacity = yield* Latch.make(true)
    const lastAck = { at: Date.now() }
    const controls: Array<M.ControlMessage> = []
    const relay = makeRelay(tracker, input.middlewares ?? [], {
      onControl: (message) => controls.push(message),
      onUnknownStream: (name, namespace) =>
        log(context, {
          origin: "source",
          level: "WARN",
          message: `dropping records of stream '${namespace === undefined ? "" : `${namespace}.`}${name}': it is not in the configured catalog`
        }),
      onTrace: () => undefined
    })

    const persistControls = Effect.suspend(() => {
      const pending = controls.splice(0)
      const port = input.onControl
      return port === undefined ? Effect.void : Effect.forEach(pending, (m) =>
        port("source", m.control.connectorConfig?.config ?? {}).pipe(Effect.ignore), { discard: true })
    })

    const sourceBytes = Runtime.read(runOptions(context, "source"), {
      config: input.source.config,
      catalog: input.catalog,
      ...(context.connectionState.toInput() === undefined ? {} : { state: context.connectionState.toInput() })
    }).pipe(
      Stream.onStart(Effect.sync(() => {
        tracker.phases.sourceReadStartTime = Date.now()
      })),
      Batch.mapBatchEffect((batch: ReadonlyArray<M.AirbyteMessage>) =>
        Effect.gen(function*() {
          const { bytes, states } = relay(batch, Date.now())
          yield* persistControls
          if (states > 0 && tracker.pendingStates >= context.limits.maxPendingStates) {
            // The destination is behind on acknowledgements: stop reading until it catches up.
            capacity.closeUnsafe()
            yield* capacity.await
          }
          return bytes.length === 0 ? [] : [bytes]
        })
      ),
      Stream.onEnd(Effect.sync(() => {
        tracker.phases.sourceReadEndTime = Date.now()
      }))
    )

    const destination = Runtime.write(runOptions(context, "destination"), {
      config: input.destination.config,
      catalog: context.destinationCatalog,
      input: sourceBytes
    }).pipe(
      Stream.onStart(Effect.sync(() => {
        tracker.phases.destinationWriteStartTime = Date.now()
      })),
      Stream.runForEach((message) => {
        if (message.type === "STATE") {
          lastAck.at = Date.now()
          return context.commit(message.state).pipe(
            Effect.tap(() => Effect.sync(() => {
              if (tracker.pendingStates < context.limits.maxPendingStates) capacity.openUnsafe()
            }))
          )
        }
        if (message.type === "CONTROL" && input.onControl !== undefined) {
          return input.onControl("destination", message.control.connectorConfig?.config ?? {}).pipe(Effect.ignore)
        }
        return Effect.void
      }),
      Effect.tap(() => Effect.sync(() => {
        tracker.phases.destinationWriteEndTime = Date.now()
      }))
    )

    yield* Effect.raceFirst(
      destination,
      Effect.raceFirst(ackWatchdog(context, lastAck), progressReporter(context))
    )
    if (tracker.pendingStates > 0) return yield* unacknowledged(tracker.pendingStates)
  })
