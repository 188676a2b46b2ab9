/**
 * `jsonl` destination: one newline-delimited JSON file per stream under a directory, each line a
 * record wrapped with `_sluice_raw_id`, `_sluice_extracted_at`, `_sluice_meta` and `_sluice_data`.
 * A STATE is echoed only after every earlier record is written and fsynced. Imports only
 * `src/engine`, `effect` and `node:`.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"
import { constants as fsConstants } from "node:fs"
import { access, type FileHandle, mkdir, open } from "node:fs/promises"
import { join } from "node:path"
import * as Batch from "../../engine/Batch.ts"
import { ConnectorError, type DestinationConnector } from "../../engine/kit/Connector.ts"
import { makeSpec } from "../../engine/kit/Spec.ts"
import { fullIpc } from "../../engine/IpcOptions.ts"
import type * as M from "../../engine/protocol/AirbyteMessage.ts"

export const JsonlConfig = Schema.Struct({
  path: Schema.String.check(Schema.isNonEmpty()).annotate({
    title: "Directory",
    description: "Directory the files are written to (created if missing): <stream>.jsonl, or <namespace>.<stream>.jsonl."
  })
})
export type JsonlConfig = typeof JsonlConfig.Type

/** The most a stream's buffer holds: it is written to its file when the next line would not fit. */
export const MAX_BUFFER_BYTES = 1024 * 1024
const INITIAL_BUFFER_BYTES = 64 * 1024

const EMPTY_META = "{\"changes\":[]}"

const configError = (message: string) => new ConnectorError({ failureType: "config_error", message })
const ioError = (what: string, path: string) => (cause: unknown) =>
  new ConnectorError({
    failureType: "system_error",
    message: `jsonl: cannot ${what} ${path}: ${cause instanceof Error ? cause.message : String(cause)}`
  })

/** A name safe as (part of) a file name: no path separators, NUL or control characters. */
export const sanitize = (name: string): string => name.replace(/[/\\\u0000-\u001f]/g, "_")

/** The file of a stream inside the destination directory. */
export const fileNameOf = (stream: string, namespace: string | undefined): string =>
  `${namespace === undefined ? "" : `${sanitize(namespace)}.`}${sanitize(stream)}.jsonl`

interface Target {
  readonly name: string
  readonly namespace: string | undefined
  readonly file: string
  /** 'a' appends (append, append_dedup); 'w' truncates when the write starts (overwrite). */
  readonly flags: "a" | "w"
}

/** One file per configured stream; rejects unsupported sync modes, empty names and two streams sharing a file. */
const targetsOf = (directory: string, catalog: M.ConfiguredAirbyteCatalog): ReadonlyArray<Target> | ConnectorError => {
  const byFile = new Map<string, string>()
  const targets: Array<Target> = []
  for (const entry of catalog.streams) {
    const { name, namespace } = entry.stream
    const label = namespace === undefined ? name : `${namespace}.${name}`
    if (name.length === 0) return configError("jsonl: a configured stream has an empty name")
    const mode = entry.destination_sync_mode
    if (mode !== "append" && mode !== "append_dedup" && mode !== "overwrite") {
      return configError(`jsonl: stream '${label}' asks for destination_sync_mode ${mode}; supported: append, overwrite, append_dedup`)
    }
    const fileName = fileNameOf(name, namespace)
    const other = byFile.get(fileName)
    if (other !== undefined) return configError(`jsonl: streams '${other}' and '${label}' would both be written to ${fileName}`)
    byFile.set(fileName, label)
    targets.push({ name, namespace, file: join(directory, fileName), flags: mode === "overwrite" ? "w" : "a" })
  }
  return targets
}

interface Writer {
  readonly file: string
  readonly handle: FileHandle
  /** Encoded lines not yet written: `buffer[0, used)`. Grows up to MAX_BUFFER_BYTES. */
  buffer: Buffer
  used: number
  /** Written to since the last fsync. */
  dirty: boolean
}

/** Opens the file for the whole write; the scope closes it on success, failure and interruption. */
const openWriter = (target: Target) =>
  Effect.acquireRelease(
    Effect.tryPromise({ try: () => open(target.file, target.flags), catch: ioError("open", target.file) }),
    (handle) => Effect.ignore(Effect.tryPromise(() => handle.close()))
  ).pipe(Effect.map((handle): Writer => ({
    file: target.file,
    handle,
    buffer: Buffer.allocUnsafe(INITIAL_BUFFER_BYTES),
    used: 0,
    dirty: false
  })))

/** Makes the new directory entries durable; best effort, as some file systems refuse to fsync a directory. */
const syncDirectory = (directory: string) =>
  Effect.ignore(Effect.tryPromise(async () => {
    const handle = await open(directory, "r")
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  }))

const lineOf = (record: M.AirbyteRecordMessage): string =>
  `{"_sluice_raw_id":"${randomUUID()}","_sluice_extracted_at":${JSON.stringify(record.emitted_at)},"_sluice_meta":${
    record.meta === undefined ? EMPTY_META : JSON.stringify(record.meta)
  },"_sluice_data":${JSON.stringify(record.data)}}\n`

/** Makes room for `bytes` more in the buffer, growing it up to the maximum; false when only a flush can. */
const reserve = (writer: Writer, bytes: number): boolean => {
  const needed = writer.used + bytes
  if (needed <= writer.buffer.length) return true
  if (needed > MAX_BUFFER_BYTES) return false
  let size = writer.buffer.length * 2
  while (size < needed) size *= 2
  const grown = Buffer.allocUnsafe(Math.min(size, MAX_BUFFER_BYTES))
  writer.buffer.copy(grown, 0, 0, writer.used)
  writer.buffer = grown
  return true
}

// writeFile writes everything at the current position: the end for 'a', after earlier writes for 'w'.
// Batches are processed one at a time, so nothing touches the buffer until the write is done.
const writeOut = (writer: Writer, data: Uint8Array | string) =>
  Effect.suspend(() => {
    writer.dirty = true
    return Effect.tryPromise({ try: () => writer.handle.writeFile(data), catch: ioError("write", writer.file) })
  })

const flush = (writer: Writer) =>
  Effect.suspend(() => {
    if (writer.used === 0) return Effect.void
    const data = writer.buffer.subarray(0, writer.used)
    writer.used = 0
    return writeOut(writer, data)
  })

/** Buffers one line, writing the buffer out first when the line does not fit (a huge line goes straight out). */
const append = (writer: Writer, line: string) =>
  Effect.gen(function*() {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8: a cheap upper bound instead of Buffer.byteLength.
    const worstBytes = line.length * 3
    if (!reserve(writer, worstBytes)) {
      yield* flush(writer)
      if (!reserve(writer, worstBytes)) return yield* writeOut(writer, line)
    }
    writer.used += writer.buffer.write(line, writer.used)
  })

/** Buffers one line; an Effect only when the buffer is full (so the hot path stays synchronous). */
const appendFast = (writer: Writer, line: string): Effect.Effect<void, ConnectorError> | undefined => {
  if (writer.used + line.length * 3 > writer.buffer.length) return append(writer, line)
  writer.used += writer.buffer.write(line, writer.used)
  return undefined
}

const fsync = (writer: Writer) =>
  Effect.suspend(() => {
    if (!writer.dirty) return Effect.void
    writer.dirty = false
    return Effect.tryPromise({ try: () => writer.handle.sync(), catch: ioError("fsync", writer.file) })
  })

/** Writes every buffer and fsyncs every file written since the last commit. */
const commit = (writers: ReadonlyArray<Writer>) =>
  Effect.forEach(writers, flush, { discard: true }).pipe(
    Effect.andThen(Effect.forEach(writers, fsync, { discard: true, concurrency: "unbounded" }))
  )

const write: DestinationConnector<JsonlConfig>["write"] = ({ catalog, config, messages }) =>
  Stream.unwrap(Effect.gen(function*() {
    const targets = targetsOf(config.path, catalog)
    if (targets instanceof ConnectorError) return yield* targets
    yield* Effect.tryPromise({ try: () => mkdir(config.path, { recursive: true }), catch: ioError("create directory", config.path) })
    // Overwrite truncates here, when the write starts: a reader can see a partial file until the sync ends.
    const writers: Array<Writer> = []
    const byNamespace = new Map<string | undefined, Map<string, Writer>>()
    for (const target of targets) {
      const writer = yield* openWriter(target)
      writers.push(writer)
      const byName = byNamespace.get(target.namespace) ?? new Map<string, Writer>()
      byName.set(target.name, writer)
      byNamespace.set(target.namespace, byName)
    }
    yield* syncDirectory(config.path)

    let sinceState = 0
    const unknownStream = (record: M.AirbyteRecordMessage) =>
      configError(
        `jsonl: received a record of stream '${record.namespace === undefined ? record.stream : `${record.namespace}.${record.stream}`}', ` +
          "which is not in the configured catalog"
      )
    /** Messages `from` on, with whatever Effects they need (a full buffer, a STATE's commit). */
    const finish = (batch: ReadonlyArray<M.AirbyteMessage>, from: number) =>
      Effect.gen(function*() {
        const echoes: Array<M.AirbyteMessage> = []
        for (let i = from; i < batch.length; i++) {
          const message = batch[i]!
          if (message.type === "RECORD") {
            const writer = byNamespace.get(message.record.namespace)?.get(message.record.stream)
            if (writer === undefined) return yield* unknownStream(message.record)
            const slow = appendFast(writer, lineOf(message.record))
            if (slow !== undefined) yield* slow
            sinceState++
          } else if (message.type === "STATE") {
            // The contract: everything received before this state is on disk before it is echoed.
            yield* commit(writers)
            echoes.push({ ...message, state: { ...message.state, destinationStats: { recordCount: sinceState } } })
            sinceState = 0
          }
          // Other messages (TRACE stream statuses, LOG) need no action from a file destination.
        }
        return echoes
      })
    /**
     * Records that fit the buffers are appended synchronously; an Effect (generator) only from the
     * first message that needs one. A generator per batch kept every batch alive past the next
     * young-generation GC (docs/replication.md, "Hot paths").
     */
    const onBatch = (batch: ReadonlyArray<M.AirbyteMessage>): Effect.Effect<ReadonlyArray<M.AirbyteMessage>, ConnectorError> => {
      for (let i = 0; i < batch.length; i++) {
        const message = batch[i]!
        if (message.type === "STATE") return finish(batch, i)
        if (message.type !== "RECORD") continue
        const writer = byNamespace.get(message.record.namespace)?.get(message.record.stream)
        if (writer === undefined) return Effect.fail(unknownStream(message.record))
        const slow = appendFast(writer, lineOf(message.record))
        if (slow !== undefined) return Effect.andThen(slow, () => {
          sinceState++
          return finish(batch, i + 1)
        })
        sinceState++
      }
      return Effect.succeed([])
    }

    // append_dedup is written as append: a file destination does not deduplicate.
    return messages.pipe(Batch.mapBatchEffect(onBatch), Stream.concat(Stream.fromEffectDrain(commit(writers))))
  }))

const check: DestinationConnector<JsonlConfig>["check"] = (config) =>
  Effect.tryPromise({
    try: async () => {
      await mkdir(config.path, { recursive: true })
      await access(config.path, fsConstants.W_OK)
    },
    catch: ioError("write to directory", config.path)
  }).pipe(
    Effect.as<M.AirbyteConnectionStatus>({ status: "SUCCEEDED" }),
    Effect.catch((error) => Effect.succeed<M.AirbyteConnectionStatus>({ status: "FAILED", message: error.message }))
  )

export const jsonl: DestinationConnector<JsonlConfig> = {
  id: "jsonl",
  kind: "destination",
  description: "Writes each stream to <directory>/<stream>.jsonl; states are echoed once the data is fsynced.",
  config: JsonlConfig,
  spec: makeSpec({ config: JsonlConfig, title: "jsonl destination", destinationSyncModes: ["append", "overwrite", "append_dedup"] }),
  ipc: fullIpc,
  check,
  write
}
