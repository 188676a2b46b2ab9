/**
 * The JSONL codec: byte chunks ⇄ newline-delimited Airbyte messages, batch by batch.
 * Framing handles lines split across chunks, CRLF and a maximum line size. Must not import
 * anything outside `effect` and this folder.
 */
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Pull from "effect/Pull"
import * as M from "./AirbyteMessage.ts"
import { type BytePool, isRecordLines, jsonlBytes, MalformedRecordLines, type RecordLines, type SourceMessage } from "./RecordLines.ts"
import { skimRecord } from "./RecordSkim.ts"

/** Default cap on one line: a record larger than this fails the read instead of exhausting memory. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024

/** A line longer than the configured maximum. `stream` is sniffed from the start of the line when present. */
export class LineTooLong extends Data.TaggedError("LineTooLong")<{
  readonly lineNumber: number
  readonly sizeBytes: number
  readonly maxBytes: number
  readonly stream: string | undefined
}> {
  override get message() {
    const where = this.stream === undefined ? "" : ` of stream '${this.stream}'`
    return `line ${this.lineNumber}${where} is at least ${this.sizeBytes} bytes, over the maximum of ${this.maxBytes} bytes; ` +
      `raise maxLineBytes or make the source emit smaller records`
  }
}

/** A line that is an Airbyte message by its `type` but whose payload breaks the protocol. */
export class InvalidMessage extends Data.TaggedError("InvalidMessage")<{
  readonly lineNumber: number
  readonly messageType: string
  readonly detail: string
  readonly excerpt: string
}> {
  override get message() {
    return `line ${this.lineNumber}: invalid ${this.messageType} message: ${this.detail} (line starts: ${this.excerpt})`
  }
}

const NEWLINE = 0x0a
const CR = 0x0d
const SNIFF_BYTES = 64 * 1024
const utf8 = new TextDecoder("utf-8")

const sniffStream = (bytes: Uint8Array): string | undefined => {
  const head = utf8.decode(bytes.subarray(0, Math.min(bytes.length, SNIFF_BYTES)))
  const match = /"stream"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(head)
  return match?.[1]
}

/** Decodes `chunk[start, end)` (whole lines, `end` at a newline) and appends its lines without CRs. */
const splitLines = (chunk: Uint8Array, start: number, end: number, out: Array<string>): number => {
  const text = Buffer.from(chunk.buffer, chunk.byteOffset + start, end - start).toString("utf8")
  let count = 0
  let from = 0
  for (let at = text.indexOf("\n"); ; at = text.indexOf("\n", from)) {
    const stop = at === -1 ? text.length : at
    out.push(stop > from && text.charCodeAt(stop - 1) === CR ? text.slice(from, stop - 1) : text.slice(from, stop))
    count++
    if (at === -1) return count
    from = at + 1
  }
}

const countLines = (chunk: Uint8Array, start: number, end: number): number => {
  let count = 0
  for (let at = chunk.indexOf(NEWLINE, start); at !== -1 && at < end; at = chunk.indexOf(NEWLINE, at + 1)) count++
  return count
}

/**
 * A stateful splitter of byte chunks into lines. `push` appends complete lines to `out` and returns
 * a LineTooLong when the pending line outgrows the maximum; `end` returns the final unterminated line.
 */
export const makeLineFramer = (maxLineBytes: number = DEFAULT_MAX_LINE_BYTES) => {
  let pending: Array<Uint8Array> = []
  let pendingBytes = 0
  let lineNumber = 0

  const toLine = (bytes: Uint8Array): string => {
    const end = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length
    return utf8.decode(bytes.subarray(0, end))
  }
  const tooLong = (head: Uint8Array, size: number) =>
    new LineTooLong({ lineNumber: lineNumber + 1, sizeBytes: size, maxBytes: maxLineBytes, stream: sniffStream(head) })
  const takePending = (tail: Uint8Array): Uint8Array => {
    if (pending.length === 0) return tail
    pending.push(tail)
    const joined = Buffer.concat(pending, pendingBytes + tail.length)
    pending = []
    pendingBytes = 0
    return joined
  }

  return {
    get lineNumber() {
      return lineNumber
    },
    push(chunk: Uint8Array, out: Array<string>): LineTooLong | undefined {
      let start = 0
      let nl = chunk.indexOf(NEWLINE, 0)
      if (nl !== -1 && pending.length > 0) {
        // The line that started in an earlier chunk.
        const size = pendingBytes + nl
        if (size > maxLineBytes + 1) return tooLong(takePending(chunk.subarray(0, nl)), size)
        out.push(toLine(takePending(chunk.subarray(0, nl))))
        lineNumber++
        start = nl + 1
        nl = chunk.indexOf(NEWLINE, start)
      }
      if (nl !== -1) {
        // Whole lines of this chunk: check their sizes by offset, then decode them in one go.
        let last = nl
        for (let from = start, at = nl; at !== -1; from = at + 1, at = chunk.indexOf(NEWLINE, from)) {
          if (at - from > maxLineBytes + 1) {
            if (from > start) splitLines(chunk, start, from - 1, out)
            lineNumber += countLines(chunk, start, from)
            return tooLong(chunk.subarray(from, at), at - from)
          }
          last = at
        }
        lineNumber += splitLines(chunk, start, last, out)
        start = last + 1
      }
      if (start < chunk.length) {
        const rest = chunk.subarray(start)
        if (pendingBytes + rest.length > maxLineBytes + 1) {
          return tooLong(Buffer.concat([...pending, rest], Math.min(SNIFF_BYTES, pendingBytes + rest.length)), pendingBytes + rest.length)
        }
        // Copy: the producer may reuse its buffer.
        pending.push(Uint8Array.prototype.slice.call(rest))
        pendingBytes += rest.length
      }
      return undefined
    },
    end(out: Array<string>): void {
      if (pendingBytes > 0) {
        const line = toLine(takePending(new Uint8Array(0)))
        lineNumber++
        out.push(line)
      }
    }
  }
}

/** The outcome of decoding one line. */
export type DecodedLine =
  | { readonly _tag: "Message"; readonly message: M.AirbyteMessage }
  | { readonly _tag: "NotProtocol"; readonly line: string }
  | { readonly _tag: "Invalid"; readonly error: InvalidMessage }

const decoders: { readonly [K in M.AirbyteMessageType]: (u: unknown) => Exit.Exit<M.AirbyteMessage, Schema.SchemaError> } = {
  RECORD: Schema.decodeUnknownExit(M.RecordEnvelope),
  STATE: Schema.decodeUnknownExit(M.StateEnvelope),
  LOG: Schema.decodeUnknownExit(M.LogEnvelope),
  SPEC: Schema.decodeUnknownExit(M.SpecEnvelope),
  CONNECTION_STATUS: Schema.decodeUnknownExit(M.ConnectionStatusEnvelope),
  CATALOG: Schema.decodeUnknownExit(M.CatalogEnvelope),
  TRACE: Schema.decodeUnknownExit(M.TraceEnvelope),
  CONTROL: Schema.decodeUnknownExit(M.ControlEnvelope),
  DESTINATION_CATALOG: Schema.decodeUnknownExit(M.DestinationCatalogEnvelope)
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * The hot-path check for RECORD: the same rules as `RecordEnvelope` for the required fields, without
 * rebuilding the object (so unknown fields are kept as they are). Anything unusual goes to the Schema.
 */
const isPlainRecord = (u: Record<string, unknown>): u is M.RecordMessage => {
  const r = u["record"]
  return isObject(r) && typeof r["stream"] === "string" && isObject(r["data"]) && typeof r["emitted_at"] === "number" &&
    (r["namespace"] === undefined || typeof r["namespace"] === "string") && r["meta"] === undefined &&
    r["file_reference"] === undefined
}

const excerptOf = (line: string) => (line.length > 200 ? `${line.slice(0, 200)}…` : line)

/**
 * Where a RECORD decoded with `keepRaw` keeps the JSON text it came from (non-enumerable, so copies
 * made with spread do not inherit it): a relay forwards an unchanged record without re-encoding it.
 */
const RawLine: unique symbol = Symbol.for("sluice/RawLine")

/** The JSON line an unchanged RECORD was decoded from, when it was decoded with `keepRaw`. */
export const rawLineOf = (message: M.AirbyteMessage): string | undefined =>
  (message as { readonly [RawLine]?: string })[RawLine]

/**
 * Decodes one line: a protocol message, a line that is not protocol at all, or an invalid message.
 * With `skim`, a RECORD in the plain shape comes back with its envelope and empty `data` (RecordSkim.ts).
 */
export const decodeLine = (line: string, lineNumber: number, keepRaw = false, skim = false): DecodedLine => {
  if (line.length === 0 || line.charCodeAt(0) !== 0x7b /* { */) return { _tag: "NotProtocol", line }
  if (skim) {
    const record = skimRecord(line)
    if (record !== undefined) return { _tag: "Message", message: record }
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch {
    return { _tag: "NotProtocol", line }
  }
  if (!isObject(parsed) || typeof parsed["type"] !== "string") return { _tag: "NotProtocol", line }
  const type = parsed["type"]
  if (type === "RECORD" && isPlainRecord(parsed)) {
    if (keepRaw) Object.defineProperty(parsed, RawLine, { value: line })
    return { _tag: "Message", message: parsed }
  }
  const decode = Object.hasOwn(decoders, type) ? decoders[type as M.AirbyteMessageType] : undefined
  if (decode === undefined) return { _tag: "NotProtocol", line }
  const exit = decode(parsed)
  if (Exit.isSuccess(exit)) return { _tag: "Message", message: exit.value }
  const detail = Cause.squash(exit.cause)
  return {
    _tag: "Invalid",
    error: new InvalidMessage({
      lineNumber,
      messageType: type,
      detail: detail instanceof Error ? detail.message.replaceAll("\n", " ") : String(detail),
      excerpt: excerptOf(line)
    })
  }
}

export interface DecodeOptions {
  readonly maxLineBytes?: number | undefined
  /** Keep each fast-path RECORD's JSON text (see `rawLineOf`). */
  readonly keepRaw?: boolean | undefined
  /**
   * Records in the plain shape come with their envelope only and empty `data`, unparsed (RecordSkim.ts):
   * for a consumer that never reads record data.
   */
  readonly skimRecords?: boolean | undefined
  /** Called for lines that are not protocol messages (connectors print banners, debug output…). */
  readonly onNotProtocol?: ((line: string, lineNumber: number) => void) | undefined
}

/**
 * Byte chunks → Airbyte messages. One output chunk per input chunk (batches, not one effect per line).
 * Fails with LineTooLong or InvalidMessage; lines that are not protocol go to `onNotProtocol`.
 */
export const decodeMessages = (options: DecodeOptions = {}) =>
<E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Stream.Stream<M.AirbyteMessage, E | LineTooLong | InvalidMessage, R> =>
  Stream.transformPull(bytes, (pull) =>
    Effect.sync(() => {
      const framer = makeLineFramer(options.maxLineBytes)
      const onNotProtocol = options.onNotProtocol
      const keepRaw = options.keepRaw === true
      const skim = options.skimRecords === true
      let ended = false
      // A failure found mid-batch is raised on the next pull, after the good messages before it.
      let failure: LineTooLong | InvalidMessage | undefined
      type Batch = readonly [M.AirbyteMessage, ...Array<M.AirbyteMessage>]
      const decodeBatch = (lines: Array<string>, firstLine: number): Array<M.AirbyteMessage> => {
        const out: Array<M.AirbyteMessage> = []
        for (let i = 0; i < lines.length; i++) {
          const line = lines[i]!
          const decoded = decodeLine(line, firstLine + i, keepRaw, skim)
          if (decoded._tag === "Message") out.push(decoded.message)
          else if (decoded._tag === "Invalid") {
            failure = decoded.error
            break
          } else if (onNotProtocol !== undefined && line.trim().length > 0) onNotProtocol(line, firstLine + i)
        }
        return out
      }
      const emit = (messages: Array<M.AirbyteMessage>, next: () => typeof loop): typeof loop => {
        if (messages.length > 0) return Effect.succeed(messages as unknown as Batch)
        return failure !== undefined ? Effect.fail(failure) : next()
      }
      const loop: Pull.Pull<Batch, E | LineTooLong | InvalidMessage> = Effect.suspend(() => {
        if (failure !== undefined) return Effect.fail(failure)
        if (ended) return Cause.done()
        return pull.pipe(
          Pull.catchDone(() => {
            ended = true
            return Effect.succeed<ReadonlyArray<Uint8Array>>([])
          }),
          Effect.flatMap((chunks) => {
            const firstLine = framer.lineNumber + 1
            const lines: Array<string> = []
            if (ended) {
              framer.end(lines)
              return emit(decodeBatch(lines, firstLine), () => Cause.done())
            }
            for (const chunk of chunks) {
              const error = framer.push(chunk, lines)
              if (error !== undefined) {
                failure = error
                break
              }
            }
            return emit(decodeBatch(lines, firstLine), () => loop)
          })
        )
      })
      return loop
    }))

const encoder = new TextEncoder()

/** Serialises a batch of messages as one buffer of JSON lines. */
export const encodeBatch = (messages: ReadonlyArray<unknown>): Uint8Array => {
  let text = ""
  for (const message of messages) text += JSON.stringify(message) + "\n"
  return encoder.encode(text)
}

/**
 * A source's batch as one buffer of JSON lines: messages are stringified, RecordLines copied as they
 * are (with their `partition_id` when set). Fails only on RecordLines that are not RECORD lines.
 * RecordLines whose bytes were copied are released; the result may be a buffer of `pool` (give it
 * back once written) or one RecordLines' own bytes (release that once written).
 */
export const encodeSourceBatch = (messages: ReadonlyArray<SourceMessage>, pool?: BytePool): Uint8Array | MalformedRecordLines => {
  const parts: Array<Uint8Array> = []
  // Record lines whose own bytes are a part: released once copied into the result, not before.
  const uncopied: Array<RecordLines> = []
  let text = ""
  for (const message of messages) {
    if (!isRecordLines(message)) {
      text += JSON.stringify(message) + "\n"
      continue
    }
    if (text.length > 0) {
      parts.push(encoder.encode(text))
      text = ""
    }
    const bytes = jsonlBytes(message, pool)
    if (bytes instanceof MalformedRecordLines) {
      for (const part of parts) pool?.release(part)
      return bytes
    }
    if (bytes === message.bytes) uncopied.push(message)
    else message.release?.()
    parts.push(bytes)
  }
  if (text.length > 0) parts.push(encoder.encode(text))
  if (parts.length === 1) return parts[0]!
  const out = Buffer.concat(parts)
  for (const lines of uncopied) lines.release?.()
  for (const part of parts) pool?.release(part)
  return out
}

/** Airbyte messages → byte chunks, one buffer per batch. */
export const encodeMessages = <E, R>(messages: Stream.Stream<M.AirbyteMessage, E, R>): Stream.Stream<Uint8Array, E, R> =>
  Stream.mapArray(messages, (batch) => [encodeBatch(batch)] as const)
