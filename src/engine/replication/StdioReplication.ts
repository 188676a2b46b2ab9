/**
 * The stdio (legacy) transport: source stdout → relay (stats, middleware, state ids) → destination
 * stdin; the destination's echoed states commit through the port. Backpressure end to end: pipes
 * between processes, and a cap on states waiting for an acknowledgement.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { ConnectorFailure } from "../ConnectorFailure.ts"
import * as Jsonl from "../protocol/Jsonl.ts"
import * as Batch from "../Batch.ts"
import * as Runtime from "../ConnectorRuntime.ts"
import type { LogEntry } from "../ConnectorProcess.ts"
import type * as M from "../protocol/AirbyteMessage.ts"
import type { TransportContext } from "./ReplicationContext.ts"
import { unacknowledged } from "./ReplicationErrors.ts"
import { ackWatchdog, consumeDestination, makeInputWatch, makeSourceHeartbeat, makeStateCap, progressReporter } from "./Supervision.ts"
import { makeRelay } from "./StdioRelay.ts"

const runOptions = (context: TransportContext, role: "source" | "destination"): Runtime.RunOptions => ({
  role,
  keepRawRecords: role === "source",
  connector: role === "source" ? context.input.source.connector : context.input.destination.connector,
  jobId: context.input.jobId,
  attempt: context.input.attempt,
  onLog: context.input.onLog,
  maxLineBytes: context.limits.maxLineBytes,
  killGracePeriod: context.limits.killGracePeriod,
  env: { DATA_CHANNEL_MEDIUM: "STDIO", DATA_CHANNEL_FORMAT: "JSONL" }
})

/**
 * What the platform sends a destination after the source exits 0 (reference: the platform's
 * StreamStatusCompletionTracker): one STREAM_STATUS COMPLETE trace per configured stream.
 */
export const completeStatuses = (catalog: M.ConfiguredAirbyteCatalog): Uint8Array =>
  Jsonl.encodeBatch(catalog.streams.map(({ stream }): M.TraceMessage => ({
    type: "TRACE",
    trace: {
      type: "STREAM_STATUS",
      emitted_at: Date.now(),
      stream_status: {
        stream_descriptor: { name: stream.name, ...(stream.namespace === undefined ? {} : { namespace: stream.namespace }) },
        status: "COMPLETE"
      }
    }
  })))

const log = (context: TransportContext, entry: Omit<LogEntry, "timestamp" | "channel">) =>
  context.input.onLog?.({ ...entry, channel: "log", timestamp: Date.now() })

export const runStdio = (context: TransportContext) =>
  Effect.gen(function*() {
    const { input, tracker } = context
    const cap = yield* makeStateCap(context)
    const heartbeat = makeSourceHeartbeat(context)
    const destinationInput = makeInputWatch()
    const lastAck = { at: Date.now() }
    let sourceFailure: ConnectorFailure | undefined
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

    // No Effect.gen per batch: it kept every batch alive past the next young-generation GC and doubled
    // the relay's CPU (docs/replication.md, "Hot paths"). The common case is one Effect.succeed.
    const relayBatch = (batch: ReadonlyArray<M.AirbyteMessage>): Effect.Effect<ReadonlyArray<Uint8Array>> => {
      const bytes = relay(batch, Date.now())
      const out: ReadonlyArray<Uint8Array> = bytes.length === 0 ? [] : [bytes]
      return controls.length === 0 ? Effect.succeed(out) : Effect.as(persistControls, out)
    }

    const sourceBytes = Runtime.read({ ...runOptions(context, "source"), onLog: heartbeat.logs(input.onLog) }, {
      config: input.source.config,
      catalog: input.catalog,
      ...(context.connectionState.toInput() === undefined ? {} : { state: context.connectionState.toInput() })
    }).pipe(
      Stream.onStart(Effect.sync(() => {
        tracker.phases.sourceReadStartTime = Date.now()
      })),
      heartbeat.watch,
      Batch.mapBatchEffect((batch: ReadonlyArray<M.AirbyteMessage>) => {
        // The destination is behind on acknowledgements: relay nothing more until it catches up. The
        // batch that reached the cap went out, so the destination can acknowledge what it waits for.
        return cap.full()
          ? Effect.andThen(cap.room, Effect.suspend(() => relayBatch(batch)))
          : relayBatch(batch)
      }),
      Stream.onEnd(Effect.sync(() => {
        tracker.phases.sourceReadEndTime = Date.now()
      })),
      // A failed source ends the destination's input cleanly, so it commits what it received; the
      // missing COMPLETE statuses tell it the streams did not finish (no overwrite swap, no finalize).
      Stream.catch((failure: ConnectorFailure) => {
        sourceFailure = failure
        return Stream.empty
      }),
      Stream.concat(Stream.suspend(() => sourceFailure === undefined ? Stream.make(completeStatuses(input.catalog)) : Stream.empty))
    )

    const destination = consumeDestination(
      context,
      Runtime.write(runOptions(context, "destination"), {
        config: input.destination.config,
        catalog: context.destinationCatalog,
        input: destinationInput.watch(sourceBytes)
      }),
      (state) => {
        lastAck.at = Date.now()
        return Effect.tap(context.commit(state), () => Effect.sync(cap.release))
      }
    )

    // A destination failing after the source did is a consequence: the source's failure comes first.
    yield* Effect.raceFirst(
      destination.pipe(Effect.catchCause((cause) =>
        sourceFailure === undefined ? Effect.failCause(cause) : Effect.failCause(Cause.combine(Cause.fail(sourceFailure), cause))
      )),
      Effect.raceAllFirst([ackWatchdog(context, lastAck, cap.limit, destinationInput), heartbeat.monitor, progressReporter(context)])
    )
    if (sourceFailure !== undefined) return yield* sourceFailure
    if (tracker.pendingStates > 0) return yield* unacknowledged(tracker.pendingStates)
  })
