/**
 * Reads the envelope of a JSONL RECORD line (stream, namespace, emitted_at, partition_id) without
 * parsing its `data`: for destinations that declared they never look at record data (dev-null), where
 * `JSON.parse` of every record was most of their CPU. Pure; must not import anything outside this folder.
 *
 * The skim accepts only the plain shape `{"type":"RECORD","record":{<scalars>,"data":{…},<scalars>}}`
 * in the protocol's member order (`emitted_at` after `data`, as Sluice's kit, Airbyte's CDKs and
 * `JSON.stringify` of a record write it), where every other member of `record` is one of the four
 * envelope keys with a string (no escapes) or number value. Anything else it sees (whitespace,
 * escapes, `meta` or other keys around the scalars, a non-object `data`, `emitted_at` before `data`)
 * returns undefined and the caller parses the line in full. The skim checks the envelope, not the data:
 * `data` is only known to start with `{` and end with `}`. So an object- or array-valued member placed
 * between `data` and `emitted_at` (no known writer does) would be taken as part of `data` and dropped
 * with it; finding it would mean scanning the data, which costs as much as parsing it.
 */
import type * as M from "./AirbyteMessage.ts"

const PREFIX = `{"type":"RECORD","record":{`
const QUOTE = 0x22
const COMMA = 0x2c
const COLON = 0x3a
const OPEN = 0x7b
const CLOSE = 0x7d

/** The data of every record read for its envelope only (here and in Protobuf.ts): the consumer does not read it. */
export const NO_DATA: M.JsonObject = Object.freeze({})

/** The envelope members the skim reads, with the type of their values. */
const ENVELOPE = { stream: "string", namespace: "string", partition_id: "string", emitted_at: "number" } as const
type Envelope = { -readonly [K in keyof typeof ENVELOPE]: string | number | undefined }

/** Sets one envelope member; false for a key or value the skim does not accept, or a repeated key. */
const assign = (envelope: Envelope, key: string, value: string | number): boolean => {
  if (!Object.hasOwn(ENVELOPE, key)) return false
  const member = key as keyof Envelope
  if (typeof value !== ENVELOPE[member] || envelope[member] !== undefined) return false
  envelope[member] = value
  return true
}

const isNumberChar = (c: number) => (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x2b || c === 0x65 || c === 0x45

/** A finite JSON number's text, or NaN. */
const numberOf = (text: string): number => (/^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(text) ? Number(text) : Number.NaN)

/** A string's content between quotes at `[from, to)`, or undefined when it holds an escape. */
const plainString = (line: string, from: number, to: number): string | undefined => {
  const text = line.slice(from, to)
  return text.includes("\\") ? undefined : text
}

/**
 * The record of a plain RECORD line with empty `data`, or undefined when the line is not in the plain
 * shape (parse it in full then).
 */
export const skimRecord = (line: string): M.RecordMessage | undefined => {
  if (!line.startsWith(PREFIX)) return undefined
  const end = line.length
  if (end < PREFIX.length + 4 || line.charCodeAt(end - 1) !== CLOSE || line.charCodeAt(end - 2) !== CLOSE) return undefined
  const envelope: Envelope = { stream: undefined, namespace: undefined, partition_id: undefined, emitted_at: undefined }

  // Forward: `"key":scalar,` members up to `"data":{`.
  let at = PREFIX.length
  let dataStart = -1
  while (at < end) {
    if (line.charCodeAt(at) !== QUOTE) return undefined
    const keyEnd = line.indexOf('"', at + 1)
    if (keyEnd === -1 || line.charCodeAt(keyEnd + 1) !== COLON) return undefined
    const key = line.slice(at + 1, keyEnd)
    at = keyEnd + 2
    // emitted_at comes after data in the protocol's order; in any other order parse in full.
    if (key === "emitted_at") return undefined
    if (key === "data") {
      if (line.charCodeAt(at) !== OPEN) return undefined
      dataStart = at
      break
    }
    let value: string | number | undefined
    if (line.charCodeAt(at) === QUOTE) {
      const close = line.indexOf('"', at + 1)
      if (close === -1) return undefined
      value = plainString(line, at + 1, close)
      at = close + 1
    } else {
      let stop = at
      while (stop < end && isNumberChar(line.charCodeAt(stop))) stop++
      const n = numberOf(line.slice(at, stop))
      value = Number.isFinite(n) ? n : undefined
      at = stop
    }
    if (value === undefined || !assign(envelope, key, value) || line.charCodeAt(at) !== COMMA) return undefined
    at++
  }
  if (dataStart === -1) return undefined

  // Backward from the record's closing brace: `,"key":scalar` members down to the `}` that closes data.
  let back = end - 2
  while (line.charCodeAt(back - 1) !== CLOSE) {
    let value: string | number | undefined
    let valueStart: number
    if (line.charCodeAt(back - 1) === QUOTE) {
      valueStart = line.lastIndexOf('"', back - 2)
      if (valueStart <= dataStart) return undefined
      value = plainString(line, valueStart + 1, back - 1)
    } else {
      valueStart = back
      while (valueStart > dataStart && isNumberChar(line.charCodeAt(valueStart - 1))) valueStart--
      const n = numberOf(line.slice(valueStart, back))
      value = Number.isFinite(n) ? n : undefined
    }
    if (value === undefined || line.charCodeAt(valueStart - 1) !== COLON || line.charCodeAt(valueStart - 2) !== QUOTE) return undefined
    const keyStart = line.lastIndexOf('"', valueStart - 3)
    if (keyStart <= dataStart || line.charCodeAt(keyStart - 1) !== COMMA) return undefined
    const key = line.slice(keyStart + 1, valueStart - 2)
    if (key.includes("\\") || !assign(envelope, key, value)) return undefined
    back = keyStart - 1
  }
  // `back - 1` is data's closing brace; it must not be the opening one.
  if (back - 1 <= dataStart) return undefined
  // assign() checked each member's type.
  const { stream, namespace, partition_id: partition, emitted_at: emittedAt } = envelope as {
    readonly stream: string | undefined
    readonly namespace: string | undefined
    readonly partition_id: string | undefined
    readonly emitted_at: number | undefined
  }
  if (stream === undefined || emittedAt === undefined) return undefined

  const record: Record<string, unknown> & M.AirbyteRecordMessage = namespace === undefined
    ? { stream, data: NO_DATA, emitted_at: emittedAt }
    : { namespace, stream, data: NO_DATA, emitted_at: emittedAt }
  if (partition !== undefined) record["partition_id"] = partition
  return { type: "RECORD", record }
}
