/**
 * Tests of SLUICE_PROTOBUF record data (a message type per stream): whatever `data` holds, the decoded
 * record is what JSONL would carry — `JSON.parse(JSON.stringify(data))`, keys in the same order.
 */
import { assert, describe, it } from "@effect/vitest"
import protobuf from "protobufjs"
import type * as M from "../../../src/engine/protocol/AirbyteMessage.ts"
import * as P from "../../../src/engine/protocol/Protobuf.ts"
import * as T from "../../../src/engine/protocol/TypedRows.ts"

const stream: M.AirbyteStream = {
  name: "t",
  supported_sync_modes: ["full_refresh"],
  json_schema: {
    type: "object",
    properties: {
      id: { type: "integer" },
      price: { type: ["null", "number"] },
      name: { type: "string" },
      at: { type: "string", format: "date-time" },
      ok: { type: "boolean" },
      tags: { type: "array", items: { type: "string" } },
      nested: { type: "object" },
      any: {},
      either: { type: ["string", "integer"] }
    }
  }
}
const catalog = { streams: [stream] }

const record = (data: M.JsonObject, extra: Partial<M.AirbyteRecordMessage> = {}): M.AirbyteRecordMessage => ({
  stream: "t",
  data,
  emitted_at: 1_700_000_000_000,
  ...extra
})

const decode = (bytes: Uint8Array) => {
  const out: Array<M.AirbyteMessage> = []
  const error = P.makeFrameDecoder({ catalog }).push(bytes, out)
  return { out, error }
}

const roundTrip = (input: M.AirbyteRecordMessage, onFields?: P.FieldReporter): M.AirbyteRecordMessage => {
  const bytes = P.makeFrameEncoder(catalog, { typed: true, onFields }).encodeRecords([input])
  assert.instanceOf(bytes, Uint8Array)
  const { out, error } = decode(bytes as Uint8Array)
  assert.isUndefined(error)
  const message = out[0]
  if (message?.type !== "RECORD") throw new Error("no record decoded")
  return message.record
}

/** What JSONL carries for `data`. */
const viaJson = (data: unknown): unknown => JSON.parse(JSON.stringify(data))

const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const randomValue = (rand: () => number, depth = 0): unknown => {
  const pick = Math.floor(rand() * (depth > 1 ? 8 : 10))
  switch (pick) {
    case 0: return null
    case 1: return Math.floor(rand() * 2 ** 40) - 2 ** 39
    case 2: return (rand() - 0.5) * 1e6
    case 3: return `s${Math.floor(rand() * 1000)} ✓ "quoted" \\ ${String.fromCharCode(Math.floor(rand() * 32))}`
    case 4: return rand() < 0.5
    case 5: return 2 ** 60 + Math.floor(rand() * 10) * 2 ** 10
    case 6: return new Date(Math.floor(rand() * 2e12)).toISOString()
    case 7: return rand() < 0.5 ? -0 : Number.NaN
    case 8: return Array.from({ length: Math.floor(rand() * 3) }, () => randomValue(rand, depth + 1))
    default: return Object.fromEntries(Array.from({ length: Math.floor(rand() * 3) }, (_, i) => [`k${i}`, randomValue(rand, depth + 1)]))
  }
}

const KEYS = ["id", "price", "name", "at", "ok", "tags", "nested", "any", "either", "extra_a", "extra b"]

describe("SLUICE_PROTOBUF record data", () => {
  it("gives back what JSONL would carry for random data, keys in the source's order", () => {
    const rand = prng(7)
    for (let n = 0; n < 2000; n++) {
      const data: Record<string, unknown> = {}
      for (const key of [...KEYS].sort(() => rand() - 0.5)) if (rand() < 0.7) data[key] = randomValue(rand)
      const output = roundTrip(record(data as M.JsonObject))
      assert.deepStrictEqual(output.data, viaJson(data))
      assert.strictEqual(JSON.stringify(output.data), JSON.stringify(data))
    }
  })

  it("keeps keys the schema does not declare (the generic value list drops them) and reports nothing", () => {
    const reports: Array<P.FieldReport> = []
    const output = roundTrip(record({ id: 1, surprise: { deep: [1, "x"] } }), (r) => reports.push(r))
    assert.deepStrictEqual(output.data, { id: 1, surprise: { deep: [1, "x"] } })
    assert.deepStrictEqual(reports, [])
  })

  it("leaves out keys whose value is undefined, as JSON does", () => {
    const data = { id: 1, name: undefined, other: undefined } as unknown as M.JsonObject
    assert.deepStrictEqual(roundTrip(record(data)).data, { id: 1 })
  })

  it("nulls values JSON cannot hold, with a NULLED change, and reports them", () => {
    const reports: Array<P.FieldReport> = []
    const cyclic: Record<string, unknown> = {}
    cyclic["self"] = cyclic
    const data = { id: 1n, nested: cyclic, weird: 2n } as unknown as M.JsonObject
    const output = roundTrip(record(data), (r) => reports.push(r))
    assert.deepStrictEqual(output.data, { id: null, nested: null, weird: null })
    assert.deepStrictEqual(output.meta?.changes?.map((c) => `${c.field}:${c.change}:${c.reason}`), [
      "id:NULLED:PLATFORM_SERIALIZATION_ERROR",
      "nested:NULLED:PLATFORM_SERIALIZATION_ERROR",
      "weird:NULLED:PLATFORM_SERIALIZATION_ERROR"
    ])
    assert.deepStrictEqual(reports.map((r) => [r.dropped, r.nulled]), [[[], ["id", "nested", "weird"]]])
  })

  it("keeps partition_id, namespace, emitted_at and meta changes", () => {
    const input = record({ id: 3 }, {
      partition_id: "p1",
      meta: { changes: [{ field: "name", change: "TRUNCATED", reason: "SOURCE_FIELD_SIZE_LIMITATION" }] }
    })
    assert.deepStrictEqual(roundTrip(input), input)
  })

  it("handles properties named like Object.prototype members", () => {
    const odd: M.AirbyteStream = { ...stream, json_schema: JSON.parse(`{"properties": {"__proto__": {"type": "integer"}, "constructor": {"type": "string"}}}`) }
    const data = JSON.parse(`{"__proto__": 5, "constructor": "c", "toString": 1}`)
    const bytes = P.makeFrameEncoder({ streams: [odd] }, { typed: true }).encodeRecords([record(data)]) as Uint8Array
    const out: Array<M.AirbyteMessage> = []
    assert.isUndefined(P.makeFrameDecoder({ catalog: { streams: [odd] } }).push(bytes, out))
    const decoded = out[0]?.type === "RECORD" ? out[0].record.data : undefined
    assert.strictEqual(JSON.stringify(decoded), JSON.stringify(data))
    assert.isTrue(Object.hasOwn(decoded ?? {}, "__proto__"))
  })

  it("writes smaller frames than JSON for a typical record", () => {
    const data = { id: 123456, price: 19.99, name: "Ergonomic Chair", at: "2024-01-02T03:04:05.678Z", ok: true }
    const bytes = P.makeFrameEncoder(catalog, { typed: true }).encodeRecords([record(data)]) as Uint8Array
    assert.isBelow(bytes.length, JSON.stringify({ type: "RECORD", record: record(data) }).length)
  })

  it("fails with MalformedFrame on a field with the wrong wire type or an unknown field number", () => {
    const frame = (write: (w: protobuf.Writer) => void) => {
      const w = protobuf.Writer.create()
      w.fork().uint32(1 * 8 + 2).fork() // Frame.row
      w.uint32(2 * 8 + 2).string("t") // Row.stream
      w.uint32(100 * 8 + 2).fork() // Row.sluice_data
      write(w)
      w.ldelim().ldelim().ldelim()
      return w.finish()
    }
    // Sorted properties: any, at, either, id… `id` (field 4) is a double: a string there is not our encoder's.
    const wrongWire = decode(frame((w) => w.uint32(4 * 8 + 2).string("1")))
    assert.strictEqual(wrongWire.error?._tag, "MalformedFrame")
    assert.include(wrongWire.error?.message, "field 4 ('id')")
    // `any` (field 1) has no typed form: its values travel as JSON.
    assert.include(decode(frame((w) => w.uint32(1 * 8 + 2).string("1"))).error?.message, "field 1 ('any')")
    const unknown = decode(frame((w) => w.uint32(77 * 8 + 0).uint32(1)))
    assert.strictEqual(unknown.error?._tag, "MalformedFrame")
    assert.include(unknown.error?.message, "unknown field 77")
    const badExtra = decode(frame((w) => w.uint32(T.EXTRA * 8 + 2).string("[1, 2]")))
    assert.include(badExtra.error?.message, "not [key, value]")
  })

  it("fails when a record carries both cells and typed data", () => {
    const w = protobuf.Writer.create()
    w.fork().uint32(1 * 8 + 2).fork()
    w.uint32(2 * 8 + 2).string("t")
    w.uint32(5 * 8 + 2).fork().uint32(13 * 8).bool(true).ldelim() // one cell
    w.uint32(100 * 8 + 2).fork().ldelim()
    w.ldelim().ldelim()
    const { error } = decode(w.finish())
    assert.include(error?.message, "both cells and typed data")
  })
})
