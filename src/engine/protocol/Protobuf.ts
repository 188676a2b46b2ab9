/**
 * The socket-mode PROTOBUF codec: Airbyte messages ⇄ varint-delimited frames of `socket.proto`, with
 * positional record values typed by the stream's JSON schema, a chunk-boundary-safe frame decoder and
 * Stream operators. Must not import anything outside effect, protobufjs, node builtins and this folder.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Arr from "effect/Array"
import * as Pull from "effect/Pull"
import type protobuf from "protobufjs"
import type * as M from "./AirbyteMessage.ts"
import { decodeLine } from "./Jsonl.ts"
import { NO_DATA } from "./RecordSkim.ts"
import { DEFAULT_MAX_FRAME_BYTES, type FrameError, FrameTooLarge, MalformedFrame, UnknownStream } from "./ProtobufErrors.ts"
import { layout } from "./ProtobufLayout.ts"
import {
  type CodecCatalog,
  type FrameBody,
  type FrameEncoderOptions,
  makeCatalogCodecs,
  makeFrameEncoder,
  readerOver,
  readFrame,
  recordOf,
  type RowParts
} from "./ProtobufRecords.ts"

// The codec's parts live in the Protobuf*.ts modules of this folder; importers need only this one.
export { columnOrder } from "./ColumnOrder.ts"
export { type ColumnKind, columnKindOf } from "./ProtobufCells.ts"
export { DEFAULT_MAX_FRAME_BYTES, type FrameError, FrameTooLarge, MalformedFrame, UnknownStream } from "./ProtobufErrors.ts"
export {
  type CatalogCodecs,
  type CodecCatalog,
  type Column,
  encodeProbeFrame,
  encodeProtocolMessageFrame,
  encodeRecordFrame,
  type FieldReport,
  type FieldReporter,
  type FrameEncoder,
  type FrameEncoderOptions,
  makeCatalogCodecs,
  makeFrameEncoder,
  makeRecordCodec,
  type RecordCodec
} from "./ProtobufRecords.ts"

// ------------------------------------------------------------------------------------- FRAME DECODER

export interface FrameDecoderOptions {
  readonly catalog: CodecCatalog
  readonly maxFrameBytes?: number | undefined
  /** Called for each probe frame; probes produce no message. */
  readonly onProbe?: (() => void) | undefined
  /**
   * Records come with empty `data`: the typed data (SLUICE_PROTOBUF) and the cells (PROTOBUF) are
   * skipped unread. For a consumer that never reads record data; the stream is still checked.
   */
  readonly skipRecordData?: boolean | undefined
}

const MAX_PREFIX_BYTES = 5
const describe = (u: unknown) => (u instanceof Error ? u.message : String(u))

/**
 * A stateful splitter and decoder of byte chunks into messages. Length prefixes and frames may be split
 * across chunks at any byte. `push` appends the decoded messages to `out` and returns the first error;
 * `end` reports a stream that stopped inside a frame.
 */
export const makeFrameDecoder = (options: FrameDecoderOptions) => {
  const L = layout()
  const codecs = makeCatalogCodecs(options.catalog)
  const maxBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
  const skipData = options.skipRecordData === true
  let base = 0
  let frameStart = 0
  let frameNumber = 0
  let prefixBytes = 0
  let length = 0
  let body: Uint8Array | undefined
  let filled = 0

  const malformed = (detail: string) => new MalformedFrame({ offset: frameStart, detail })

  const emitRow = (row: RowParts, out: Array<M.AirbyteMessage>): FrameError | undefined => {
    const codec = codecs.lookup(row.namespace, row.stream)
    if (codec === undefined) return new UnknownStream({ namespace: row.namespace, stream: row.stream })
    let data: Record<string, unknown>
    if (skipData) data = NO_DATA
    else if (row.typed === undefined) data = codec.dataOf(row.values)
    else {
      if (row.values.length > 0) throw new RangeError(`record of stream '${row.stream}' has both cells and typed data`)
      const r = row.typed.reader
      r.pos = row.typed.at
      data = codec.typed.read(r)
    }
    out.push({ type: "RECORD", record: recordOf(row, data) })
    return undefined
  }

  const emitJson = (json: string, out: Array<M.AirbyteMessage>): FrameError | undefined => {
    const decoded = decodeLine(json, frameNumber)
    if (decoded._tag === "Message") out.push(decoded.message)
    else if (decoded._tag === "Invalid") return decoded.error
    else return malformed("the protocol message member is not an Airbyte message")
    return undefined
  }

  const emit = (frame: FrameBody, out: Array<M.AirbyteMessage>): FrameError | undefined => {
    switch (frame._tag) {
      case "Row":
        return emitRow(frame.row, out)
      case "Json":
        return emitJson(frame.json, out)
      case "Probe":
        options.onProbe?.()
        return undefined
      case "Empty":
        return malformed("frame has no known payload member")
    }
  }

  const decodeFrame = (r: protobuf.Reader, start: number, end: number, out: Array<M.AirbyteMessage>): FrameError | undefined => {
    frameNumber++
    try {
      return emit(readFrame(r, start, end, L, skipData), out)
    } catch (cause) {
      return malformed(describe(cause))
    }
  }

  /** Reads one prefix byte; returns the frame length once the varint is complete. */
  const readPrefixByte = (byte: number, at: number): number | FrameError | undefined => {
    if (prefixBytes === 0) frameStart = at
    length += (byte & 0x7f) * 2 ** (7 * prefixBytes)
    prefixBytes++
    if (byte & 0x80) {
      return prefixBytes < MAX_PREFIX_BYTES ? undefined : malformed("length prefix is not a varint of at most 5 bytes")
    }
    const size = length
    prefixBytes = 0
    length = 0
    return size > maxBytes ? new FrameTooLarge({ offset: frameStart, sizeBytes: size, maxBytes }) : size
  }

  const push = (chunk: Uint8Array, out: Array<M.AirbyteMessage>): FrameError | undefined => {
    let i = 0
    let reader: protobuf.Reader | undefined
    while (i < chunk.length) {
      if (body === undefined) {
        const size = readPrefixByte(chunk[i]!, base + i)
        i++
        if (size === undefined) continue
        if (typeof size !== "number") return size
        if (chunk.length - i >= size) {
          reader ??= readerOver(chunk)
          const error = decodeFrame(reader, i, i + size, out)
          if (error !== undefined) return error
          i += size
          continue
        }
        body = Buffer.allocUnsafe(size)
        filled = 0
      }
      const take = Math.min(body.length - filled, chunk.length - i)
      body.set(chunk.subarray(i, i + take), filled)
      filled += take
      i += take
      if (filled === body.length) {
        const complete = body
        body = undefined
        const error = decodeFrame(readerOver(complete), 0, complete.length, out)
        if (error !== undefined) return error
      }
    }
    base += chunk.length
    return undefined
  }

  const end = (): MalformedFrame | undefined => {
    if (body === undefined && prefixBytes === 0) return undefined
    return malformed(
      body === undefined
        ? "stream ended inside a length prefix"
        : `stream ended inside a frame: ${filled} of ${body.length} bytes`
    )
  }

  return {
    push,
    end,
    get frames() {
      return frameNumber
    }
  }
}

// ---------------------------------------------------------------------------------------------- STREAMS

export interface DecodeFramesOptions {
  readonly maxFrameBytes?: number | undefined
  readonly onProbe?: (() => void) | undefined
  readonly skipRecordData?: boolean | undefined
}

/**
 * Byte chunks → Airbyte messages, one output chunk per input chunk (no effect per frame). RECORDs carry
 * `partition_id` as an extra property when the frame has one; probes are skipped.
 */
export const decodeFrames = (catalog: CodecCatalog, options: DecodeFramesOptions = {}) =>
<E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Stream.Stream<M.AirbyteMessage, E | FrameError, R> =>
  Stream.transformPull(bytes, (pull) =>
    Effect.sync(() => {
      const decoder = makeFrameDecoder({ ...options, catalog })
      let ended = false
      const decodeChunks = (chunks: ReadonlyArray<Uint8Array>, out: Array<M.AirbyteMessage>) => {
        if (ended) return decoder.end()
        for (const chunk of chunks) {
          const error = decoder.push(chunk, out)
          if (error !== undefined) return error
        }
        return undefined
      }
      const loop: Pull.Pull<Arr.NonEmptyReadonlyArray<M.AirbyteMessage>, E | FrameError> = Effect.suspend(() => {
        if (ended) return Cause.done()
        return pull.pipe(
          Pull.catchDone(() => {
            ended = true
            return Effect.succeed<ReadonlyArray<Uint8Array>>([])
          }),
          Effect.flatMap((chunks) => {
            const out: Array<M.AirbyteMessage> = []
            const error = decodeChunks(chunks, out)
            if (error !== undefined) return Effect.fail(error)
            if (Arr.isArrayNonEmpty(out)) return Effect.succeed(out)
            return ended ? Cause.done() : loop
          })
        )
      })
      return loop
    }))

/** Airbyte messages → byte chunks, one buffer of concatenated frames per batch. */
export const encodeFrames = (catalog: CodecCatalog, options: FrameEncoderOptions = {}) =>
<E, R>(messages: Stream.Stream<M.AirbyteMessage, E, R>): Stream.Stream<Uint8Array, E | UnknownStream, R> =>
  Stream.suspend(() => {
    const encoder = makeFrameEncoder(catalog, options)
    return Stream.mapArrayEffect(messages, (batch) => {
      const bytes = encoder.encode(batch)
      return bytes instanceof UnknownStream ? Effect.fail(bytes) : Effect.succeed([bytes] as const)
    })
  })
