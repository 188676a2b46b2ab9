/**
 * The kit's RecordWriter: the JSONL bytes are exactly JSON.stringify of the object the same calls
 * build (escapes, non-ASCII, every kind of number, timestamps in and out of the fast range, nesting,
 * parts); slabs are reused only after every batch taken from them was released; RecordLines get their
 * partition ids, parse back and are released once copied.
 */
import { assert, describe, it } from "@effect/vitest"
import { BufferPool } from "../../../src/engine/kit/BufferPool.ts"
import { fieldKey, isoTimestamp, JsonLinesWriter, ObjectRecordWriter, type RecordWriter } from "../../../src/engine/kit/RecordWriter.ts"
import * as Jsonl from "../../../src/engine/protocol/Jsonl.ts"
import { jsonlBytes, MalformedRecordLines, recordsOf, type RecordLines } from "../../../src/engine/protocol/RecordLines.ts"
import * as FakerData from "../../../src/plugins/faker/FakerData.ts"

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8")

/** Writes `write`'s fields with both writers and checks the bytes against JSON.stringify of the object. */
const agree = (write: (w: RecordWriter) => void, namespace?: string) => {
  const objects = new ObjectRecordWriter()
  objects.begin()
  write(objects)
  const data = objects.end()
  const lines = new JsonLinesWriter("st\u00e9ream \"x\"", namespace)
  lines.begin()
  write(lines)
  lines.end(1_700_000_000_123)
  const taken = lines.take()
  assert.isDefined(taken)
  const record = namespace === undefined
    ? { stream: "st\u00e9ream \"x\"", data, emitted_at: 1_700_000_000_123 }
    : { stream: "st\u00e9ream \"x\"", namespace, data, emitted_at: 1_700_000_000_123 }
  assert.strictEqual(text(taken!.bytes), JSON.stringify({ type: "RECORD", record }) + "\n")
  assert.deepStrictEqual(taken!.ends, [taken!.bytes.length])
  return data
}

const k = fieldKey

describe("RecordWriter", () => {
  it("writes strings as JSON.stringify does: escapes, control characters, non-ASCII, lone surrogates", () => {
    const values = ["", "plain", "quote \" and \\ backslash", "line\nbreak\ttab\u0000nul\u001f", "caf\u00e9 \u20ac \ud83d\ude00", "lone \ud800 surrogate", "\u007f del"]
    for (const value of values) agree((w) => w.string(k("v"), value))
    agree((w) => w.string(k("key \"with\" escapes \u00e9"), "x"))
    agree((w) => w.stringArray(k("list"), values))
    agree((w) => w.stringArray(k("empty"), []))
  })

  it("writes every kind of number as JSON.stringify does", () => {
    const numbers = [
      0, -0, 1, -1, 9, 10, 99, 100, 12345678, 99_999_999, 100_000_000, 100_000_001, 1_700_000_000_123, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 7,
      Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 53, 1e21, 1.5e300, -2.5e-300, 5e-324, 0.1, 0.05, 0.07, 1.05, 12.5, 99.99, 8833.99,
      -8833.99, 0.1 + 0.2, 1 / 3, 123456789.12, 999_999_999.99, 1_000_000_000.5, 1e-7, 0.000001, 123.456, 1e15 + 0.25
    ]
    for (const n of numbers) {
      agree((w) => w.number(k("n"), n))
      if (Number.isSafeInteger(n)) agree((w) => w.int(k("i"), n))
    }
    // Random amounts and random doubles.
    let seed = 42
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed / 2147483648
    }
    for (let i = 0; i < 2000; i++) {
      // Drawn before `agree`, which runs the calls once per writer.
      const cents = Math.round(next() * 1e11) / 100
      const double = (next() - 0.5) * 10 ** Math.floor(next() * 30 - 10)
      agree((w) => w.number(k("a"), cents))
      agree((w) => w.number(k("d"), double))
    }
  })

  it("writes timestamps as Date#toISOString does, in and out of years 0000-9999", () => {
    const times = [0, -1, 1, Date.UTC(2024, 0, 1), Date.UTC(2024, 1, 29, 23, 59, 59, 999), -62_167_219_200_000, -62_167_219_200_001, 253_402_300_799_999, 253_402_300_800_000, 8.64e15, -8.64e15]
    let seed = 7
    for (let i = 0; i < 500; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648
      times.push(Math.floor((seed / 2147483648 - 0.5) * 2 * 8.64e15))
    }
    for (const ms of times) {
      assert.strictEqual(isoTimestamp(ms), new Date(ms).toISOString(), String(ms))
      agree((w) => w.timestamp(k("t"), ms))
    }
  })

  it("nests objects, builds strings from parts and keeps the field order", () => {
    const data = agree((w) => {
      w.int(k("id"), 1)
      w.openObject(k("address"))
      w.openObject(k("geo"))
      w.number(k("lat"), 48.85)
      w.closeObject()
      w.openObject(k("empty"))
      w.closeObject()
      w.string(k("city"), "Lyon")
      w.closeObject()
      w.openString(k("token"))
      w.part("t-")
      w.partInt(1_700_000_000_123)
      w.part("-\"q\"-")
      w.partHex32(0)
      w.partHex32(0xdeadbeef)
      w.partHex32(0xffffffff)
      w.closeString()
      w.openString(k("nothing"))
      w.closeString()
      w.boolean(k("yes"), true)
      w.boolean(k("no"), false)
      w.null(k("none"))
    }, "public")
    assert.deepStrictEqual(data, {
      id: 1,
      address: { geo: { lat: 48.85 }, empty: {}, city: "Lyon" },
      token: "t-1700000000123-\"q\"-00000000deadbeefffffffff",
      nothing: "",
      yes: true,
      no: false,
      none: null
    })
  })

  it("grows past its first buffer, and take() hands over the lines written since the last take", () => {
    const w = new JsonLinesWriter("big")
    const huge = "x".repeat(300_000)
    for (let i = 0; i < 3; i++) {
      w.begin()
      w.int(k("i"), i)
      w.string(k("s"), i === 1 ? huge : "small")
      w.end(i)
    }
    const first = w.take()!
    assert.strictEqual(w.take(), undefined)
    const lines = text(first.bytes).split("\n").slice(0, -1)
    assert.deepStrictEqual(lines.map((l) => JSON.parse(l).record.data.i), [0, 1, 2])
    assert.deepStrictEqual(first.ends, lines.map((_, i) => lines.slice(0, i + 1).join("\n").length + 1))
    w.begin()
    w.int(k("i"), 3)
    w.end(3)
    assert.strictEqual(text(w.take()!.bytes), `{"type":"RECORD","record":{"stream":"big","data":{"i":3},"emitted_at":3}}\n`)
  })

  it("writes over a slab only once every batch taken from it was released", () => {
    const w = new JsonLinesWriter("s")
    const batch = (from: number, n: number) => {
      for (let i = from; i < from + n; i++) {
        w.begin()
        w.int(k("i"), i)
        w.string(k("pad"), "p".repeat(1000))
        w.end(i)
      }
      return w.take()!
    }
    const ids = (lines: RecordLines) => text(lines.bytes).split("\n").slice(0, -1).map((l) => JSON.parse(l).record.data.i)
    // Released between batches: every batch starts at the beginning of the same memory.
    const first = batch(0, 10)
    first.release!()
    first.release!() // a second release changes nothing
    const second = batch(10, 10)
    assert.strictEqual(second.bytes.buffer, first.bytes.buffer)
    assert.strictEqual(second.bytes.byteOffset, 0)
    // Held: ~3 MB are written after it, over several slabs, and it still reads as written.
    const held = batch(20, 10)
    const heldText = text(held.bytes)
    second.release!()
    const later: Array<RecordLines> = []
    for (let b = 0; b < 300; b++) {
      const lines = batch(30 + b * 10, 10)
      if (b % 3 === 0) later.push(lines)
      else lines.release!()
    }
    assert.strictEqual(text(held.bytes), heldText)
    later.forEach((lines, j) => assert.deepStrictEqual(ids(lines), Array.from({ length: 10 }, (_, i) => 30 + j * 30 + i)))
    // Once everything is released the writer settles on one slab again.
    held.release!()
    for (const lines of later) lines.release!()
    const settled = batch(5000, 1)
    settled.release!()
    const next = batch(5001, 1)
    assert.strictEqual(next.bytes.buffer, settled.bytes.buffer)
    assert.deepStrictEqual(ids(next), [5001])
  })

  it("keeps the record in progress when a slab is reused under it", () => {
    const w = new JsonLinesWriter("s")
    const big = "b".repeat(200_000)
    const write = (i: number) => {
      w.begin()
      w.int(k("i"), i)
      w.string(k("pad"), big)
      w.end(i)
    }
    // Four records fill most of the first slab, are taken and released; the fifth outgrows what is left
    // and moves, half written, to the start of the same slab.
    for (let i = 0; i < 4; i++) write(i)
    w.take()!.release!()
    for (let i = 4; i < 10; i++) write(i)
    const lines = w.take()!
    const records = text(lines.bytes).split("\n").slice(0, -1).map((l) => JSON.parse(l).record.data)
    assert.deepStrictEqual(records.map((d) => d.i), [4, 5, 6, 7, 8, 9])
    assert.isTrue(records.every((d) => d.pad === big))
  })

  it("writes faker's records byte for byte as JSON.stringify of its objects", () => {
    for (const stream of FakerData.STREAMS) {
      const w = new JsonLinesWriter(stream.name)
      let expected = ""
      for (let i = 0; i < 3000; i++) {
        w.begin()
        FakerData.writeRecord(w, stream, 11, i, 3000)
        w.end(i)
        expected += JSON.stringify({ type: "RECORD", record: { stream: stream.name, data: FakerData.generate(stream, 11, i, 3000), emitted_at: i } }) + "\n"
      }
      assert.strictEqual(text(w.take()!.bytes), expected, stream.name)
    }
  })
})

describe("RecordLines", () => {
  const linesOf = (partitionId?: string): RecordLines => {
    const w = new JsonLinesWriter("users", "ns")
    for (let i = 0; i < 3; i++) {
      w.begin()
      w.int(k("id"), i)
      w.string(k("name"), `n${i} "é"`)
      w.end(100 + i)
    }
    const lines = w.take()!
    return partitionId === undefined ? lines : { ...lines, partitionId }
  }

  it("adds the partition id to every line, as the socket router does for RECORD objects", () => {
    const plain = linesOf()
    assert.strictEqual(jsonlBytes(plain), plain.bytes)
    const tagged = jsonlBytes(linesOf("AbC\"1"))
    assert.notInstanceOf(tagged, MalformedRecordLines)
    const expected = [0, 1, 2].map((i) =>
      JSON.stringify({ type: "RECORD", record: { stream: "users", namespace: "ns", data: { id: i, name: `n${i} "é"` }, emitted_at: 100 + i, partition_id: "AbC\"1" } })
    ).join("\n") + "\n"
    assert.strictEqual(text(tagged as Uint8Array), expected)
    // What the destination kit decodes from them is what it decodes from the stringified objects.
    const decoded = text(tagged as Uint8Array).split("\n").slice(0, -1).map((line) => Jsonl.decodeLine(line, 1))
    assert.deepStrictEqual(decoded, expected.split("\n").slice(0, -1).map((line) => Jsonl.decodeLine(line, 1)))
  })

  it("parses back to RECORD messages, with the partition id when set", () => {
    const records = recordsOf(linesOf("p1"))
    assert.notInstanceOf(records, MalformedRecordLines)
    assert.deepStrictEqual(records, [0, 1, 2].map((i) => ({
      type: "RECORD",
      record: { stream: "users", namespace: "ns", data: { id: i, name: `n${i} "é"` }, emitted_at: 100 + i, partition_id: "p1" }
    })))
  })

  it("are released once their bytes are copied, and not while they are the result itself", () => {
    const pool = new BufferPool(64 * 1024, 4)
    const plain = linesOf()
    let released = 0
    const counted = (lines: RecordLines): RecordLines => ({ ...lines, release: () => released++ })
    // Alone and without a partition the lines are the result: the caller releases them once written.
    assert.strictEqual(Jsonl.encodeSourceBatch([counted(plain)], pool), plain.bytes)
    assert.strictEqual(released, 0)
    // Tagged: copied into a pooled buffer, released at once.
    const tagged = Jsonl.encodeSourceBatch([counted({ ...plain, partitionId: "p" })], pool) as Uint8Array
    assert.strictEqual(released, 1)
    assert.strictEqual(pool.outstanding, 1)
    assert.include(text(tagged), `"partition_id":"p"`)
    pool.release(tagged)
    assert.strictEqual(pool.outstanding, 0)
    // With other messages: joined into new bytes; the lines and the pooled part are given back.
    const state = { type: "STATE", state: { type: "LEGACY", data: { c: 1 } } } as const
    const joined = Jsonl.encodeSourceBatch([counted(plain), counted({ ...plain, partitionId: "q" }), state], pool) as Uint8Array
    assert.strictEqual(released, 3)
    assert.strictEqual(pool.outstanding, 0)
    assert.strictEqual(text(joined).split("\n").length, 8)
  })

  it("rejects lines that are not RECORDs of their stream", () => {
    const good = linesOf()
    const bytes = new TextEncoder().encode(`{"type":"STATE","state":{"type":"LEGACY","data":{}}}\n`)
    const wrongType: RecordLines = { ...good, bytes, ends: [bytes.length] }
    assert.instanceOf(recordsOf(wrongType), MalformedRecordLines)
    assert.instanceOf(recordsOf({ ...good, stream: "other" }), MalformedRecordLines)
    const truncated: RecordLines = { ...good, bytes: good.bytes.subarray(0, good.ends[0]! - 2), ends: [good.ends[0]! - 2], partitionId: "p" }
    const error = jsonlBytes(truncated)
    assert.instanceOf(error, MalformedRecordLines)
    assert.include((error as MalformedRecordLines).message, "record line 1 written for stream 'users'")
  })
})
