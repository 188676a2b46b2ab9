/**
 * Tests of the socket-mode PROTOBUF codec.
 *
 * `test/fixtures/protobuf-golden.json` holds frames produced once with the reference Airbyte .proto
 * files (airbytehq/airbyte, `airbyte-cdk/bulk/core/base/src/main/proto/airbyte_message.proto`,
 * `airbyte_record_message.proto` at 1af82f7 and `airbyte_record_message_meta.proto`). To regenerate,
 * use a private script kept outside the repository (those files are ELv2): load them with protobufjs
 * (`keepCase: true`), build each `AirbyteMessageProtobuf` by hand from the fixture's `message` (values in
 * sorted column order, proto3 defaults omitted as Java does), `encodeDelimited`, and write the hex.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema, Stream } from "effect"
import { readFileSync } from "node:fs"
import protobuf from "protobufjs"
import * as M from "../../../src/engine/protocol/AirbyteMessage.ts"
import * as P from "../../../src/engine/protocol/Protobuf.ts"

// --------------------------------------------------------------------------------------------- FIXTURE

const GoldenFrame = Schema.Struct({
  name: Schema.String,
  message: Schema.NullOr(M.AirbyteMessage),
  decoded: Schema.NullOr(M.AirbyteMessage),
  hex: Schema.String
})
const Golden = Schema.Struct({ note: Schema.String, catalog: M.AirbyteCatalog, frames: Schema.Array(GoldenFrame) })
const golden = Schema.decodeUnknownSync(Golden)(
  JSON.parse(readFileSync(new URL("../../fixtures/protobuf-golden.json", import.meta.url), "utf8"))
)
const catalog = golden.catalog

const toHex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex")
const fromHex = (hex: string) => new Uint8Array(Buffer.from(hex, "hex"))
const concat = (parts: ReadonlyArray<Uint8Array>) => new Uint8Array(Buffer.concat(parts))
const nonNull = <A>(as: ReadonlyArray<A | null>): Array<A> => as.filter((a): a is A => a !== null)

const goldenBytes = concat(golden.frames.map((f) => fromHex(f.hex)))
const goldenDecoded = nonNull(golden.frames.map((f) => f.decoded))
const frameHex = (name: string) => golden.frames.find((f) => f.name === name)?.hex ?? ""

const codecFor = (namespace: string | undefined, stream: string): P.RecordCodec => {
  const codec = P.makeCatalogCodecs(catalog).lookup(namespace, stream)
  if (codec === undefined) throw new Error(`no codec for ${stream}`)
  return codec
}

/** Pushes the chunks through a fresh decoder and ends it. */
const decodeChunks = (chunks: ReadonlyArray<Uint8Array>, options: Partial<P.FrameDecoderOptions> = {}) => {
  const decoder = P.makeFrameDecoder({ catalog, ...options })
  const messages: Array<M.AirbyteMessage> = []
  for (const chunk of chunks) {
    const error = decoder.push(chunk, messages)
    if (error !== undefined) return { messages, error }
  }
  return { messages, error: decoder.end() }
}

const record = (stream: string, data: M.JsonObject, extra: Partial<M.AirbyteRecordMessage> = {}): M.AirbyteRecordMessage => ({
  stream,
  data,
  emitted_at: 1_700_000_000_000,
  ...extra
})

const streamOf = (properties: Record<string, unknown>, name = "t"): M.AirbyteStream => ({
  name,
  supported_sync_modes: ["full_refresh"],
  json_schema: { type: "object", properties }
})

/** Encodes one record with a one-stream catalog and decodes it back. */
const roundTrip = (stream: M.AirbyteStream, input: M.AirbyteRecordMessage, onFields?: P.FieldReporter) => {
  const bytes = P.encodeRecordFrame(P.makeRecordCodec(stream), input, onFields)
  const decoder = P.makeFrameDecoder({ catalog: { streams: [stream] } })
  const out: Array<M.AirbyteMessage> = []
  const error = decoder.push(bytes, out)
  assert.isUndefined(error)
  const message = out[0]
  assert.strictEqual(message?.type, "RECORD")
  return message?.type === "RECORD" ? message.record : input
}

/** protobufjs reflection over the repository's own socket.proto, to look at frames independently of the codec. */
const SocketFrame = protobuf
  .parse(readFileSync(new URL("../../../src/engine/protocol/socket.proto", import.meta.url), "utf8"), { keepCase: true })
  .root.lookupType("sluice.socket.v1.Frame")
const ReflectedCells = Schema.Struct({
  row: Schema.Struct({
    cells: Schema.Array(Schema.Struct({
      kind: Schema.optional(Schema.String),
      big_integer: Schema.optional(Schema.String),
      big_decimal: Schema.optional(Schema.String)
    }))
  })
})
/** The cells of one record frame as protobufjs reads them with socket.proto (64-bit integers as text). */
const reflectedCells = (frame: Uint8Array) => {
  const message = SocketFrame.decodeDelimited(frame)
  const plain: unknown = SocketFrame.toObject(message, { oneofs: true, longs: String })
  return Schema.decodeUnknownSync(ReflectedCells)(plain).row.cells
}

// ------------------------------------------------------------------------------------------ GOLDEN

describe("Protobuf golden frames", () => {
  it("encodes every golden frame byte for byte", () => {
    for (const frame of golden.frames) {
      const m = frame.message
      const bytes = m === null
        ? P.encodeProbeFrame()
        : m.type === "RECORD"
        ? P.encodeRecordFrame(codecFor(m.record.namespace, m.record.stream), m.record)
        : P.encodeProtocolMessageFrame(m)
      assert.strictEqual(toHex(bytes), frame.hex, frame.name)
    }
  })

  it("batch-encodes the golden messages into one buffer of concatenated frames", () => {
    const encoder = P.makeFrameEncoder(catalog)
    const messages = nonNull(golden.frames.map((f) => f.message))
    const expected = nonNull(golden.frames.map((f) => (f.message === null ? null : f.hex))).join("")
    for (let i = 0; i < 2; i++) {
      const bytes = encoder.encode(messages)
      assert.instanceOf(bytes, Uint8Array)
      if (bytes instanceof Uint8Array) assert.strictEqual(toHex(bytes), expected)
    }
  })

  it.effect("decodes the golden frames back to the inputs, skipping the probe", () =>
    Effect.gen(function*() {
      let probes = 0
      const messages = yield* Stream.make(goldenBytes).pipe(
        P.decodeFrames(catalog, { onProbe: () => probes++ }),
        Stream.runCollect
      )
      assert.deepStrictEqual(messages, goldenDecoded)
      assert.strictEqual(probes, 1)
    }))

  it("with skipRecordData decodes the same envelopes and messages, with empty record data, in both formats", () => {
    const withoutData = (messages: ReadonlyArray<M.AirbyteMessage>) =>
      messages.map((m) => (m.type === "RECORD" ? { ...m, record: { ...m.record, data: {} } } : m))
    const skipped = decodeChunks([goldenBytes], { skipRecordData: true })
    assert.isUndefined(skipped.error)
    assert.deepStrictEqual(skipped.messages, withoutData(goldenDecoded))
    // SLUICE_PROTOBUF: the typed data is stepped over too.
    const records = goldenDecoded.filter((m): m is M.RecordMessage => m.type === "RECORD")
    const typed = P.makeFrameEncoder(catalog, { typed: true }).encode(records)
    assert.instanceOf(typed, Uint8Array)
    const full = decodeChunks([typed as Uint8Array])
    const typedSkipped = decodeChunks([typed as Uint8Array], { skipRecordData: true })
    assert.isUndefined(typedSkipped.error)
    assert.strictEqual(typedSkipped.messages.length, records.length)
    assert.deepStrictEqual(typedSkipped.messages, withoutData(full.messages))
  })

  it("keeps partition_id, namespace presence and meta changes", () => {
    const { messages } = decodeChunks([goldenBytes])
    const records = messages.flatMap((m) => (m.type === "RECORD" ? [m.record] : []))
    assert.deepStrictEqual(records.map((r) => r["partition_id"]), ["p-1", undefined, "p-2", undefined])
    assert.deepStrictEqual(records.map((r) => r.namespace), ["public", undefined, undefined, ""])
    assert.isFalse("namespace" in records[1]!)
    assert.deepStrictEqual(records[0]?.meta?.changes?.map((c) => c.change), ["TRUNCATED", "NULLED"])
  })
})

// ---------------------------------------------------------------------------------------- FRAMING

describe("Protobuf frame decoder", () => {
  it("decodes frames split at every byte boundary", () => {
    for (let k = 0; k <= goldenBytes.length; k++) {
      const { messages, error } = decodeChunks([goldenBytes.subarray(0, k), goldenBytes.subarray(k)])
      assert.isUndefined(error, `split at ${k}`)
      assert.deepStrictEqual(messages, goldenDecoded, `split at ${k}`)
    }
  })

  it("decodes one byte at a time", () => {
    const chunks = Array.from(goldenBytes, (b) => Uint8Array.of(b))
    const { messages, error } = decodeChunks(chunks)
    assert.isUndefined(error)
    assert.deepStrictEqual(messages, goldenDecoded)
  })

  it.effect("decodes a stream of uneven chunks", () =>
    Effect.gen(function*() {
      const cuts = [0, 1, 2, 3, 150, 151, 400, 401, 402, goldenBytes.length]
      const chunks = cuts.slice(1).map((end, i) => Array.of(goldenBytes.subarray(cuts[i], end)))
      const messages = yield* Stream.fromArrays(...chunks).pipe(P.decodeFrames(catalog), Stream.runCollect)
      assert.deepStrictEqual(messages, goldenDecoded)
    }))

  it("fails with FrameTooLarge as soon as the length prefix is read", () => {
    const bytes = fromHex(frameHex("every value kind, namespace set, meta changes"))
    const { error } = decodeChunks([P.encodeProbeFrame(), bytes.subarray(0, 2)], { maxFrameBytes: 100 })
    assert.instanceOf(error, P.FrameTooLarge)
    if (error instanceof P.FrameTooLarge) {
      assert.deepStrictEqual([error.offset, error.sizeBytes, error.maxBytes], [3, bytes.length - 2, 100])
      assert.match(error.message, /frame at byte 3 is 315 bytes, over the maximum of 100 bytes/)
    }
  })

  it("fails with MalformedFrame on a length prefix longer than 5 bytes", () => {
    const { error } = decodeChunks([P.encodeProbeFrame(), new Uint8Array(6).fill(0xff)])
    assert.instanceOf(error, P.MalformedFrame)
    if (error instanceof P.MalformedFrame) {
      assert.strictEqual(error.offset, 3)
      assert.match(error.message, /byte 3: length prefix/)
    }
  })

  it("fails with MalformedFrame on undecodable protobuf, naming the frame's offset", () => {
    const truncatedRow = Uint8Array.of(2, 0x0a, 0x05)
    const { error } = decodeChunks([P.encodeProbeFrame(), P.encodeProbeFrame(), truncatedRow])
    assert.instanceOf(error, P.MalformedFrame)
    if (error instanceof P.MalformedFrame) assert.strictEqual(error.offset, 6)
  })

  it("fails with MalformedFrame on a frame without a payload member", () => {
    const { error } = decodeChunks([Uint8Array.of(0)])
    assert.instanceOf(error, P.MalformedFrame)
    if (error instanceof P.MalformedFrame) assert.match(error.detail, /no known payload/)
  })

  it("fails with MalformedFrame on a value field with an unexpected wire type (older string temporals)", () => {
    const w = protobuf.Writer.create()
    w.fork().uint32(10).fork().uint32(18).string("t").uint32(42).fork().uint32(7 * 8 + 2).string("2024-01-01")
    w.ldelim().ldelim().ldelim()
    const stream = streamOf({ d: { type: "string", format: "date" } })
    const { error } = decodeChunks([w.finish()], { catalog: { streams: [stream] } })
    assert.instanceOf(error, P.MalformedFrame)
    if (error instanceof P.MalformedFrame) assert.match(error.detail, /value field 7 has wire type 2/)
  })

  it("fails with MalformedFrame on a protocol member that is not an Airbyte message", () => {
    const notJson = Uint8Array.of(5, 0x12, 0x03, 0x61, 0x62, 0x63)
    const { error } = decodeChunks([notJson])
    assert.instanceOf(error, P.MalformedFrame)
  })

  it("fails with InvalidMessage on a protocol message that breaks the protocol", () => {
    const bad = P.encodeProtocolMessageFrame(JSON.parse(`{"type":"LOG","log":{"level":"LOUD"}}`))
    const { error } = decodeChunks([P.encodeProbeFrame(), bad])
    assert.strictEqual(error?._tag, "InvalidMessage")
    if (error?._tag === "InvalidMessage") assert.strictEqual(error.lineNumber, 2)
  })

  it("turns random garbage and corrupted golden bytes into typed errors, never exceptions", () => {
    const rand = prng(7)
    const errorTags = new Set(["FrameTooLarge", "MalformedFrame", "UnknownStream", "InvalidMessage"])
    for (let n = 0; n < 2000; n++) {
      const bytes = n % 2 === 0
        ? Uint8Array.from({ length: 1 + Math.floor(rand() * 64) }, () => Math.floor(rand() * 256))
        : goldenBytes.map((b) => (rand() < 0.01 ? Math.floor(rand() * 256) : b))
      const { error } = decodeChunks([bytes], { maxFrameBytes: 4096 })
      if (error !== undefined) assert.isTrue(errorTags.has(error._tag), error._tag)
    }
  })

  it.effect("fails with MalformedFrame when the stream ends inside a frame", () =>
    Effect.gen(function*() {
      const error = yield* Stream.make(goldenBytes.subarray(0, 40)).pipe(
        P.decodeFrames(catalog),
        Stream.runCollect,
        Effect.flip
      )
      assert.instanceOf(error, P.MalformedFrame)
      if (error instanceof P.MalformedFrame) assert.match(error.detail, /ended inside a frame: 38 of 315 bytes/)
    }))

  it("ignores probe frames between messages", () => {
    let probes = 0
    const state = golden.frames.find((f) => f.name === "STATE as a protocol message")
    const stateBytes = fromHex(state?.hex ?? "")
    const chunks = [P.encodeProbeFrame(), stateBytes, P.encodeProbeFrame(), P.encodeProbeFrame(), stateBytes]
    const { messages, error } = decodeChunks([concat(chunks)], { onProbe: () => probes++ })
    assert.isUndefined(error)
    assert.deepStrictEqual(messages, [state?.decoded, state?.decoded])
    assert.strictEqual(probes, 3)
  })
})

// ----------------------------------------------------------------------------------- UNKNOWN STREAMS

describe("Protobuf unknown streams", () => {
  const usersOnly: M.AirbyteCatalog = { streams: catalog.streams.filter((s) => s.name === "users") }

  it("fails decoding with UnknownStream naming the stream", () => {
    const { error } = decodeChunks([goldenBytes], { catalog: usersOnly })
    assert.instanceOf(error, P.UnknownStream)
    if (error instanceof P.UnknownStream) {
      assert.deepStrictEqual([error.namespace, error.stream], [undefined, "events"])
      assert.match(error.message, /stream 'events' is not in the catalog/)
    }
  })

  it("tells a missing namespace from an empty one", () => {
    const noNamespace = catalog.streams.filter((s) => s.name === "events" && s.namespace === undefined)
    const bytes = fromHex(frameHex("empty namespace is a namespace"))
    const { error } = decodeChunks([bytes], { catalog: { streams: noNamespace } })
    assert.instanceOf(error, P.UnknownStream)
    if (error instanceof P.UnknownStream) assert.strictEqual(error.message, "stream '.events' is not in the catalog, so its record values cannot be mapped to columns")
  })

  it.effect("fails encoding with UnknownStream", () =>
    Effect.gen(function*() {
      const message: M.AirbyteMessage = { type: "RECORD", record: record("nope", {}, { namespace: "x" }) }
      const error = yield* Stream.make(message).pipe(P.encodeFrames(usersOnly), Stream.runCollect, Effect.flip)
      assert.deepStrictEqual(error, new P.UnknownStream({ namespace: "x", stream: "nope" }))
    }))
})

// ----------------------------------------------------------------------------------------- VALUES

const allKinds = streamOf({
  b: { type: "boolean" },
  s: { type: "string" },
  i: { type: "integer" },
  n: { type: "number" },
  d: { type: "string", format: "date" },
  t: { type: "string", format: "time", airbyte_type: "time_with_timezone" },
  tl: { type: "string", format: "time", airbyte_type: "time_without_timezone" },
  ts: { type: "string", format: "date-time", airbyte_type: "timestamp_with_timezone" },
  tsl: { type: "string", format: "date-time", airbyte_type: "timestamp_without_timezone" },
  j: { type: "object" }
})

/** A small deterministic PRNG (mulberry32). */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const randomValues = (rand: () => number) => {
  const int = (max: number) => Math.floor(rand() * max)
  const p2 = (n: number) => String(n).padStart(2, "0")
  const fraction = () => (rand() < 0.5 ? "" : `.${String(int(999_999_999) + 1).padStart(9, "0").replace(/0+$/, "")}`)
  const time = () => `${p2(int(24))}:${p2(int(60))}:${p2(int(60))}${fraction()}`
  const date = () => `${String(1 + int(9999)).padStart(4, "0")}-${p2(1 + int(12))}-${p2(1 + int(28))}`
  const offset = () => {
    const minutes = int(18 * 60 * 2 + 1) - 18 * 60
    if (minutes === 0) return "Z"
    const abs = Math.abs(minutes)
    return `${minutes < 0 ? "-" : "+"}${p2(Math.floor(abs / 60))}:${p2(abs % 60)}`
  }
  const maybe = <A>(f: () => A): A | null => (rand() < 0.1 ? null : f())
  return {
    b: maybe(() => rand() < 0.5),
    s: maybe(() => Array.from({ length: int(12) }, () => String.fromCodePoint(32 + int(0x2fff))).join("")),
    i: maybe(() => (rand() < 0.2 ? (int(2) ? 1 : -1) * 2 ** (53 + int(10)) : int(2 ** 40) - 2 ** 39)),
    n: maybe(() => (rand() < 0.2 ? `${int(1e9)}${int(1e9)}${int(1e9)}.${int(1e9)}1` : (rand() - 0.5) * 10 ** int(30))),
    d: maybe(date),
    t: maybe(() => time() + offset()),
    tl: maybe(time),
    ts: maybe(() => `${date()}T${time()}${offset()}`),
    tsl: maybe(() => `${date()}T${time()}`),
    j: maybe(() => ({ k: [int(100), "v", { deep: rand() < 0.5 }], e: {} }))
  }
}

describe("Protobuf record values", () => {
  it.effect("round-trips generated records through encodeFrames and decodeFrames", () =>
    Effect.gen(function*() {
      const rand = prng(42)
      const streamCatalog = { streams: [allKinds] }
      const messages: Array<M.AirbyteMessage> = Array.from({ length: 300 }, (_, i) => ({
        type: "RECORD",
        record: record("t", randomValues(rand), { emitted_at: i, partition_id: `p${i % 3}` })
      }))
      const bytes = yield* Stream.fromArray(messages).pipe(Stream.rechunk(7), P.encodeFrames(streamCatalog), Stream.runCollect)
      const all = concat(bytes)
      const cuts = Array.from({ length: 40 }, () => Math.floor(rand() * all.length)).sort((a, b) => a - b)
      const chunks = [0, ...cuts].map((start, i) => Array.of(all.subarray(start, cuts[i] ?? all.length)))
      const decoded = yield* Stream.fromArrays(...chunks).pipe(P.decodeFrames(streamCatalog), Stream.runCollect)
      assert.deepStrictEqual(decoded, messages)
    }))

  it("carries values that do not fit their column as json and gives them back unchanged", () => {
    const misfits = {
      b: "true",
      s: { not: "a string" },
      i: 1.5,
      n: "1.5",
      d: "2024-02-30",
      t: "10:15:00",
      tl: "25:00:00",
      ts: "2024-01-02T03:04:05",
      tsl: "2024-01-02T03:04:05Z",
      j: "plain text"
    }
    const input = record("t", misfits)
    const cells = reflectedCells(P.encodeRecordFrame(P.makeRecordCodec(allKinds), input))
    assert.deepStrictEqual(cells.map((c) => c.kind), Array(10).fill("json"))
    assert.deepStrictEqual(roundTrip(allKinds, input), input)
  })

  it("keeps NaN and infinities as doubles in any column", () => {
    const input = record("t", { i: Number.NaN, s: Number.POSITIVE_INFINITY, n: Number.NEGATIVE_INFINITY })
    assert.deepStrictEqual(roundTrip(allKinds, input).data, { ...nulls(allKinds), ...input.data })
  })

  it("sends integers beyond 2^53 and exact decimals as text, without losing precision", () => {
    const input = record("t", { i: "123456789012345678901234567890", n: "0.1000" })
    const cells = reflectedCells(P.encodeRecordFrame(P.makeRecordCodec(allKinds), input))
    assert.strictEqual(cells[2]?.big_integer, "123456789012345678901234567890")
    assert.strictEqual(cells[4]?.big_decimal, "0.1000")
    assert.deepStrictEqual(roundTrip(allKinds, input).data, { ...nulls(allKinds), ...input.data })
  })

  it("decodes frames built by protobufjs from socket.proto, 64-bit integers a double cannot hold as text", () => {
    const stream = streamOf({ a: { type: "integer" }, b: { type: "integer" }, c: { type: "number" }, d: { type: "string" } })
    const row = {
      stream: "t",
      emitted_at_ms: "18446744073709551615",
      cells: [{ integer: "9007199254740993" }, { integer: (-(2n ** 60n)).toString() }, { big_decimal: "2.5" }, {}]
    }
    const bytes = SocketFrame.encodeDelimited({ row }).finish()
    const { messages, error } = decodeChunks([bytes], { catalog: { streams: [stream] } })
    assert.isUndefined(error)
    assert.deepStrictEqual(messages, [{
      type: "RECORD",
      record: { stream: "t", emitted_at: 2 ** 64, data: { a: "9007199254740993", b: -(2 ** 60), c: 2.5, d: null } }
    }])
  })

  it("writes temporals in canonical form", () => {
    const input = record("t", {
      t: "07:30+5:30",
      tl: "10:15",
      ts: "2024-01-02t03:04:05.120000z",
      tsl: "2024-01-02 03:04:05.000",
      d: "+12345-06-07"
    })
    assert.deepStrictEqual(roundTrip(allKinds, input).data, {
      ...nulls(allKinds),
      t: "07:30:00+05:30",
      tl: "10:15:00",
      ts: "2024-01-02T03:04:05.12Z",
      tsl: "2024-01-02T03:04:05",
      d: "+12345-06-07"
    })
  })

  it("encodes absent and null alike, and decodes both as null", () => {
    const input = record("t", { b: null, s: "x" })
    assert.deepStrictEqual(roundTrip(allKinds, input).data, { ...nulls(allKinds), s: "x" })
  })

  it("drops fields that are not in the schema and reports them", () => {
    const reports: Array<P.FieldReport> = []
    const input = record("t", { s: "x", extra: 1, other: undefined })
    const output = roundTrip(allKinds, input, (r) => reports.push(r))
    assert.deepStrictEqual(output.data, { ...nulls(allKinds), s: "x" })
    assert.deepStrictEqual(reports, [{ namespace: undefined, stream: "t", dropped: ["extra", "other"], nulled: [] }])
  })

  it("nulls values JSON cannot hold, records a NULLED change and reports them", () => {
    const reports: Array<P.FieldReport> = []
    const input = record("t", { j: { big: 1n }, s: "x" }, {
      meta: { changes: [{ field: "s", change: "TRUNCATED", reason: "SOURCE_FIELD_SIZE_LIMITATION" }] }
    })
    const output = roundTrip(allKinds, input, (r) => reports.push(r))
    assert.deepStrictEqual(output.data, { ...nulls(allKinds), s: "x" })
    assert.deepStrictEqual(output.meta?.changes, [
      { field: "s", change: "TRUNCATED", reason: "SOURCE_FIELD_SIZE_LIMITATION" },
      { field: "j", change: "NULLED", reason: "PLATFORM_SERIALIZATION_ERROR" }
    ])
    assert.deepStrictEqual(reports.map((r) => r.nulled), [["j"]])
  })

  it("handles columns named like Object.prototype members", () => {
    const stream = streamOf(JSON.parse(`{"__proto__": {"type": "integer"}, "constructor": {"type": "string"}, "toString": {}}`))
    const input = record("t", JSON.parse(`{"__proto__": 5, "toString": "x"}`))
    const reports: Array<P.FieldReport> = []
    const output = roundTrip(stream, input, (r) => reports.push(r))
    assert.deepStrictEqual(output.data, JSON.parse(`{"__proto__": 5, "constructor": null, "toString": "x"}`))
    assert.deepStrictEqual(reports, [])
  })

  it("fails with MalformedFrame when a record's value count differs from the catalog's columns", () => {
    const narrow = streamOf({ a: { type: "integer" } })
    const bytes = P.encodeRecordFrame(P.makeRecordCodec(narrow), record("t", { a: 1 }))
    const { error } = decodeChunks([bytes], { catalog: { streams: [allKinds] } })
    assert.instanceOf(error, P.MalformedFrame)
    if (error instanceof P.MalformedFrame) assert.match(error.detail, /has 1 values, the catalog has 10 columns/)
  })
})

function nulls(stream: M.AirbyteStream): Record<string, null> {
  return Object.fromEntries(P.columnOrder(stream.json_schema).map((name) => [name, null]))
}

// ------------------------------------------------------------------------------------------ SCHEMA

describe("Protobuf columns", () => {
  it("orders columns by JS default sort of the property names (UTF-16 code units)", () => {
    const schema = { properties: { b: {}, a: {}, B: {}, _x: {}, "10": {}, "9": {}, "é": {}, Z: {} } }
    assert.deepStrictEqual(P.columnOrder(schema), ["10", "9", "B", "Z", "_x", "a", "b", "é"])
    assert.deepStrictEqual(P.columnOrder({ type: "object" }), [])
  })

  it("maps JSON schemas to column kinds like the Bulk CDK", () => {
    const wk = (name: string) => ({ $ref: `WellKnownTypes.json#/definitions/${name}` })
    const cases: ReadonlyArray<readonly [unknown, P.ColumnKind]> = [
      [{ type: "boolean" }, "boolean"],
      [{ type: ["null", "string"] }, "string"],
      [{ type: "integer" }, "integer"],
      [{ type: "number", airbyte_type: "integer" }, "integer"],
      [{ type: "number" }, "number"],
      [{ type: "string", format: "date" }, "date"],
      [{ type: "string", format: "time" }, "time_with_timezone"],
      [{ type: "string", format: "time", airbyte_type: "time_without_timezone" }, "time_without_timezone"],
      [{ type: "string", format: "date-time" }, "timestamp_with_timezone"],
      [{ type: ["null", "string"], format: "date-time", airbyte_type: "timestamp_without_timezone" }, "timestamp_without_timezone"],
      [wk("TimestampWithTimezone"), "timestamp_with_timezone"],
      [wk("TimeWithoutTimezone"), "time_without_timezone"],
      [wk("BinaryData"), "string"],
      [wk("Date"), "date"],
      [{ oneOf: [{ type: "null" }, wk("Integer")] }, "integer"],
      [{ anyOf: [{ type: "string" }, { type: "integer" }] }, "json"],
      [{ type: ["string", "integer"] }, "json"],
      [{ type: "object" }, "json"],
      [{ type: "array" }, "json"],
      [{ type: "null" }, "json"],
      [{}, "json"],
      ["string", "json"]
    ]
    for (const [schema, kind] of cases) assert.strictEqual(P.columnKindOf(schema), kind, JSON.stringify(schema))
  })
})
