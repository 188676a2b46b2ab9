/**
 * The envelope-only read of JSONL RECORD lines: it agrees with JSON.parse on every envelope it accepts,
 * and gives up (undefined) on anything outside the plain shape, so the caller parses in full.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Jsonl from "../../../src/engine/protocol/Jsonl.ts"
import { skimRecord } from "../../../src/engine/protocol/RecordSkim.ts"

/** What the skim must return for a line: JSON.parse's envelope with empty data. */
const expected = (line: string) => {
  const parsed = JSON.parse(line) as { type: string; record: Record<string, unknown> }
  return { ...parsed, record: { ...parsed.record, data: {} } }
}

describe("skimRecord", () => {
  const data = { id: 1, name: "a \"quoted\" }}, \\ value", nested: { list: [1, { "emitted_at": 5 }], "partition_id": "fake" }, "}": "{" }

  it("reads the envelope of plain records, scalars before and after data, without parsing data", () => {
    const records = [
      { stream: "users", data, emitted_at: 1700000000000 },
      { namespace: "public", stream: "users", data, emitted_at: 1.5e12, partition_id: "AbC123" },
      { partition_id: "p", stream: "s", namespace: "n", data, emitted_at: -3 },
      { stream: "users", data, partition_id: "p", emitted_at: 2 },
      { stream: "users", data: {}, emitted_at: 0 }
    ]
    for (const record of records) {
      const line = JSON.stringify({ type: "RECORD", record })
      const skimmed = skimRecord(line)
      assert.deepStrictEqual(skimmed, expected(line), line)
      assert.deepStrictEqual(skimmed?.record.data, {})
    }
  })

  it("gives up on anything outside the plain shape", () => {
    const lines = [
      JSON.stringify({ record: { stream: "users", data, emitted_at: 1 }, type: "RECORD" }), // members in another order
      JSON.stringify({ type: "RECORD", record: { stream: "users", emitted_at: 1, data } }), // emitted_at before data
      JSON.stringify({ type: "RECORD", record: { stream: "users", emitted_at: 1, data, meta: { changes: [] } } }),
      `{"type": "RECORD","record":{"stream":"users","data":{},"emitted_at":1}}`, // whitespace
      `{"type":"RECORD","record":{"stream":"us\\"ers","data":{},"emitted_at":1}}`, // escape in the stream
      `{"type":"RECORD","record":{"stream":"users","data":{},"emitted_at":1,"partition_id":"a\\"b"}}`, // escape after data
      JSON.stringify({ type: "RECORD", record: { stream: "users", data, emitted_at: 1, meta: { changes: [] } } }), // meta
      JSON.stringify({ type: "RECORD", record: { stream: "users", data: [1], emitted_at: 1 } }), // data not an object
      JSON.stringify({ type: "RECORD", record: { stream: "users", data: "x", emitted_at: 1 } }),
      JSON.stringify({ type: "RECORD", record: { stream: "users", emitted_at: 1 } }), // no data
      JSON.stringify({ type: "RECORD", record: { data, emitted_at: 1 } }), // no stream
      JSON.stringify({ type: "RECORD", record: { stream: "users", data } }), // no emitted_at
      JSON.stringify({ type: "RECORD", record: { stream: 5, data, emitted_at: 1 } }), // stream not a string
      JSON.stringify({ type: "RECORD", record: { stream: "users", data, emitted_at: "1" } }), // emitted_at not a number
      `{"type":"RECORD","record":{"stream":"users","stream":"x","data":{},"emitted_at":1}}`, // duplicate key
      `{"type":"RECORD","record":{"stream":"users","data":{},"emitted_at":01}}`, // not a JSON number
      `{"type":"RECORD","record":{"stream":"users","data":{},"emitted_at":1}} `, // trailing space
      `{"type":"RECORD","record":{"stream":"users","data":{}}}`,
      `{"type":"STATE","state":{"type":"LEGACY","data":{}}}`,
      `{"type":"RECORD","record":{"stream":"users","data":{`
    ]
    for (const line of lines) assert.strictEqual(skimRecord(line), undefined, line)
  })

  it("decodeLine with skim agrees with the full decode on every envelope, and still rejects invalid records", () => {
    const lines = [
      JSON.stringify({ type: "RECORD", record: { stream: "users", data, emitted_at: 1 } }),
      JSON.stringify({ type: "RECORD", record: { stream: "users", data, emitted_at: 1, meta: { changes: [] } } }),
      JSON.stringify({ type: "STATE", state: { type: "LEGACY", data: { a: 1 } } })
    ]
    for (const line of lines) {
      const full = Jsonl.decodeLine(line, 1)
      const skimmed = Jsonl.decodeLine(line, 1, false, true)
      assert.strictEqual(full._tag, "Message")
      assert.strictEqual(skimmed._tag, "Message")
      if (full._tag !== "Message" || skimmed._tag !== "Message") continue
      if (full.message.type === "RECORD" && skimmed.message.type === "RECORD") {
        const { data: _fullData, ...fullEnvelope } = full.message.record
        const { data: _skimmedData, ...skimmedEnvelope } = skimmed.message.record
        assert.deepStrictEqual(skimmedEnvelope, fullEnvelope)
      } else assert.deepStrictEqual(skimmed.message, full.message)
    }
    // Outside the plain shape the full decode still runs and still finds what is wrong.
    const invalid = Jsonl.decodeLine(JSON.stringify({ type: "RECORD", record: { stream: "users", data: [1], emitted_at: 1 } }), 3, false, true)
    assert.strictEqual(invalid._tag, "Invalid")
  })
})
