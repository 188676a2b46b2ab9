/**
 * The source side of socket mode: listens on every socket path, tags records with their stream's
 * partition, closes partitions with states (sent on the sockets and, dual emission, on stdout) and
 * writes each batch with one backpressured write per socket. Imports only the engine's protocol and kit.
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { randomBytes } from "node:crypto"
import { lstat, unlink } from "node:fs/promises"
import * as net from "node:net"
import { finished } from "node:stream"
import * as Batch from "../Batch.ts"
import * as M from "../protocol/AirbyteMessage.ts"
import * as Jsonl from "../protocol/Jsonl.ts"
import * as Protobuf from "../protocol/Protobuf.ts"
import { type BytePool, expand, isRecordLines, MalformedRecordLines, type RecordLines, type SourceMessage } from "../protocol/RecordLines.ts"
import { BufferPool } from "./BufferPool.ts"
import { ConnectorError } from "./Connector.ts"
import type { SocketChannel } from "./DataChannel.ts"

// ---------------------------------------------------------------------------------------- PARTITIONS

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/** A random alphanumeric partition id (20 characters, ~119 bits). */
export const randomPartitionId = (): string => {
  let id = ""
  for (const byte of randomBytes(20)) id += ALPHABET[byte % ALPHABET.length]
  return id
}

/** The records of one stream between two of its states; they all travel on one socket. */
export interface Partition {
  readonly id: string
  readonly socket: number
  readonly name: string
  readonly namespace: string | undefined
  records: number
  bytes: number
  closed: boolean
  /** Tagged records of the current batch, not yet encoded. */
  pending: Array<M.AirbyteMessage | RecordLines>
}

/** Encodes messages for one socket: PROTOBUF frames or JSON lines. */
export type Encode = (messages: ReadonlyArray<M.AirbyteMessage | RecordLines>) => Uint8Array | ConnectorError

/** What one batch becomes: at most one buffer per socket, and the messages for stdout, in order. */
export interface Routed {
  readonly sockets: ReadonlyArray<Uint8Array | undefined>
  readonly stdout: ReadonlyArray<M.AirbyteMessage>
}

export interface RouterOptions {
  readonly sockets: number
  readonly encode: Encode
  readonly partitionId?: (() => string) | undefined
  /** Where encoded bytes go back once copied into a socket's buffer (the encoder's pool). */
  readonly release?: ((bytes: Uint8Array) => void) | undefined
}

export interface Router {
  readonly route: (batch: ReadonlyArray<SourceMessage>) => Routed | ConnectorError
}

const systemError = (message: string) => new ConnectorError({ failureType: "system_error", message })

/**
 * The pure bookkeeping of the source side. A record joins its stream's current partition (opened on
 * demand, sockets assigned round-robin) and gets its `partition_id`. A STREAM state closes its stream's
 * partition; a GLOBAL or LEGACY state closes all of them. Every state gets `partition_id`, `id` (1, 2, …),
 * `sourceStats.recordCount` and `sluice_bytes`, and goes to a socket after the records it covers and
 * to stdout. A stream's COMPLETE status goes to stdout and to a socket, claiming all the stream's
 * partitions. Any other message goes to stdout only.
 */
export const makeRouter = (options: RouterOptions): Router => {
  const current = new Map<string | undefined, Map<string, Partition>>()
  // Every partition a stream had in this read, with its count and whether a state closed it: a COMPLETE
  // status claims them all.
  const history = new Map<string, { stated: Record<string, number>; unstated: Record<string, number> }>()
  const historyKey = (namespace: string | undefined, name: string) => (namespace === undefined ? `\u0000${name}` : `${namespace}\u0000${name}`)
  const newId = options.partitionId ?? randomPartitionId
  let nextSocket = 0
  let ordinal = 0
  let last: Partition | undefined

  const open = (namespace: string | undefined, name: string): Partition => {
    const partition: Partition = { id: newId(), socket: nextSocket, name, namespace, records: 0, bytes: 0, closed: false, pending: [] }
    nextSocket = (nextSocket + 1) % options.sockets
    const byName = current.get(namespace) ?? new Map<string, Partition>()
    byName.set(name, partition)
    current.set(namespace, byName)
    return partition
  }

  const close = (partition: Partition, byState: boolean) => {
    partition.closed = true
    current.get(partition.namespace)?.delete(partition.name)
    const key = historyKey(partition.namespace, partition.name)
    const counts = history.get(key) ?? { stated: {}, unstated: {} }
    ;(byState ? counts.stated : counts.unstated)[partition.id] = partition.records
    history.set(key, counts)
  }

  return {
    route: (batch) => {
      const out: Array<Array<Uint8Array>> = Array.from({ length: options.sockets }, () => [])
      const stdout: Array<M.AirbyteMessage> = []
      const dirty: Array<Partition> = []

      const flush = (p: Partition): ConnectorError | undefined => {
        if (p.pending.length === 0) return undefined
        const bytes = options.encode(p.pending)
        if (bytes instanceof ConnectorError) return bytes
        p.pending = []
        p.bytes += bytes.length
        out[p.socket]!.push(bytes)
        return undefined
      }

      const emitState = (socket: number, message: M.StateMessage): ConnectorError | undefined => {
        const bytes = options.encode([message])
        if (bytes instanceof ConnectorError) return bytes
        out[socket]!.push(bytes)
        stdout.push(message)
        return undefined
      }

      const closeStream = (message: M.StateMessage): ConnectorError | undefined => {
        const descriptor = message.state.stream?.stream_descriptor
        if (descriptor === undefined) return systemError("a STREAM state has no stream.stream_descriptor: it cannot be tied to a stream's records")
        const p = current.get(descriptor.namespace)?.get(descriptor.name) ?? open(descriptor.namespace, descriptor.name)
        const error = flush(p)
        if (error !== undefined) return error
        close(p, true)
        const state = message.state
        return emitState(p.socket, {
          ...message,
          state: { ...state, sourceStats: { ...state.sourceStats, recordCount: p.records }, partition_id: p.id, id: ++ordinal, sluice_bytes: p.bytes }
        })
      }

      const closeAll = (message: M.StateMessage): ConnectorError | undefined => {
        const closing = [...current.values()].flatMap((byName) => [...byName.values()])
        const counts: Record<string, number> = {}
        const streams: Array<Record<string, unknown>> = []
        let records = 0
        let bytes = 0
        for (const p of closing) {
          const error = flush(p)
          if (error !== undefined) return error
          close(p, true)
          counts[p.id] = p.records
          streams.push({ name: p.name, ...(p.namespace === undefined ? {} : { namespace: p.namespace }), count: p.records, bytes: p.bytes })
          records += p.records
          bytes += p.bytes
        }
        const socket = nextSocket
        nextSocket = (nextSocket + 1) % options.sockets
        const state = message.state
        return emitState(socket, {
          ...message,
          state: {
            ...state,
            sourceStats: { ...state.sourceStats, recordCount: records },
            partition_id: newId(),
            id: ++ordinal,
            sluice_bytes: bytes,
            sluice_partitions: counts,
            sluice_stream_counts: streams
          }
        })
      }

      /**
       * A stream's COMPLETE status also goes to the destination (it finalises a stream, e.g. swaps an
       * overwrite in, only on COMPLETE), claiming every partition of the stream so the destination kit
       * hands it over after the stream's last record, whichever socket carried it.
       */
      const completeStream = (message: M.TraceMessage, descriptor: M.StreamDescriptor): ConnectorError | undefined => {
        const open = current.get(descriptor.namespace)?.get(descriptor.name)
        if (open !== undefined) {
          const error = flush(open)
          if (error !== undefined) return error
          close(open, false)
        }
        const key = historyKey(descriptor.namespace, descriptor.name)
        const claims = history.get(key) ?? { stated: {}, unstated: {} }
        history.delete(key)
        const socket = nextSocket
        nextSocket = (nextSocket + 1) % options.sockets
        // `sluice_partitions`: records no state covers, handed over with this status; `sluice_after`:
        // partitions whose states must have been handed over first.
        const trace = { ...message.trace, sluice_partitions: claims.unstated, sluice_after: claims.stated }
        const bytes = options.encode([{ ...message, trace }])
        if (bytes instanceof ConnectorError) return bytes
        out[socket]!.push(bytes)
        stdout.push(message)
        return undefined
      }

      const partitionOf = (namespace: string | undefined, name: string): Partition => {
        let p = last
        if (p === undefined || p.closed || p.name !== name || p.namespace !== namespace) {
          p = current.get(namespace)?.get(name) ?? open(namespace, name)
          last = p
        }
        if (p.pending.length === 0) dirty.push(p)
        return p
      }

      for (const message of batch) {
        if (message.type === "RECORD") {
          const record = message.record
          const p = partitionOf(record.namespace, record.stream)
          p.pending.push({ ...message, record: { ...record, partition_id: p.id } })
          p.records++
        } else if (isRecordLines(message)) {
          const p = partitionOf(message.namespace, message.stream)
          p.pending.push({ ...message, partitionId: p.id })
          p.records += message.ends.length
        } else if (message.type === "STATE") {
          const error = M.stateTypeOf(message.state) === "STREAM" ? closeStream(message) : closeAll(message)
          if (error !== undefined) return error
        } else if (message.type === "TRACE" && message.trace.stream_status?.status === "COMPLETE") {
          const error = completeStream(message, message.trace.stream_status.stream_descriptor)
          if (error !== undefined) return error
        } else {
          stdout.push(message)
        }
      }
      for (const p of dirty) {
        const error = flush(p)
        if (error !== undefined) return error
      }
      const sockets = out.map((chunks) => {
        if (chunks.length <= 1) return chunks[0]
        const joined = Buffer.concat(chunks)
        if (options.release !== undefined) for (const chunk of chunks) options.release(chunk)
        return joined
      })
      return { sockets, stdout }
    }
  }
}

/**
 * The encoder of a format; protobuf records need their stream in the configured catalog. Record lines
 * are released once encoded; JSONL bytes come from `pool` when given (release them once written).
 */
export const encoderFor = (format: SocketChannel["format"], catalog: M.ConfiguredAirbyteCatalog, pool?: BytePool): Encode => {
  if (format === "JSONL") {
    return (messages) => {
      const bytes = Jsonl.encodeSourceBatch(messages, pool)
      return bytes instanceof MalformedRecordLines ? systemError(bytes.message) : bytes
    }
  }
  const encoder = Protobuf.makeFrameEncoder(catalog, { typed: format === "SLUICE_PROTOBUF" })
  return (messages) => {
    // Records a source wrote as JSON lines are parsed back: protobuf needs their values.
    const expanded = expand(messages)
    if (expanded instanceof MalformedRecordLines) return systemError(expanded.message)
    for (const message of messages) if (isRecordLines(message)) message.release?.()
    const bytes = encoder.encode(expanded)
    return bytes instanceof Protobuf.UnknownStream ? systemError(`cannot encode a record: ${bytes.message}`) : bytes
  }
}

/**
 * The size of the socket side's pooled buffers: a source's batch of JSON lines with their partition
 * ids fits (faker's 100 records ≈ 67 KB); a larger one gets a buffer of its own.
 */
const POOLED_BYTES = 256 * 1024

const probeOf = (format: SocketChannel["format"]): Uint8Array =>
  format === "JSONL" ? new Uint8Array([0x0a]) : Protobuf.encodeProbeFrame()

// ------------------------------------------------------------------------------------------- SOCKETS

/** One accepted connection: the socket of one path. */
export interface Outlet {
  readonly path: string
  readonly socket: net.Socket
  lastWriteMs: number
  failure: ConnectorError | undefined
}

const describe = (cause: unknown) => (cause instanceof Error ? cause.message : String(cause))
const socketError = (path: string, what: string, cause?: unknown) =>
  systemError(`socket ${path}: ${what}${cause === undefined ? "" : `: ${describe(cause)}`}`)

/** Removes a stale socket file; anything else at the path is left alone and fails the read. */
const removeStale = (path: string) =>
  Effect.tryPromise({
    try: async () => {
      const stat = await lstat(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return undefined
        throw error
      })
      if (stat === undefined) return
      if (!stat.isSocket()) throw new Error("the path exists and is not a socket; refusing to replace it")
      await unlink(path)
    },
    catch: (cause) => socketError(path, "cannot prepare the socket path", cause)
  })

/** A listening path: its first connection is kept (the server then stops listening), later ones refused. */
interface Listener {
  readonly path: string
  readonly server: net.Server
  readonly accepted: Promise<net.Socket>
  readonly socket: () => net.Socket | undefined
}

/** Listens on the path; the scope closes the server (which removes the socket file) and its connection. */
const listen = (path: string, connected: Set<string>) =>
  Effect.acquireRelease(
    Effect.andThen(
      removeStale(path),
      Effect.callback<Listener, ConnectorError>((resume) => {
        let socket: net.Socket | undefined
        const accepted = Promise.withResolvers<net.Socket>()
        // The handler exists before the server listens: no connection can arrive unseen.
        const server = net.createServer((incoming) => {
          if (socket !== undefined) return incoming.destroy()
          incoming.on("error", () => undefined)
          socket = incoming
          server.close()
          connected.add(path)
          accepted.resolve(incoming)
        })
        server.once("error", (error) => resume(Effect.fail(socketError(path, "cannot listen", error))))
        server.listen(path, () => {
          server.removeAllListeners("error")
          server.on("error", () => undefined)
          resume(Effect.succeed({ path, server, accepted: accepted.promise, socket: () => socket }))
        })
        return Effect.sync(() => server.close())
      })
    ),
    (listener) =>
      Effect.sync(() => {
        if (listener.server.listening) listener.server.close()
        listener.socket()?.destroy()
      })
  )

export const outletOf = (path: string, socket: net.Socket): Outlet => {
  const outlet: Outlet = { path, socket, lastWriteMs: Date.now(), failure: undefined }
  socket.on("error", (error) => {
    outlet.failure ??= socketError(path, "the connection failed", error)
  })
  // The destination never writes; reading lets its end-of-stream close the socket.
  socket.resume()
  return outlet
}

/** Listens on every path and waits until the destination connected to all of them. */
const openOutlets = (channel: SocketChannel) =>
  Effect.gen(function*() {
    const connected = new Set<string>()
    const listeners = yield* Effect.forEach(channel.paths, (path) => listen(path, connected))
    return yield* Effect.forEach(listeners, (l) => Effect.map(Effect.promise(() => l.accepted), (socket) => outletOf(l.path, socket)), {
      concurrency: "unbounded"
    }).pipe(
      Effect.timeoutOrElse({
        duration: channel.connectTimeoutMs,
        orElse: () => {
          const missing = channel.paths.filter((p) => !connected.has(p))
          return Effect.fail(systemError(
            `socket mode: the destination did not connect to ${missing.length} of ${channel.paths.length} sockets within ` +
              `${channel.connectTimeoutMs} ms: ${missing.join(", ")}`
          ))
        }
      })
    )
  })

const closedError = (o: Outlet) => o.failure ?? socketError(o.path, "the destination closed the connection")

/**
 * Waits until the socket's buffer drained. Checked again when the callback registers: the fiber may
 * have yielded to the event loop since `writableNeedDrain` was read, and a `drain` emitted meanwhile
 * is not emitted again (waiting for it then hung the source, seen under load).
 */
export const awaitDrain = (o: Outlet) =>
  Effect.callback<void, ConnectorError>((resume) => {
    if (o.socket.destroyed) return resume(Effect.fail(closedError(o)))
    if (!o.socket.writableNeedDrain) return resume(o.failure === undefined ? Effect.void : Effect.fail(o.failure))
    const onDrain = () => {
      cleanup()
      resume(o.failure === undefined ? Effect.void : Effect.fail(o.failure))
    }
    const onClose = () => {
      cleanup()
      resume(Effect.fail(closedError(o)))
    }
    const cleanup = () => {
      o.socket.off("drain", onDrain)
      o.socket.off("close", onClose)
    }
    o.socket.on("drain", onDrain)
    o.socket.on("close", onClose)
    return Effect.sync(cleanup)
  })

/**
 * `release` gets the bytes back once the kernel has them: at once when the socket wrote them without
 * waiting (nothing is left in its buffer), else when the write completes (or fails). Its callback
 * comes a tick later, which a busy stream does not wait for; the pool ignores that second release.
 */
const writeNow = (o: Outlet, bytes: Uint8Array, release: (bytes: Uint8Array) => void) =>
  Effect.suspend(() => {
    if (o.failure !== undefined) return Effect.fail(o.failure)
    if (o.socket.destroyed) return Effect.fail(closedError(o))
    o.socket.write(bytes, () => release(bytes))
    if (o.socket.writableLength === 0) release(bytes)
    o.lastWriteMs = Date.now()
    return Effect.void
  })

/** Writes at once when the socket has room, after its `drain` otherwise: one batch at most is buffered. */
const write = (o: Outlet, bytes: Uint8Array, release: (bytes: Uint8Array) => void) =>
  Effect.suspend(() =>
    o.socket.writableNeedDrain ? Effect.andThen(awaitDrain(o), writeNow(o, bytes, release)) : writeNow(o, bytes, release)
  )

const writeBatch = (outlets: ReadonlyArray<Outlet>, chunks: ReadonlyArray<Uint8Array | undefined>, release: (bytes: Uint8Array) => void) =>
  Effect.forEach(outlets, (o, i) => {
    const bytes = chunks[i]
    return bytes === undefined ? Effect.void : write(o, bytes, release)
  }, { discard: true })

/** Half-closes every socket once its buffered bytes are flushed. */
const endAll = (outlets: ReadonlyArray<Outlet>) =>
  Effect.forEach(outlets, (o) =>
    Effect.callback<void, ConnectorError>((resume) => {
      if (o.failure !== undefined) return resume(Effect.fail(o.failure))
      const cleanup = finished(o.socket, { readable: false }, (error) => {
        cleanup()
        resume(error === undefined || error === null ? Effect.void : Effect.fail(o.failure ?? socketError(o.path, "closing failed", error)))
      })
      o.socket.end()
    }), { concurrency: "unbounded", discard: true })

/** Writes a probe to every socket idle for the interval (a socket waiting for `drain` is not idle). */
const probeLoop = (outlets: ReadonlyArray<Outlet>, intervalMs: number, probe: Uint8Array) =>
  Effect.forever(Effect.andThen(
    Effect.sleep(Math.max(1, Math.floor(intervalMs / 2))),
    Effect.sync(() => {
      const now = Date.now()
      for (const o of outlets) {
        const writable = !o.socket.destroyed && !o.socket.writableEnded && !o.socket.writableNeedDrain
        if (writable && now - o.lastWriteMs >= intervalMs) {
          o.socket.write(probe)
          o.lastWriteMs = now
        }
      }
    })
  ))

/**
 * Socket mode for a source's `read`: waits for the destination on every socket, then routes each batch
 * (records and states to the sockets, states, logs and traces to the returned stream for stdout). On
 * success every socket is half-closed after its last byte; on failure or interruption all are destroyed.
 */
export const serve = (channel: SocketChannel, catalog: M.ConfiguredAirbyteCatalog) =>
<E>(messages: Stream.Stream<SourceMessage, E>): Stream.Stream<M.AirbyteMessage, E | ConnectorError> =>
  Stream.unwrap(Effect.gen(function*() {
    const outlets = yield* openOutlets(channel)
    // A socket holds at most one batch beyond its kernel buffer: a few pooled buffers cover them all.
    const pool = new BufferPool(POOLED_BYTES, 2 * outlets.length + 2)
    const router = makeRouter({ sockets: outlets.length, encode: encoderFor(channel.format, catalog, pool), release: pool.release })
    yield* Effect.forkScoped(probeLoop(outlets, channel.probeIntervalMs, probeOf(channel.format)))
    return messages.pipe(
      Batch.mapBatchEffect((batch) => {
        const routed = router.route(batch)
        if (routed instanceof ConnectorError) return Effect.fail(routed)
        return Effect.as(writeBatch(outlets, routed.sockets, pool.release), routed.stdout)
      }),
      Stream.concat(Stream.fromEffectDrain(endAll(outlets)))
    )
  }))
