/**
 * Socket-mode records and frames: the positional codec of a stream and of a catalog, frame encoding and the
 * reading of one frame's bytes. Must not import Protobuf.ts (the façade), nor anything but protobufjs and this folder.
 */
import protobuf from "protobufjs"
import type * as M from "./AirbyteMessage.ts"
import { columnOrder } from "./ColumnOrder.ts"
import {
  closeNested,
  type ColumnKind,
  columnKindOf,
  isObject,
  makeCellWriters,
  nestedEnd,
  readCell,
  readMeta,
  setField,
  writeMeta
} from "./ProtobufCells.ts"
import { UnknownStream } from "./ProtobufErrors.ts"
import { type Layout, layout } from "./ProtobufLayout.ts"
import { int64Number } from "./ProtobufTemporals.ts"
import { makeTypedDataCodec, type TypedDataCodec } from "./TypedRows.ts"

// --------------------------------------------------------------------------------------- RECORD CODEC

/** What the encoder could not carry for one record. Only reported when one of the lists is non-empty. */
export interface FieldReport {
  readonly namespace: string | undefined
  readonly stream: string
  /** Keys of `data` that are not properties of the stream's schema: they have no position, so are dropped. */
  readonly dropped: ReadonlyArray<string>
  /** Values JSON cannot represent (bigint inside objects, cycles): sent as null with a NULLED meta change. */
  readonly nulled: ReadonlyArray<string>
}
export type FieldReporter = (report: FieldReport) => void

export interface Column {
  readonly name: string
  readonly kind: ColumnKind
}

/** The positional codec of one stream. Build once per stream: column order and writers are precomputed. */
export interface RecordCodec {
  readonly namespace: string | undefined
  readonly name: string
  readonly columns: ReadonlyArray<Column>
  /**
   * Appends one length-delimited record frame to `writer`. Never throws: values that do not fit travel as
   * json. With `typed`, the data travels as the stream's own message type (TypedRows.ts) instead of cells.
   */
  readonly writeFrame: (writer: protobuf.Writer, record: M.AirbyteRecordMessage, onFields?: FieldReporter, typed?: boolean) => void
  /** The stream's own message type for its data (SLUICE_PROTOBUF). */
  readonly typed: TypedDataCodec
  /** The decoded positional values as `data`. Throws a RangeError when their count differs from the columns'. */
  readonly dataOf: (values: ReadonlyArray<unknown>) => Record<string, unknown>
}

/** `emitted_at` travels as whole, non-negative milliseconds. */
const emittedAtMs = (emittedAt: number) => (emittedAt > 0 ? Math.trunc(emittedAt) : 0)

const serializationChange = (field: string): M.RecordMetaChange => ({
  field,
  change: "NULLED",
  reason: "PLATFORM_SERIALIZATION_ERROR"
})

const countKeys = (data: M.JsonObject): number => {
  let keys = 0
  for (const _ in data) keys++
  return keys
}

/**
 * Builds the positional codec of one stream. What travels and how it comes back:
 *
 * - Cells follow `columnOrder`; each value is written as its column kind's member. A key absent from
 *   `data` and a `null` both travel as `is_null` and decode as `null` (so does a cell with no member):
 *   a record that carries every column round-trips exactly, a sparse one comes back with nulls.
 * - Keys of `data` that are not schema properties have no position: they are dropped, as the Bulk CDK
 *   does, and reported through `onFields` so the caller can log them or add meta changes.
 * - A value that does not fit its column (a string in an integer column, an unparsable timestamp…)
 *   travels as `json` and decodes unchanged; NaN and ±Infinity travel as `number`. A value JSON cannot
 *   represent (bigint inside an object, a cycle) travels as null, gets a NULLED /
 *   PLATFORM_SERIALIZATION_ERROR meta change and is reported.
 * - Safe integers travel as `integer`; other integral numbers, and integer texts no double holds, as
 *   `big_integer`. Numbers travel as `number`; decimal texts that a double does not print back as
 *   `big_decimal`. Decoding yields a JS number when one holds the value exactly (for `big_decimal`:
 *   prints back as the same text), else the text, so no precision is lost either way.
 * - Temporals decode to one canonical ISO form, the one the Bulk CDK's destination formatters print:
 *   `2024-01-02`, `03:04:05.5`, `03:04:05-05:00`, `2024-01-02T03:04:05.123456789`,
 *   `2024-01-02T05:04:05.123+02:00` (seconds always present, fraction without trailing zeros, the
 *   offset kept with `Z` for zero, years past 9999 as `+12345`). An input that differs only in format
 *   (`t` or space separator, `z`, `+5:30`, no seconds, trailing zeros) comes back in that form.
 * - `emitted_at` travels as whole non-negative milliseconds, the extra `partition_id` property when it is
 *   a non-empty string, and `meta.changes` when there are any (other `meta` keys do not travel).
 */
export const makeRecordCodec = (stream: M.AirbyteStream): RecordCodec => {
  const L = layout()
  const writers = makeCellWriters(L)
  const properties = stream.json_schema["properties"]
  const names = columnOrder(stream.json_schema)
  const columns = names.map((name): Column => ({ name, kind: columnKindOf(isObject(properties) ? properties[name] : undefined) }))
  const columnWriters = columns.map((c) => writers[c.kind])
  const nameSet = new Set(names)

  /** Writes every column's cell; returns how many columns `data` has and the names of nulled values. */
  const writeCells = (w: protobuf.Writer, data: M.JsonObject) => {
    let present = 0
    let nulled: Array<string> | undefined
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!
      const own = Object.hasOwn(data, name)
      const value = own ? data[name] : undefined
      if (own) present++
      w.uint32(L.Row.cells).fork()
      if (value === null || value === undefined || !columnWriters[i]!(w, value)) {
        if (value !== null && value !== undefined) (nulled ??= []).push(name)
        w.uint32(L.Cell.is_null).bool(true)
      }
      w.ldelim()
    }
    return { present, nulled: nulled ?? [] }
  }

  const typed = makeTypedDataCodec(stream.json_schema)

  const writeFrame = (w: protobuf.Writer, record: M.AirbyteRecordMessage, onFields?: FieldReporter, asTyped = false) => {
    w.fork()
    w.uint32(L.Frame.row).fork()
    if (record.namespace !== undefined) w.uint32(L.Row.namespace).string(record.namespace)
    if (record.stream !== "") w.uint32(L.Row.stream).string(record.stream)
    const emitted = emittedAtMs(record.emitted_at)
    if (emitted !== 0) w.uint32(L.Row.emitted_at_ms).uint64(emitted)
    const partitionId = record["partition_id"]
    if (typeof partitionId === "string" && partitionId !== "") w.uint32(L.Row.partition_id).string(partitionId)
    let present = 0
    let nulled: ReadonlyArray<string> = []
    if (asTyped) {
      nulled = typed.write(w, L.Row.sluice_data, record.data) ?? []
      present = -1
    } else ({ present, nulled } = writeCells(w, record.data))
    const changes = record.meta?.changes ?? []
    if (changes.length > 0 || nulled.length > 0) writeMeta(w, L, [...changes, ...nulled.map(serializationChange)])
    w.ldelim()
    w.ldelim()
    // Typed data keeps the keys the schema does not declare: nothing is dropped.
    const dropped = present >= 0 && countKeys(record.data) > present ? Object.keys(record.data).filter((k) => !nameSet.has(k)) : []
    if (onFields !== undefined && (dropped.length > 0 || nulled.length > 0)) {
      onFields({ namespace: record.namespace, stream: record.stream, dropped, nulled })
    }
  }

  const dataOf = (values: ReadonlyArray<unknown>) => {
    if (values.length !== names.length) {
      throw new RangeError(`record of stream '${stream.name}' has ${values.length} values, the catalog has ${names.length} columns`)
    }
    const data: Record<string, unknown> = {}
    for (let i = 0; i < names.length; i++) setField(data, names[i]!, values[i])
    return data
  }

  return { namespace: stream.namespace, name: stream.name, columns, writeFrame, dataOf, typed }
}

// -------------------------------------------------------------------------------------- CATALOG CODEC

export type CodecCatalog = M.AirbyteCatalog | M.ConfiguredAirbyteCatalog

/** The record codecs of a catalog, looked up by (namespace, name); an unset namespace is its own key. */
export interface CatalogCodecs {
  readonly lookup: (namespace: string | undefined, stream: string) => RecordCodec | undefined
}

const isConfigured = (s: M.AirbyteStream | M.ConfiguredAirbyteStream): s is M.ConfiguredAirbyteStream =>
  isObject(s["stream"]) && s["json_schema"] === undefined

export const makeCatalogCodecs = (catalog: CodecCatalog): CatalogCodecs => {
  const byNamespace = new Map<string | undefined, Map<string, RecordCodec>>()
  for (const entry of catalog.streams) {
    const codec = makeRecordCodec(isConfigured(entry) ? entry.stream : entry)
    const streams = byNamespace.get(codec.namespace) ?? new Map<string, RecordCodec>()
    streams.set(codec.name, codec)
    byNamespace.set(codec.namespace, streams)
  }
  return { lookup: (namespace, stream) => byNamespace.get(namespace)?.get(stream) }
}

// ------------------------------------------------------------------------------------- FRAME ENCODING

const writeJsonFrame = (w: protobuf.Writer, message: M.AirbyteMessage) => {
  w.fork()
  w.uint32(layout().Frame.protocol_json).string(JSON.stringify(message))
  w.ldelim()
}

const writeProbeFrame = (w: protobuf.Writer) => {
  w.fork()
  w.uint32(layout().Frame.probe).fork()
  w.ldelim()
  w.ldelim()
}

const finish = (write: (w: protobuf.Writer) => void): Uint8Array => {
  const w = protobuf.Writer.create()
  write(w)
  return w.finish()
}

/** One length-delimited record frame. */
export const encodeRecordFrame = (codec: RecordCodec, record: M.AirbyteRecordMessage, onFields?: FieldReporter) =>
  finish((w) => codec.writeFrame(w, record, onFields))

/** One length-delimited frame carrying any message (in practice a non-record one) as JSON text. */
export const encodeProtocolMessageFrame = (message: M.AirbyteMessage) => finish((w) => writeJsonFrame(w, message))

/** One length-delimited probe frame. */
export const encodeProbeFrame = () => finish(writeProbeFrame)

export interface FrameEncoderOptions {
  /** Told about record fields that could not travel (see FieldReport). */
  readonly onFields?: FieldReporter | undefined
  /** Record data as each stream's own message type (SLUICE_PROTOBUF) instead of Airbyte's cells. */
  readonly typed?: boolean | undefined
}

/** Batch encoders that reuse one protobufjs Writer: each call returns one buffer of concatenated frames. */
export interface FrameEncoder {
  /** RECORD messages become record frames, every other message a JSON frame. */
  readonly encode: (messages: ReadonlyArray<M.AirbyteMessage>) => Uint8Array | UnknownStream
  readonly encodeRecords: (records: ReadonlyArray<M.AirbyteRecordMessage>) => Uint8Array | UnknownStream
}

export const makeFrameEncoder = (catalog: CodecCatalog, options: FrameEncoderOptions = {}): FrameEncoder => {
  const codecs = makeCatalogCodecs(catalog)
  const typed = options.typed === true
  const writer = protobuf.Writer.create()
  const writeRecord = (record: M.AirbyteRecordMessage): UnknownStream | undefined => {
    const codec = codecs.lookup(record.namespace, record.stream)
    if (codec === undefined) return new UnknownStream({ namespace: record.namespace, stream: record.stream })
    codec.writeFrame(writer, record, options.onFields, typed)
    return undefined
  }
  const writeMessage = (message: M.AirbyteMessage): UnknownStream | undefined => {
    if (message.type === "RECORD") return writeRecord(message.record)
    writeJsonFrame(writer, message)
    return undefined
  }
  const batch = <A>(items: ReadonlyArray<A>, write: (item: A) => UnknownStream | undefined) => {
    writer.reset()
    for (const item of items) {
      const error = write(item)
      if (error !== undefined) return error
    }
    return writer.finish()
  }
  return {
    encode: (messages) => batch(messages, writeMessage),
    encodeRecords: (records) => batch(records, writeRecord)
  }
}

// ------------------------------------------------------------------------------------- FRAME READING

export interface RowParts {
  namespace: string | undefined
  stream: string
  emittedAt: number
  partitionId: string
  readonly values: Array<unknown>
  readonly changes: Array<M.RecordMetaChange>
  /** Where the typed data (SLUICE_PROTOBUF) starts in the frame's reader: read once the stream is known. */
  typed: { readonly reader: protobuf.Reader; readonly at: number } | undefined
}

export type FrameBody =
  | { readonly _tag: "Row"; readonly row: RowParts }
  | { readonly _tag: "Json"; readonly json: string }
  | { readonly _tag: "Probe" }
  | { readonly _tag: "Empty" }

const PROBE: FrameBody = { _tag: "Probe" }
const EMPTY: FrameBody = { _tag: "Empty" }

const readRow = (r: protobuf.Reader, L: Layout, skipCells: boolean): RowParts => {
  const end = nestedEnd(r)
  const R = L.Row
  const row: RowParts = { namespace: undefined, stream: "", emittedAt: 0, partitionId: "", values: [], changes: [], typed: undefined }
  while (r.pos < end) {
    const tag = r.tag()
    if (tag === R.cells) {
      if (skipCells) r.skipType(2)
      else row.values.push(readCell(r, L))
    }
    else if (tag === R.namespace) row.namespace = r.string()
    else if (tag === R.stream) row.stream = r.string()
    else if (tag === R.emitted_at_ms) row.emittedAt = int64Number(r.uint64())
    else if (tag === R.partition_id) row.partitionId = r.string()
    else if (tag === R.meta) readMeta(r, L, row.changes)
    else if (tag === R.sluice_data) {
      row.typed = { reader: r, at: r.pos }
      r.skipType(2)
    } else r.skipType(tag & 7)
  }
  closeNested(r, end)
  return row
}

/** Reads one frame's bytes; the last payload member wins, as protobuf oneofs require. Throws on bad bytes. */
export const readerOver = (bytes: Uint8Array) => protobuf.Reader.create(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))

/**
 * Reads the frame at `[start, end)` of the reader's buffer (one reader serves every frame of a chunk);
 * with `skipCells` a row's cells are stepped over, not decoded.
 */
export const readFrame = (r: protobuf.Reader, start: number, end: number, L: Layout, skipCells = false): FrameBody => {
  r.pos = start
  r.len = end
  let body: FrameBody = EMPTY
  while (r.pos < r.len) {
    const tag = r.tag()
    if (tag === L.Frame.row) body = { _tag: "Row", row: readRow(r, L, skipCells) }
    else if (tag === L.Frame.protocol_json) body = { _tag: "Json", json: r.string() }
    else if (tag === L.Frame.probe) {
      r.skip(r.uint32())
      body = PROBE
    } else r.skipType(tag & 7)
  }
  return body
}

export const recordOf = (row: RowParts, data: Record<string, unknown>): M.AirbyteRecordMessage => {
  // Built in place (no spreads): this runs once per record.
  const record: { -readonly [K in keyof M.AirbyteRecordMessage]: M.AirbyteRecordMessage[K] } = row.namespace === undefined
    ? { stream: row.stream, data, emitted_at: row.emittedAt }
    : { namespace: row.namespace, stream: row.stream, data, emitted_at: row.emittedAt }
  if (row.changes.length > 0) record.meta = { changes: row.changes }
  if (row.partitionId !== "") record["partition_id"] = row.partitionId
  return record
}
