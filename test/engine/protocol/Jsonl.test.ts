/**
 * The JSONL codec: framing independent of chunk boundaries (bytes, CRLF, UTF-8), non-protocol lines,
 * invalid messages, the line-size cap, batching, and encode → decode round trips checked against the
 * official schema.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import type * as M from "../../../src/engine/protocol/AirbyteMessage.ts"
import * as Jsonl from "../../../src/engine/protocol/Jsonl.ts"
import * as Official from "../../support/OfficialSchema.ts"

const utf8 = new TextEncoder()
const bytesOf = (text: string) => utf8.encode(text)

/** A deterministic PRNG (mulberry32), so random chunkings are reproducible. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** `bytes` cut at the given offsets. */
const cut = (bytes: Uint8Array, offsets: ReadonlyArray<number>): Array<Uint8Array> => {
  const chunks: Array<Uint8Array> = []
  let start = 0
  for (const offset of [...offsets, bytes.length]) {
    chunks.push(bytes.slice(start, offset))
    start = offset
  }
  return chunks
}
const everyByte = (bytes: Uint8Array) => cut(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1))
const randomChunks = (bytes: Uint8Array, next: () => number, maxSize: number) => {
  const offsets: Array<number> = []
  for (let at = 1 + Math.floor(next() * maxSize); at < bytes.length; at += 1 + Math.floor(next() * maxSize)) {
    offsets.push(at)
  }
  return cut(bytes, offsets)
}

/** One stream chunk per element of `chunks` (each a group of byte buffers pulled together). */
const streamOf = (chunks: ReadonlyArray<ReadonlyArray<Uint8Array>>) => Stream.fromArrays(...chunks)
const oneBufferPerChunk = (buffers: ReadonlyArray<Uint8Array>) => streamOf(buffers.map((buffer) => [buffer]))

interface NotProtocol {
  readonly line: string
  readonly lineNumber: number
}

const decode = (buffers: ReadonlyArray<Uint8Array>, options: Jsonl.DecodeOptions = {}) =>
  oneBufferPerChunk(buffers).pipe(Jsonl.decodeMessages(options), Stream.runCollect)

/** Decodes and also collects what went to onNotProtocol. */
const decodeWithNotProtocol = (buffers: ReadonlyArray<Uint8Array>, maxLineBytes?: number) =>
  Effect.gen(function*() {
    const notProtocol: Array<NotProtocol> = []
    const messages = yield* oneBufferPerChunk(buffers).pipe(
      Jsonl.decodeMessages({ maxLineBytes, onNotProtocol: (line, lineNumber) => notProtocol.push({ line, lineNumber }) }),
      Stream.runCollect
    )
    return { messages, notProtocol }
  })

/** The sizes of the output chunks: one per input chunk that held at least one message. */
const outputChunkSizes = (chunks: ReadonlyArray<ReadonlyArray<Uint8Array>>) =>
  streamOf(chunks).pipe(
    Jsonl.decodeMessages(),
    Stream.chunks,
    Stream.map((chunk) => chunk.length),
    Stream.runCollect
  )

const framerLines = (chunks: ReadonlyArray<Uint8Array>, maxLineBytes?: number) => {
  const framer = Jsonl.makeLineFramer(maxLineBytes)
  const lines: Array<string> = []
  for (const chunk of chunks) {
    const error = framer.push(chunk, lines)
    if (error !== undefined) throw new Error(`unexpected ${error.message}`)
  }
  framer.end(lines)
  return { lines, lineNumber: framer.lineNumber }
}

// ------------------------------------------------------------------------------------------- samples

const EMITTED_AT = 1_700_000_000_000

const messages: ReadonlyArray<M.AirbyteMessage> = [
  { type: "LOG", log: { level: "INFO", message: "Starting sync — naïve café 日本語 🚀" } },
  {
    type: "RECORD",
    record: { stream: "users", namespace: "public", data: { id: 1, name: "Zoë 🦊", city: "Kraków" }, emitted_at: EMITTED_AT }
  },
  {
    type: "RECORD",
    record: {
      stream: "users",
      data: { id: 2, bio: null, note: "line\nbreak\r\nand \"quotes\" \u2028" },
      emitted_at: EMITTED_AT + 1,
      meta: { changes: [{ field: "bio", change: "NULLED", reason: "SOURCE_FIELD_SIZE_LIMITATION" }] },
      extra: { kept: true }
    }
  },
  {
    type: "STATE",
    state: {
      type: "STREAM",
      stream: { stream_descriptor: { name: "users", namespace: "public" }, stream_state: { cursor: "2024-01-01" } },
      sourceStats: { recordCount: 2 },
      id: 1,
      partition_id: "9f2c"
    }
  },
  {
    type: "TRACE",
    trace: { type: "STREAM_STATUS", emitted_at: EMITTED_AT + 2, stream_status: { stream_descriptor: { name: "users" }, status: "COMPLETE" } }
  },
  { type: "STATE", state: { data: { legacy: "€" } } }
]

const linesOf = (values: ReadonlyArray<unknown>) => values.map((value) => JSON.stringify(value))

/** The sample messages with noise between them: banners, empty lines, CRLF endings, no final newline. */
const noisyText = [
  "Starting connector v1.2.3 …",
  linesOf(messages.slice(0, 2)).join("\r\n"),
  "",
  "not json",
  linesOf(messages.slice(2, 4)).join("\n"),
  "\r",
  `{"no":"type"}`,
  `{"type":"BANANA","banana":{}}`,
  linesOf(messages.slice(4)).join("\r\n")
].join("\n")
const noisyBytes = bytesOf(noisyText)
const noisyNotProtocol: ReadonlyArray<NotProtocol> = [
  { line: "Starting connector v1.2.3 …", lineNumber: 1 },
  { line: "not json", lineNumber: 5 },
  { line: `{"no":"type"}`, lineNumber: 9 },
  { line: `{"type":"BANANA","banana":{}}`, lineNumber: 10 }
]

const longRecord = (size: number): string => {
  const head = JSON.stringify({ type: "RECORD", record: { stream: "big_table", data: { blob: "" }, emitted_at: EMITTED_AT } })
  return head.replace(`"blob":""`, `"blob":"${"x".repeat(size - head.length)}"`)
}

// ----------------------------------------------------------------------------------------------- tests

describe("makeLineFramer", () => {
  it("splits lines, strips one trailing CR, keeps empty lines and returns the unterminated last line on end", () => {
    const { lines, lineNumber } = framerLines([bytesOf("a\r\nb\n\n c \rd\r\n\r\nlast")])
    assert.deepStrictEqual(lines, ["a", "b", "", " c \rd", "", "last"])
    assert.strictEqual(lineNumber, 6)
  })

  it("yields the same lines whatever the chunk boundaries", () => {
    const expected = noisyText.split("\n").map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line))
    assert.deepStrictEqual(framerLines([noisyBytes]).lines, expected)
    for (let at = 0; at <= noisyBytes.length; at++) {
      assert.deepStrictEqual(framerLines(cut(noisyBytes, [at])).lines, expected, `cut at ${at}`)
    }
    assert.deepStrictEqual(framerLines(everyByte(noisyBytes)).lines, expected)
  })

  it("copies pending bytes, so a producer may reuse its buffer", () => {
    const framer = Jsonl.makeLineFramer()
    const lines: Array<string> = []
    const buffer = bytesOf("abc")
    framer.push(buffer, lines)
    buffer.set(bytesOf("XYZ"))
    framer.push(bytesOf("def\n"), lines)
    assert.deepStrictEqual(lines, ["abcdef"])
  })

  it("end adds nothing after a terminated last line", () => {
    assert.deepStrictEqual(framerLines([bytesOf("a\n")]).lines, ["a"])
    assert.deepStrictEqual(framerLines([]).lines, [])
  })
})

describe("decodeLine", () => {
  it("decodes a protocol message, keeping unknown fields", () => {
    const line = JSON.stringify(messages[2])
    assert.deepStrictEqual(Jsonl.decodeLine(line, 1), { _tag: "Message", message: messages[2]! })
    const plain = JSON.stringify({ ...messages[1], extra: [1] })
    assert.deepStrictEqual(Jsonl.decodeLine(plain, 1), { _tag: "Message", message: JSON.parse(plain) })
  })

  it("treats anything without a known string type as not protocol", () => {
    const lines = [
      "",
      "hello",
      "[1,2]",
      `"RECORD"`,
      "{not json",
      `{"record":{"stream":"s","data":{},"emitted_at":1}}`,
      `{"type":1}`,
      `{"type":null}`,
      `{"type":"record"}`,
      `{"type":"BANANA"}`,
      // Names inherited from Object.prototype are not message types either.
      `{"type":"constructor"}`,
      `{"type":"toString"}`,
      `{"type":"__proto__"}`,
      `{"type":"hasOwnProperty"}`
    ]
    for (const line of lines) assert.deepStrictEqual(Jsonl.decodeLine(line, 1), { _tag: "NotProtocol", line }, line)
  })

  it("reports an invalid message with its line number, type and the failing path", () => {
    const line = `{"type":"RECORD","record":{"stream":42,"data":{},"emitted_at":1}}`
    const decoded = Jsonl.decodeLine(line, 7)
    if (decoded._tag !== "Invalid") return assert.fail(`expected Invalid, got ${decoded._tag}`)
    assert.strictEqual(decoded.error.lineNumber, 7)
    assert.strictEqual(decoded.error.messageType, "RECORD")
    assert.include(decoded.error.detail, `["record"]["stream"]`)
    assert.notInclude(decoded.error.detail, "\n")
    assert.strictEqual(decoded.error.excerpt, line)
    assert.match(decoded.error.message, /^line 7: invalid RECORD message: /)
  })

  it("cuts the excerpt of a long invalid line", () => {
    const line = JSON.stringify({ type: "LOG", log: { level: "LOUD", message: "x".repeat(500) } })
    const decoded = Jsonl.decodeLine(line, 1)
    if (decoded._tag !== "Invalid") return assert.fail(`expected Invalid, got ${decoded._tag}`)
    assert.strictEqual(decoded.error.excerpt, `${line.slice(0, 200)}…`)
    assert.include(decoded.error.detail, `["log"]["level"]`)
  })
})

describe("decodeMessages", () => {
  it.effect("decodes messages among noise, reporting non-protocol lines with their line numbers", () =>
    Effect.gen(function*() {
      const { messages: decoded, notProtocol } = yield* decodeWithNotProtocol([noisyBytes])
      assert.deepStrictEqual(decoded, [...messages])
      assert.deepStrictEqual(notProtocol, noisyNotProtocol)
    }))

  it.effect("yields the same messages and line numbers when split at every byte boundary", () =>
    Effect.gen(function*() {
      for (let at = 0; at <= noisyBytes.length; at++) {
        const { messages: decoded, notProtocol } = yield* decodeWithNotProtocol(cut(noisyBytes, [at]))
        assert.deepStrictEqual(decoded, [...messages], `cut at ${at}`)
        assert.deepStrictEqual(notProtocol, noisyNotProtocol, `cut at ${at}`)
      }
      const { messages: decoded, notProtocol } = yield* decodeWithNotProtocol(everyByte(noisyBytes))
      assert.deepStrictEqual(decoded, [...messages])
      assert.deepStrictEqual(notProtocol, noisyNotProtocol)
    }))

  it.effect("yields the same messages for random chunkings, several buffers per stream chunk", () =>
    Effect.gen(function*() {
      const next = random(20_240_101)
      for (let run = 0; run < 300; run++) {
        const buffers = randomChunks(noisyBytes, next, 1 + (run % 40))
        const groups: Array<Array<Uint8Array>> = []
        for (const buffer of buffers) {
          if (groups.length === 0 || next() < 0.5) groups.push([buffer])
          else groups[groups.length - 1]!.push(buffer)
        }
        const decoded = yield* streamOf(groups).pipe(Jsonl.decodeMessages(), Stream.runCollect)
        assert.deepStrictEqual(decoded, [...messages], `run ${run}`)
      }
    }))

  it.effect("decodes multi-byte UTF-8 characters split across chunks", () =>
    Effect.gen(function*() {
      const text = "ä€𝄞🚀日本"
      const message: M.AirbyteMessage = { type: "LOG", log: { level: "INFO", message: text } }
      const bytes = bytesOf(`${JSON.stringify(message)}\n${text}\n`)
      const start = bytes.indexOf(0xc3) // the first byte of "ä"
      for (let at = start; at < start + bytesOf(text).length; at++) {
        const { messages: decoded, notProtocol } = yield* decodeWithNotProtocol(cut(bytes, [at, at + 1, at + 2]))
        assert.deepStrictEqual(decoded, [message], `cut at ${at}`)
        assert.deepStrictEqual(notProtocol, [{ line: text, lineNumber: 2 }])
      }
    }))

  it.effect("accepts CRLF line endings, including a CR and LF in different chunks", () =>
    Effect.gen(function*() {
      const bytes = bytesOf(linesOf(messages).join("\r\n") + "\r\n")
      assert.deepStrictEqual(yield* decode([bytes]), [...messages])
      const crAt = bytes.indexOf(0x0d)
      assert.deepStrictEqual(yield* decode(cut(bytes, [crAt + 1])), [...messages])
    }))

  it.effect("decodes an unterminated final line", () =>
    Effect.gen(function*() {
      const bytes = bytesOf(linesOf(messages).join("\n"))
      assert.deepStrictEqual(yield* decode([bytes]), [...messages])
      assert.deepStrictEqual(yield* decode(everyByte(bytes)), [...messages])
      const { notProtocol } = yield* decodeWithNotProtocol([bytesOf(`${linesOf(messages).join("\n")}\nbye`)])
      assert.deepStrictEqual(notProtocol, [{ line: "bye", lineNumber: messages.length + 1 }])
    }))

  it.effect("skips empty and blank lines without reporting them, but counts them", () =>
    Effect.gen(function*() {
      const [first, second] = linesOf(messages)
      const bytes = bytesOf(`\n\r\n   \n${first}\n\n\t\n${second}\n\nbanner\n\n`)
      const { messages: decoded, notProtocol } = yield* decodeWithNotProtocol([bytes])
      assert.deepStrictEqual(decoded, messages.slice(0, 2))
      assert.deepStrictEqual(notProtocol, [{ line: "banner", lineNumber: 9 }])
      assert.deepStrictEqual(yield* decode([bytesOf("\n\n\r\n")]), [])
      assert.deepStrictEqual(yield* decode([]), [])
    }))

  it.effect("does not emit non-protocol lines even without an onNotProtocol callback", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* decode([noisyBytes]), [...messages])
    }))

  it.effect("fails with InvalidMessage naming the line and the type", () =>
    Effect.gen(function*() {
      const invalid = `{"type":"RECORD","record":{"stream":7,"data":{},"emitted_at":1}}`
      const bytes = bytesOf(`banner\n${linesOf(messages.slice(0, 2)).join("\n")}\n${invalid}\n${linesOf(messages).join("\n")}\n`)
      for (const buffers of [[bytes], everyByte(bytes)]) {
        const error = yield* Effect.flip(decode(buffers))
        assert.instanceOf(error, Jsonl.InvalidMessage)
        assert.strictEqual(error._tag, "InvalidMessage")
        if (!(error instanceof Jsonl.InvalidMessage)) return
        assert.strictEqual(error.lineNumber, 4)
        assert.strictEqual(error.messageType, "RECORD")
        assert.include(error.detail, `["record"]["stream"]`)
        assert.include(error.message, "line 4: invalid RECORD message")
      }
    }))

  it.effect("fails with InvalidMessage on an unterminated invalid last line", () =>
    Effect.gen(function*() {
      const bytes = bytesOf(`${linesOf(messages).join("\n")}\n{"type":"LOG","log":{"level":"LOUD","message":"x"}}`)
      const error = yield* Effect.flip(decode([bytes]))
      assert.instanceOf(error, Jsonl.InvalidMessage)
      if (!(error instanceof Jsonl.InvalidMessage)) return
      assert.strictEqual(error.lineNumber, messages.length + 1)
      assert.strictEqual(error.messageType, "LOG")
      assert.include(error.detail, `["log"]["level"]`)
    }))

  it.effect("emits the messages of earlier chunks before failing", () =>
    Effect.gen(function*() {
      const invalid = `{"type":"STATE","state":{"type":"SOMETIMES"}}\n`
      const seen: Array<M.AirbyteMessage> = []
      const error = yield* oneBufferPerChunk([bytesOf(linesOf(messages.slice(0, 3)).join("\n") + "\n"), bytesOf(invalid)]).pipe(
        Jsonl.decodeMessages(),
        Stream.runForEach((message) => Effect.sync(() => seen.push(message))),
        Effect.flip
      )
      assert.instanceOf(error, Jsonl.InvalidMessage)
      assert.deepStrictEqual(seen, messages.slice(0, 3))
    }))

  it.effect("emits the messages before a bad line of the same chunk before failing, whatever the chunking", () =>
    Effect.gen(function*() {
      const text = linesOf(messages.slice(0, 3)).join("\n") + "\n" + `{"type":"STATE","state":{"type":"SOMETIMES"}}\n` +
        linesOf(messages.slice(3, 4)).join("\n") + "\n"
      for (const chunks of [[bytesOf(text)], everyByte(bytesOf(text))]) {
        const seen: Array<M.AirbyteMessage> = []
        const error = yield* oneBufferPerChunk(chunks).pipe(
          Jsonl.decodeMessages(),
          Stream.runForEach((message) => Effect.sync(() => seen.push(message))),
          Effect.flip
        )
        assert.instanceOf(error, Jsonl.InvalidMessage)
        assert.deepStrictEqual(seen, messages.slice(0, 3))
      }
    }))

  it.effect("emits the messages before an oversized line of the same chunk before failing", () =>
    Effect.gen(function*() {
      const text = linesOf(messages.slice(0, 2)).join("\n") + "\n" + longRecord(400) + "\n"
      const seen: Array<M.AirbyteMessage> = []
      const error = yield* oneBufferPerChunk([bytesOf(text)]).pipe(
        Jsonl.decodeMessages({ maxLineBytes: 256 }),
        Stream.runForEach((message) => Effect.sync(() => seen.push(message))),
        Effect.flip
      )
      assert.instanceOf(error, Jsonl.LineTooLong)
      assert.deepStrictEqual(seen, messages.slice(0, 2))
    }))
})

describe("decodeMessages: the line-size cap", () => {
  const MAX = 256
  const long = longRecord(MAX + 100)
  const lineNumberOfLong = 3
  const prefix = `${linesOf(messages.slice(0, 2)).join("\n")}\n`

  const assertTooLong = (error: unknown, context: string) => {
    assert.instanceOf(error, Jsonl.LineTooLong, context)
    if (!(error instanceof Jsonl.LineTooLong)) return
    assert.strictEqual(error.lineNumber, lineNumberOfLong, context)
    assert.strictEqual(error.maxBytes, MAX, context)
    assert.isAbove(error.sizeBytes, MAX, context)
    assert.isAtMost(error.sizeBytes, long.length, context)
    assert.strictEqual(error.stream, "big_table", context)
    assert.include(error.message, `line ${lineNumberOfLong} of stream 'big_table'`, context)
    assert.include(error.message, `${error.sizeBytes} bytes`, context)
    assert.include(error.message, `maximum of ${MAX} bytes`, context)
  }

  it.effect("fails with LineTooLong naming the stream and the size, in one chunk", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(decode([bytesOf(`${prefix}${long}\n${prefix}`)], { maxLineBytes: MAX }))
      assertTooLong(error, "one chunk")
      if (error instanceof Jsonl.LineTooLong) assert.strictEqual(error.sizeBytes, long.length)
    }))

  it.effect("fails with LineTooLong when the long line arrives over many chunks", () =>
    Effect.gen(function*() {
      const bytes = bytesOf(`${prefix}${long}\n${prefix}`)
      for (const size of [1, 7, 64, MAX - 1, MAX, MAX + 1]) {
        const buffers = cut(bytes, Array.from({ length: Math.floor(bytes.length / size) }, (_, i) => (i + 1) * size))
        assertTooLong(yield* Effect.flip(decode(buffers, { maxLineBytes: MAX })), `chunks of ${size} bytes`)
      }
      const next = random(7)
      for (let run = 0; run < 50; run++) {
        assertTooLong(yield* Effect.flip(decode(randomChunks(bytes, next, 40), { maxLineBytes: MAX })), `random ${run}`)
      }
    }))

  it.effect("fails with LineTooLong when the long line is the unterminated last line", () =>
    Effect.gen(function*() {
      const bytes = bytesOf(`${prefix}${long}`)
      assertTooLong(yield* Effect.flip(decode([bytes], { maxLineBytes: MAX })), "one chunk")
      assertTooLong(yield* Effect.flip(decode(everyByte(bytes), { maxLineBytes: MAX })), "every byte")
      assertTooLong(yield* Effect.flip(decode(cut(bytes, [prefix.length + 10]), { maxLineBytes: MAX })), "two chunks")
    }))

  it.effect("counts bytes, not characters, and names no stream when there is none", () =>
    Effect.gen(function*() {
      const line = JSON.stringify({ type: "LOG", log: { level: "INFO", message: "€".repeat(100) } })
      assert.isBelow(line.length, MAX)
      const error = yield* Effect.flip(decode([bytesOf(`${line}\n`)], { maxLineBytes: MAX }))
      assert.instanceOf(error, Jsonl.LineTooLong)
      if (!(error instanceof Jsonl.LineTooLong)) return
      assert.strictEqual(error.lineNumber, 1)
      assert.strictEqual(error.sizeBytes, bytesOf(line).length)
      assert.isUndefined(error.stream)
      assert.notInclude(error.message, "of stream")
    }))

  it.effect("by default allows large records (4 MiB)", () =>
    Effect.gen(function*() {
      const line = longRecord(4 * 1024 * 1024)
      assert.deepStrictEqual(yield* decode([bytesOf(`${line}\n`)]), [JSON.parse(line)])
    }))

  it.effect("accepts lines of exactly the maximum, with LF or CRLF", () =>
    Effect.gen(function*() {
      const line = longRecord(MAX)
      assert.strictEqual(bytesOf(line).length, MAX)
      const expected = [JSON.parse(line), JSON.parse(line), JSON.parse(line)]
      const bytes = bytesOf(`${line}\n${line}\r\n${line}`)
      assert.deepStrictEqual(yield* decode([bytes], { maxLineBytes: MAX }), expected)
      assert.deepStrictEqual(yield* decode(everyByte(bytes), { maxLineBytes: MAX }), expected)
    }))
})

describe("decodeMessages: batching", () => {
  it.effect("emits one output chunk per input chunk that holds messages, none per line", () =>
    Effect.gen(function*() {
      const [a, b, c, d, e, f] = linesOf(messages)
      const half = Math.floor(d!.length / 2)
      const chunks = [
        [bytesOf(`${a}\n${b}\n${c}\n`)],
        [bytesOf(`${d!.slice(0, half)}`)],
        [bytesOf(`${d!.slice(half)}\nbanner\n`), bytesOf(`${e}\n`)],
        [bytesOf("just a banner\n\n")],
        [bytesOf(f!)]
      ]
      assert.deepStrictEqual(yield* outputChunkSizes(chunks), [3, 2, 1])
    }))

  it.effect("decodes a large input chunk into a single output chunk", () =>
    Effect.gen(function*() {
      const line = JSON.stringify(messages[1])
      const bytes = bytesOf(`${line}\n`.repeat(10_000))
      assert.deepStrictEqual(yield* outputChunkSizes([[bytes]]), [10_000])
      assert.deepStrictEqual(yield* outputChunkSizes([[bytes], [bytes]]), [10_000, 10_000])
    }))
})

describe("encodeBatch / encodeMessages", () => {
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

  it("writes one JSON line per message, valid against the official schema", () => {
    const encoded = text(Jsonl.encodeBatch(messages))
    assert.strictEqual(encoded, linesOf(messages).map((line) => `${line}\n`).join(""))
    Official.assertValidLines(encoded)
    assert.strictEqual(encoded.split("\n").length, messages.length + 1)
    assert.strictEqual(Jsonl.encodeBatch([]).length, 0)
  })

  it("the official-schema check catches an invalid line, with its line number", () => {
    const bad = `${linesOf(messages.slice(0, 2)).join("\n")}\n{"type":"RECORD","record":{"stream":"s","data":[],"emitted_at":1}}\n`
    assert.throws(() => Official.assertValidLines(bad), /line 3: \/record\/data must be object/)
    assert.throws(() => Official.assertValidLines("not json\n"), /line 1: not JSON/)
  })

  it.effect("encodeBatch then decodeMessages gives back the input", () =>
    Effect.gen(function*() {
      const bytes = Jsonl.encodeBatch(messages)
      const decoded = yield* decode([bytes])
      assert.deepStrictEqual(decoded, [...messages])
      for (const message of decoded) Official.assertValidAirbyteMessage(message)
      const next = random(99)
      for (let run = 0; run < 20; run++) {
        assert.deepStrictEqual(yield* decode(randomChunks(bytes, next, 16)), [...messages], `run ${run}`)
      }
    }))

  it.effect("encodeMessages writes one buffer per batch and round-trips", () =>
    Effect.gen(function*() {
      const buffers = yield* Stream.fromArrays(messages.slice(0, 2), messages.slice(2, 3), messages.slice(3)).pipe(
        Jsonl.encodeMessages,
        Stream.runCollect
      )
      assert.strictEqual(buffers.length, 3)
      for (const buffer of buffers) Official.assertValidLines(text(buffer))
      assert.deepStrictEqual(yield* decode(buffers), [...messages])
    }))
})
