/**
 * The socket transport (Sluice as bookkeeper): records go straight from source to destination over N
 * Unix sockets in a private directory; Sluice only reads both stdouts — the source's states (with
 * their ids and partition counts) and the destination's acknowledgements — keeps the books and
 * commits states through the port. Middleware is bypassed (architecture selection guarantees none).
 * At the cap of states waiting for an acknowledgement Sluice stops reading the source's stdout: the
 * source blocks on its next stdout write, and with it its socket writes, until the destination catches up.
 */
import * as Effect from "effect/Effect"
import * as Semaphore from "effect/Semaphore"
import * as Stream from "effect/Stream"
import { join } from "node:path"
import { ConnectorHost } from "../ConnectorHost.ts"
import * as Runtime from "../ConnectorRuntime.ts"
import type * as M from "../protocol/AirbyteMessage.ts"
import type { ReplicationError, TransportContext } from "./ReplicationContext.ts"
import { unacknowledged, unknownAck } from "./ReplicationErrors.ts"
import { ackWatchdog, consumeDestination, makeSourceHeartbeat, makeStateCap, progressReporter } from "./Supervision.ts"

export const socketPaths = (dir: string, count: number): ReadonlyArray<string> =>
  Array.from({ length: count }, (_, i) => join(dir, `sluice_socket_${i + 1}.sock`))

export const runSocket = (context: TransportContext) =>
  Effect.scoped(Effect.gen(function*() {
    const { input, tracker } = context
    // The host's socket directory (private to the attempt, shared with both connectors), removed at the end.
    const dir = yield* ConnectorHost.use((host) => host.socketDir)
    const env = {
      DATA_CHANNEL_MEDIUM: "SOCKET",
      DATA_CHANNEL_FORMAT: context.serialization,
      DATA_CHANNEL_SOCKET_PATHS: socketPaths(dir, context.limits.socketCount).join(",")
    }
    const options = (role: "source" | "destination"): Runtime.RunOptions => ({
      role,
      connector: role === "source" ? input.source.connector : input.destination.connector,
      jobId: input.jobId,
      attempt: input.attempt,
      onLog: input.onLog,
      maxLineBytes: context.limits.maxLineBytes,
      killGracePeriod: context.limits.killGracePeriod,
      env
    })
    const lastAck = { at: Date.now() }
    // Acknowledgements can overtake the source's copy of their state (two stdouts race): they wait here.
    const early: Array<M.AirbyteStateMessage> = []
    const lock = yield* Semaphore.make(1)
    const cap = yield* makeStateCap(context)
    const heartbeat = makeSourceHeartbeat(context)
    const drainEarly = Effect.gen(function*() {
      while (early.length > 0 && (early[0]!["id"] as number) <= tracker.lastStagedId) {
        yield* context.commit(early.shift()!)
      }
    })
    const onAck = (state: M.AirbyteStateMessage): Effect.Effect<void, ReplicationError> => {
      lastAck.at = Date.now()
      const id = state["id"]
      if (typeof id === "number" && id > tracker.lastStagedId) {
        early.push(state)
        return Effect.void
      }
      return Effect.tap(context.commit(state), () => Effect.sync(cap.release))
    }
    const stage = (state: M.AirbyteStateMessage) =>
      lock.withPermits(1)(Effect.suspend(() => {
        tracker.socketSourceState(state, Date.now())
        return drainEarly
      }))

    const source = Runtime.read({ ...options("source"), onLog: heartbeat.logs(input.onLog) }, {
      config: input.source.config,
      catalog: input.catalog,
      ...(context.connectionState.toInput() === undefined ? {} : { state: context.connectionState.toInput() })
    }).pipe(
      Stream.onStart(Effect.sync(() => {
        tracker.phases.sourceReadStartTime = Date.now()
      })),
      heartbeat.watch,
      Stream.runForEach((message) => {
        // At the cap, wait outside the lock: the acknowledgements that make room need it.
        if (message.type === "STATE") return Effect.andThen(cap.room, stage(message.state))
        if (message.type === "TRACE" && message.trace.type === "ESTIMATE" && message.trace.estimate !== undefined) {
          tracker.estimate(message.trace.estimate)
        } else if (message.type === "CONTROL" && input.onControl !== undefined) {
          return input.onControl("source", message.control.connectorConfig?.config ?? {}).pipe(Effect.ignore)
        }
        return Effect.void
      }),
      Effect.tap(() => Effect.sync(() => {
        tracker.phases.sourceReadEndTime = Date.now()
      }))
    )

    const destination = consumeDestination(
      context,
      Runtime.write(options("destination"), { config: input.destination.config, catalog: context.destinationCatalog, input: Stream.empty }),
      (state) => lock.withPermits(1)(onAck(state))
    )

    yield* Effect.raceFirst(
      Effect.all([source, destination], { concurrency: 2, discard: true }),
      Effect.raceAllFirst([ackWatchdog(context, lastAck, cap.limit), heartbeat.monitor, progressReporter(context)])
    )
    const stray = early[0]
    if (stray !== undefined) return yield* unknownAck(typeof stray["id"] === "number" ? stray["id"] : undefined)
    if (tracker.pendingStates > 0) return yield* unacknowledged(tracker.pendingStates)
  }))
