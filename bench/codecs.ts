/**
 * `npx node bench/codecs.ts [--records N] [--json FILE]`: the per-record CPU cost of each socket
 * serialization in one process — JSONL (JSON.stringify / JSON.parse of whole lines), Airbyte's PROTOBUF
 * (positional value list) and SLUICE_PROTOBUF (a message type per stream) — on faker's three streams.
 * Encode is a batch of 1 000 RECORD messages into one buffer; decode is that buffer back into messages.
 * Median of 5 rounds, in microseconds per record; formats alternate within a round so machine noise
 * hits them alike.
 */
import { writeFile } from "node:fs/promises"
import { parseArgs } from "node:util"
import type * as M from "../src/engine/protocol/AirbyteMessage.ts"
import * as Jsonl from "../src/engine/protocol/Jsonl.ts"
import * as Protobuf from "../src/engine/protocol/Protobuf.ts"
import { catalog } from "../src/plugins/faker/Faker.ts"
import * as FakerData from "../src/plugins/faker/FakerData.ts"

const { values } = parseArgs({ options: { records: { type: "string", default: "200000" }, json: { type: "string" } } })
const records = Number(values.records)
const BATCH = 1000
const ROUNDS = 5

interface Format {
  readonly name: "JSONL" | "PROTOBUF" | "SLUICE_PROTOBUF"
  readonly encode: (messages: ReadonlyArray<M.AirbyteMessage>) => Uint8Array
  readonly decode: (bytes: Uint8Array) => number
}

const formatsFor = (streamCatalog: M.AirbyteCatalog): ReadonlyArray<Format> => {
  const protobuf = (name: "PROTOBUF" | "SLUICE_PROTOBUF"): Format => {
    const encoder = Protobuf.makeFrameEncoder(streamCatalog, { typed: name === "SLUICE_PROTOBUF" })
    const decoder = Protobuf.makeFrameDecoder({ catalog: streamCatalog })
    return {
      name,
      encode: (messages) => encoder.encode(messages) as Uint8Array,
      decode: (bytes) => {
        const out: Array<M.AirbyteMessage> = []
        decoder.push(bytes, out)
        return out.length
      }
    }
  }
  const framer = Jsonl.makeLineFramer()
  return [
    {
      name: "JSONL",
      encode: Jsonl.encodeBatch,
      decode: (bytes) => {
        const lines: Array<string> = []
        framer.push(bytes, lines)
        let n = 0
        for (const line of lines) if (Jsonl.decodeLine(line, n)._tag === "Message") n++
        return n
      }
    },
    protobuf("PROTOBUF"),
    protobuf("SLUICE_PROTOBUF")
  ]
}

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const microsPerRecord = (f: () => void) => {
  const started = performance.now()
  for (let done = 0; done < records; done += BATCH) f()
  return ((performance.now() - started) * 1000) / records
}

const results = []
for (const stream of FakerData.STREAMS) {
  const messages: Array<M.AirbyteMessage> = Array.from({ length: BATCH }, (_, i) => ({
    type: "RECORD",
    record: { stream: stream.name, data: FakerData.generate(stream, 1, i, records), emitted_at: 1_700_000_000_000 + i, partition_id: "AbCdEfGhIjKlMnOpQrSt" }
  }))
  const formats = formatsFor({ streams: catalog.streams.filter((s) => s.name === stream.name) })
  const samples = new Map(formats.map((f) => [f.name, { encode: [] as Array<number>, decode: [] as Array<number>, bytes: 0 }]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const format of formats) {
      const bytes = format.encode(messages)
      if (format.decode(bytes) !== BATCH) throw new Error(`${format.name} decoded the wrong number of records`)
      const sample = samples.get(format.name)!
      sample.bytes = bytes.length / BATCH
      sample.encode.push(microsPerRecord(() => format.encode(messages)))
      sample.decode.push(microsPerRecord(() => format.decode(bytes)))
    }
  }
  for (const [format, s] of samples) {
    const row = { stream: stream.name, format, bytesPerRecord: Math.round(s.bytes), encodeMicros: +median(s.encode).toFixed(2), decodeMicros: +median(s.decode).toFixed(2) }
    results.push(row)
    process.stdout.write(`${row.stream.padEnd(10)} ${row.format.padEnd(16)} ${String(row.bytesPerRecord).padStart(4)} B  encode ${row.encodeMicros.toFixed(2)} µs  decode ${row.decodeMicros.toFixed(2)} µs\n`)
  }
}
if (values.json !== undefined) await writeFile(values.json, JSON.stringify({ records, node: process.version, results }, null, 2) + "\n")
