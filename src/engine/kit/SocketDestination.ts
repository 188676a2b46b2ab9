/**
 * The destination side of socket mode: connects to every socket path, merges what the sockets carry
 * into one stream for the connector, holds each STATE until its partitions' records were handed over
 * (checking counts), and emits the connector's echoed states on stdout in `id` order with committed
 * stats. Imports only the engine's protocol, Batch and the kit.
 */
import * as NodeStream from "@effect/platform-node/NodeStream"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as net from "node:net"
import * as Batch from "../Batch.ts"
import * as M from "../protocol/AirbyteMessage.ts"
import * as Jsonl from "../protocol/Jsonl.ts"
import * as Protobuf from "../protocol/Protobuf.ts"
import { ConnectorError } from "./Connector.ts"
import type { SocketChannel } from "./DataChannel.ts"

// ------------------------------------------------------------------------------------------- LEDGER

/** The records of one stream a handed-over state covers; `bytes` when the source reported them. */
export interface StreamCount {
  readonly name: string
  readonly namespace: string | undefined
  readonly count: number
  readonly bytes: number | undefined
}

/** What the kit knows of a state it handed to the connector, by state `id`, until the echo comes back. */
export interface Handover {
  readonly recordCount: number
  readonly streams: ReadonlyArray<StreamCount>
}

/** How many handed-over partitions are remembered to catch late records; older ones are forgotten. */
export const SEALED_MEMORY = 100_000

/** A partition a state covers, with the records the source counted for it. */
type Claim = { readonly partition: string; readonly expected: number }

interface Held {
  readonly message: M.StateMessage
  readonly id: number | undefined
  readonly claims: ReadonlyArray<Claim>
  readonly info: Handover
  missing: number
}

/** A partition not yet handed over: `expected` and `holder` once a state claimed it. */
type Open = { received: number; expected: number | undefined; holder: Held | undefined }

const systemError = (message: string) => new ConnectorError({ failureType: "system_error", message })

const mismatch = (partition: string, expected: number, received: number, why: string) =>
  systemError(`socket mode: count mismatch for partition ${partition}: expected ${expected} records, received ${received} (${why})`)

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
const isCount = (u: unknown): u is number => typeof u === "number" && Number.isSafeInteger(u) && u >= 0
const labelOf = (id: number | undefined) => (id === undefined ? "a state without id" : `state ${id}`)

const streamCountsOf = (state: M.AirbyteStateMessage, recordCount: number): ReadonlyArray<StreamCount> => {
  const bytesOf = (u: unknown) => (isCount(u) ? u : undefined)
  if (M.stateTypeOf(state) === "STREAM") {
    const d = state.stream?.stream_descriptor
    return d === undefined ? [] : [{ name: d.name, namespace: d.namespace, count: recordCount, bytes: bytesOf(state["sluice_bytes"]) }]
  }
  const counts = state["sluice_stream_counts"]
  if (!Array.isArray(counts)) return []
  return counts.filter((c): c is Record<string, unknown> => isObject(c) && typeof c["name"] === "string" && isCount(c["count"])).map((c) => ({
    name: c["name"] as string,
    namespace: typeof c["namespace"] === "string" ? c["namespace"] : undefined,
    count: c["count"] as number,
    bytes: bytesOf(c["bytes"])
  }))
}

/** The partitions a state covers: `sluice_partitions` (GLOBAL/LEGACY), else its `partition_id` alone. */
const claimsOf = (state: M.AirbyteStateMessage, label: string): ReadonlyArray<Claim> | ConnectorError => {
  const partitions = state["sluice_partitions"]
  if (M.stateTypeOf(state) !== "STREAM" && isObject(partitions)) {
    const claims: Array<Claim> = []
    for (const [partition, expected] of Object.entries(partitions)) {
      if (!isCount(expected)) return systemError(`socket mode: ${label} has a bad count for partition ${partition} in sluice_partitions`)
      claims.push({ partition, expected })
    }
    return claims
  }
  const partition = state["partition_id"]
  if (typeof partition !== "string" || partition === "") return []
  const expected = state.sourceStats?.recordCount
  if (!isCount(expected)) {
    return systemError(`socket mode: ${label} (partition ${partition}) has no sourceStats.recordCount, which socket mode requires`)
  }
  return [{ partition, expected }]
}

export interface Gate {
  /** Appends to `out` what may go to the connector now; fails on a count mismatch. */
  readonly admit: (batch: ReadonlyArray<M.AirbyteMessage>, out: Array<M.AirbyteMessage>) => ConnectorError | undefined
  /** At the end of all sockets: fails when a held state's partitions are incomplete. */
  readonly end: () => ConnectorError | undefined
}

/**
 * The input-side bookkeeping: counts records per `partition_id` as they pass, holds each STATE until the
 * records of its partitions all passed and releases it right after the last one. Handed-over states
 * with an `id` are recorded in `handovers` for the sequencer. Records and states without partition ids
 * pass as they are.
 */
export const makeGate = (handovers: Map<number, Handover>): Gate => {
  const partitions = new Map<string, Open>()
  const sealed = new Map<string, number>()
  const held = new Set<Held>()
  // COMPLETE statuses waiting for every partition of their stream (see SocketSource's completeStream).
  const completions: Array<{
    readonly message: M.TraceMessage
    readonly claims: ReadonlyArray<Claim>
    readonly after: ReadonlyArray<Claim>
  }> = []
  // Records come in runs of one partition: the last lookup saves hashing a fresh id string per record.
  let lastId: string | undefined
  let lastOpen: Open | undefined

  const openOf = (partition: string): Open => {
    let p = partitions.get(partition)
    if (p === undefined) {
      p = { received: 0, expected: undefined, holder: undefined }
      partitions.set(partition, p)
    }
    return p
  }

  const seal = (c: Claim) => {
    partitions.delete(c.partition)
    sealed.set(c.partition, c.expected)
    if (sealed.size > SEALED_MEMORY) sealed.delete(sealed.keys().next().value!)
  }

  const handOver = (h: Held, out: Array<M.AirbyteMessage>) => {
    for (const c of h.claims) seal(c)
    held.delete(h)
    lastId = undefined
    if (h.id !== undefined) handovers.set(h.id, h.info)
    out.push(h.message)
  }

  const admitState = (message: M.StateMessage, out: Array<M.AirbyteMessage>): ConnectorError | undefined => {
    const state = message.state
    const id = isCount(state["id"]) ? state["id"] : undefined
    const label = labelOf(id)
    const claims = claimsOf(state, label)
    if (claims instanceof ConnectorError) return claims
    for (const c of claims) {
      if (sealed.has(c.partition) || partitions.get(c.partition)?.expected !== undefined) {
        return systemError(`socket mode: partition ${c.partition} is claimed by two states (the second is ${label})`)
      }
      const received = partitions.get(c.partition)?.received ?? 0
      if (received > c.expected) return mismatch(c.partition, c.expected, received, `${label} arrived after more records than it counts`)
    }
    const recordCount = claims.reduce((sum, c) => sum + c.expected, 0)
    const h: Held = { message, id, claims, info: { recordCount, streams: streamCountsOf(state, recordCount) }, missing: 0 }
    for (const c of claims) {
      const p = openOf(c.partition)
      p.expected = c.expected
      if (p.received < c.expected) {
        p.holder = h
        h.missing++
      }
    }
    if (h.missing === 0) handOver(h, out)
    else held.add(h)
    return undefined
  }

  const admitRecord = (message: M.RecordMessage, partition: string, out: Array<M.AirbyteMessage>): ConnectorError | undefined => {
    let p = partition === lastId ? lastOpen : partitions.get(partition)
    if (p === undefined) {
      const count = sealed.get(partition)
      if (count !== undefined) return mismatch(partition, count, count + 1, "a record arrived after its state was handed over")
      p = openOf(partition)
    }
    lastId = partition
    lastOpen = p
    p.received++
    out.push(message)
    if (p.expected === undefined || p.received < p.expected) return undefined
    if (p.received > p.expected) return mismatch(partition, p.expected, p.received, "more records than its state counts")
    const h = p.holder
    p.holder = undefined
    if (h !== undefined && --h.missing === 0) handOver(h, out)
    return undefined
  }

  /** A partition a state closed: met once that state was handed over (sealing it). */
  const sealedBefore = (c: Claim): boolean | ConnectorError => {
    const done = sealed.get(c.partition)
    if (done === undefined) return false
    return done === c.expected ? true : mismatch(c.partition, c.expected, done, "the stream's COMPLETE status counts otherwise")
  }

  /** A partition no state covers: met once all its records passed. */
  const received = (c: Claim): boolean | ConnectorError => {
    const p = partitions.get(c.partition)
    const count = p?.received ?? 0
    if (count > c.expected || p?.expected !== undefined) {
      return mismatch(c.partition, c.expected, count, "the stream's COMPLETE status counts otherwise")
    }
    return count === c.expected
  }

  const releaseCompletions = (out: Array<M.AirbyteMessage>): ConnectorError | undefined => {
    for (let i = 0; i < completions.length; i++) {
      const completion = completions[i]!
      let ready = true
      for (const [claims, met] of [[completion.after, sealedBefore], [completion.claims, received]] as const) {
        for (const c of claims) {
          const ok = met(c)
          if (ok instanceof ConnectorError) return ok
          if (!ok) ready = false
        }
      }
      if (!ready) continue
      for (const c of completion.claims) seal(c)
      lastId = undefined
      out.push(completion.message)
      completions.splice(i--, 1)
    }
    return undefined
  }

  const admitTrace = (message: M.TraceMessage, out: Array<M.AirbyteMessage>): ConnectorError | undefined => {
    const partitionsOf = message.trace["sluice_partitions"]
    if (message.trace.stream_status?.status !== "COMPLETE" || !isObject(partitionsOf)) {
      out.push(message)
      return undefined
    }
    const toClaims = (counts: unknown): Array<Claim> | ConnectorError => {
      const claims: Array<Claim> = []
      for (const [partition, expected] of Object.entries(isObject(counts) ? counts : {})) {
        if (!isCount(expected)) return systemError(`socket mode: a COMPLETE status has a bad count for partition ${partition}`)
        claims.push({ partition, expected })
      }
      return claims
    }
    const claims = toClaims(partitionsOf)
    if (claims instanceof ConnectorError) return claims
    const after = toClaims(message.trace["sluice_after"])
    if (after instanceof ConnectorError) return after
    const { sluice_partitions: _claims, sluice_after: _after, ...trace } = message.trace
    completions.push({ message: { ...message, trace }, claims, after })
    return undefined
  }

  return {
    admit: (batch, out) => {
      const error = admitBatch(batch, out)
      return error ?? (completions.length === 0 ? undefined : releaseCompletions(out))
    },
    end: () => {
      for (const h of held) {
        for (const c of h.claims) {
          const received = partitions.get(c.partition)?.received ?? 0
          if (received !== c.expected) return mismatch(c.partition, c.expected, received, `${labelOf(h.id)} is incomplete at the end of all sockets`)
        }
      }
      for (const completion of completions) {
        const stream = completion.message.trace.stream_status?.stream_descriptor.name ?? "?"
        for (const c of [...completion.after, ...completion.claims]) {
          const received = sealed.get(c.partition) ?? partitions.get(c.partition)?.received ?? 0
          if (received !== c.expected) return mismatch(c.partition, c.expected, received, `stream ${stream} is COMPLETE but incomplete at the end of all sockets`)
        }
      }
      return undefined
    }
  }

  function admitBatch(batch: ReadonlyArray<M.AirbyteMessage>, out: Array<M.AirbyteMessage>): ConnectorError | undefined {
      for (const message of batch) {
        if (message.type === "RECORD") {
          const partition = message.record["partition_id"]
          if (typeof partition === "string" && partition !== "") {
            const error = admitRecord(message, partition, out)
            if (error !== undefined) return error
          } else out.push(message)
        } else if (message.type === "STATE") {
          const error = admitState(message, out)
          if (error !== undefined) return error
        } else if (message.type === "TRACE") {
          const error = admitTrace(message, out)
          if (error !== undefined) return error
        } else out.push(message)
      }
      return undefined
  }
}

export interface Sequencer {
  /** The connector's output with echoed states released in `id` order, enriched with stats. */
  readonly acknowledge: (batch: ReadonlyArray<M.AirbyteMessage>) => ReadonlyArray<M.AirbyteMessage>
  /** At the end of the connector's output: a warning when echoes are still withheld. */
  readonly end: () => ReadonlyArray<M.AirbyteMessage>
}

interface Committed {
  records: number
  bytes: number | undefined
}

const streamKey = (name: string, namespace: string | undefined) => (namespace === undefined ? `\u0000${name}` : `${namespace}\u0000${name}`)

/**
 * The output-side bookkeeping: echoed states with a numeric `id` leave strictly as 1, 2, 3, … (early
 * ones wait), with `destinationStats.recordCount` set to the records of their partitions and
 * cumulative `committedRecordsCount` / `committedBytesCount` per stream (top level for STREAM, on each
 * `global.stream_states` entry for GLOBAL). Everything else passes at once.
 */
export const makeSequencer = (handovers: Map<number, Handover>): Sequencer => {
  const waiting = new Map<number, M.StateMessage>()
  const committed = new Map<string, Committed>()
  let next = 1

  const commit = (s: StreamCount): void => {
    const key = streamKey(s.name, s.namespace)
    const c = committed.get(key) ?? { records: 0, bytes: 0 }
    c.records += s.count
    c.bytes = c.bytes === undefined || s.bytes === undefined ? undefined : c.bytes + s.bytes
    committed.set(key, c)
  }

  const statsOf = (name: string, namespace: string | undefined) => {
    const c = committed.get(streamKey(name, namespace)) ?? { records: 0, bytes: undefined }
    return { committedRecordsCount: c.records, ...(c.bytes === undefined ? {} : { committedBytesCount: c.bytes }) }
  }

  const enrich = (message: M.StateMessage, id: number): M.StateMessage => {
    const info = handovers.get(id)
    if (info === undefined) return message
    handovers.delete(id)
    info.streams.forEach(commit)
    const state: M.AirbyteStateMessage = {
      ...message.state,
      destinationStats: { ...message.state.destinationStats, recordCount: info.recordCount }
    }
    const type = M.stateTypeOf(state)
    const descriptor = state.stream?.stream_descriptor
    if (type === "STREAM" && descriptor !== undefined) {
      return { ...message, state: { ...state, ...statsOf(descriptor.name, descriptor.namespace) } }
    }
    if (type === "GLOBAL" && state.global !== undefined) {
      const stream_states = state.global.stream_states.map((s) => ({ ...s, ...statsOf(s.stream_descriptor.name, s.stream_descriptor.namespace) }))
      return { ...message, state: { ...state, global: { ...state.global, stream_states } } }
    }
    return { ...message, state }
  }

  return {
    acknowledge: (batch) => {
      const out: Array<M.AirbyteMessage> = []
      for (const message of batch) {
        const id = message.type === "STATE" ? message.state["id"] : undefined
        if (message.type !== "STATE" || !isCount(id)) {
          out.push(message)
          continue
        }
        waiting.set(id, message)
        for (let ready = waiting.get(next); ready !== undefined; ready = waiting.get(next)) {
          waiting.delete(next)
          out.push(enrich(ready, next))
          next++
        }
      }
      return out
    },
    end: () => {
      if (waiting.size === 0) return []
      const ids = [...waiting.keys()].sort((a, b) => a - b)
      const message = `socket mode: state ${next} was never echoed by the destination, so ${ids.length} later echoed states ` +
        `were withheld (ids ${ids.slice(0, 10).join(", ")}${ids.length > 10 ? ", …" : ""})`
      return [{ type: "LOG", log: { level: "WARN", message } }]
    }
  }
}

// ------------------------------------------------------------------------------------------- SOCKETS

const describe = (cause: unknown) => (cause instanceof Error ? cause.message : String(cause))
const socketError = (path: string, what: string, cause?: unknown) =>
  systemError(`socket ${path}: ${what}${cause === undefined ? "" : `: ${describe(cause)}`}`)

const RETRYABLE = new Set(["ENOENT", "ECONNREFUSED", "EAGAIN"])
/**
 * How often a connection the source does not accept yet is tried again: both start together and the
 * source listens within a fraction of a second, so a short interval is a few cheap failed connects
 * (50 ms had cost a sync ≈ 25 ms of waiting on average, `npx node bench/scenario.ts … --records 1000`).
 */
const RETRY_EVERY = "5 millis"

const connectOnce = (path: string) =>
  Effect.callback<net.Socket, NodeJS.ErrnoException>((resume) => {
    const socket = net.createConnection({ path })
    const onError = (error: NodeJS.ErrnoException) => {
      socket.destroy()
      resume(Effect.fail(error))
    }
    socket.once("error", onError)
    socket.once("connect", () => {
      socket.off("error", onError)
      // Errors are read by the socket's stream; this keeps one arriving before that from crashing the process.
      socket.on("error", () => undefined)
      resume(Effect.succeed(socket))
    })
    return Effect.sync(() => socket.destroy())
  })

/** Connects, retrying while the source has not created or not yet opened the socket. */
const connect = (path: string, lastError: Map<string, string>) =>
  Effect.acquireRelease(
    connectOnce(path).pipe(
      Effect.tapError((error) => Effect.sync(() => lastError.set(path, error.code ?? error.message))),
      Effect.retry({ schedule: Schedule.spaced(RETRY_EVERY), while: (error) => RETRYABLE.has(error.code ?? "") }),
      Effect.tap(() => Effect.sync(() => lastError.delete(path))),
      Effect.mapError((error) => socketError(path, "cannot connect", error))
    ),
    (socket) => Effect.sync(() => socket.destroy()),
    { interruptible: true }
  )

const connectAll = (channel: SocketChannel) => {
  const lastError = new Map<string, string>()
  return Effect.forEach(channel.paths, (path) => connect(path, lastError), { concurrency: "unbounded" }).pipe(
    Effect.timeoutOrElse({
      duration: channel.connectTimeoutMs,
      orElse: () =>
        Effect.fail(systemError(
          `socket mode: could not connect to ${lastError.size} of ${channel.paths.length} sockets within ${channel.connectTimeoutMs} ms ` +
            `(is the source running with the same ${channel.paths.length} paths?): ` +
            [...lastError].map(([path, code]) => `${path} (${code})`).join(", ")
        ))
    })
  )
}

/** One socket's messages: pull-based reads (bounded by the socket's buffer), decoded batch by batch. */
const readSocket = (socket: net.Socket, path: string, options: ServeOptions<unknown>) => {
  const bytes = NodeStream.fromReadable<Uint8Array, ConnectorError>({ evaluate: () => socket, onError: (e) => socketError(path, "reading failed", e) })
  const skip = options.readsRecordData === false
  const messages: Stream.Stream<M.AirbyteMessage, ConnectorError | Protobuf.FrameError | Jsonl.LineTooLong> = options.channel.format !== "JSONL"
    ? Protobuf.decodeFrames(options.catalog, { skipRecordData: skip })(bytes)
    : Jsonl.decodeMessages({
      skimRecords: skip,
      onNotProtocol: (line, n) => options.stderr.write(`socket ${path}: ignoring non-protocol line ${n}: ${line.slice(0, 200)}\n`)
    })(bytes)
  return Stream.mapError(messages, (error) => (error instanceof ConnectorError ? error : socketError(path, "cannot decode", error)))
}

export interface ServeOptions<E> {
  readonly channel: SocketChannel
  readonly catalog: M.ConfiguredAirbyteCatalog
  readonly stderr: NodeJS.WritableStream
  /** false: records reach the connector with empty `data`, parsed only as far as needed (DestinationConnector). */
  readonly readsRecordData?: boolean | undefined
  /** The connector's `write`, given the merged input. */
  readonly write: (messages: Stream.Stream<M.AirbyteMessage, ConnectorError>) => Stream.Stream<M.AirbyteMessage, E>
}

/**
 * Socket mode for a destination's `write`: stdin is not read. The input ends when every socket reached
 * its end; the returned stream (for stdout) is the connector's output with echoed states in `id` order.
 */
export const serve = <E>(options: ServeOptions<E>): Stream.Stream<M.AirbyteMessage, E | ConnectorError> =>
  Stream.unwrap(Effect.gen(function*() {
    const sockets = yield* connectAll(options.channel)
    const handovers = new Map<number, Handover>()
    const gate = makeGate(handovers)
    const sequencer = makeSequencer(handovers)
    const merged = Stream.mergeAll(
      sockets.map((socket, i) => readSocket(socket, options.channel.paths[i]!, options)),
      { concurrency: "unbounded" }
    )
    const input = merged.pipe(
      Batch.mapBatchEffect((batch): Effect.Effect<ReadonlyArray<M.AirbyteMessage>, ConnectorError> => {
        const out: Array<M.AirbyteMessage> = []
        const error = gate.admit(batch, out)
        return error === undefined ? Effect.succeed(out) : Effect.fail(error)
      }),
      Stream.concat(Stream.fromEffectDrain(Effect.suspend((): Effect.Effect<void, ConnectorError> => {
        const error = gate.end()
        return error === undefined ? Effect.void : Effect.fail(error)
      })))
    )
    return options.write(input).pipe(
      Batch.mapBatch(sequencer.acknowledge),
      Stream.concat(Stream.suspend(() => Stream.fromArray(sequencer.end())))
    )
  }))
