/**
 * One way for a source to produce record data, two results: the same calls build the data object (for
 * protobuf sockets, tests) or write the record's JSONL line straight into bytes (for stdout and JSONL
 * sockets), with no object and no `JSON.stringify`. The bytes are exactly what
 * `JSON.stringify({ type: "RECORD", record: { stream, namespace?, data, emitted_at } })` gives for the
 * object the same calls build. Imports only the engine's protocol.
 */
import { formatDate } from "../protocol/ProtobufTemporals.ts"
import type { RecordLines } from "../protocol/RecordLines.ts"

/** A field name, encoded once. */
export interface FieldKey {
  readonly name: string
  /** `"name":` as UTF-8. */
  readonly json: Uint8Array
}

const utf8 = new TextEncoder()

export const fieldKey = (name: string): FieldKey => ({ name, json: utf8.encode(`${JSON.stringify(name)}:`) })

/** The calls that write one record's data; fields appear in call order. */
export interface RecordWriter {
  /** A safe integer. */
  int(key: FieldKey, value: number): void
  /** A finite number. */
  number(key: FieldKey, value: number): void
  string(key: FieldKey, value: string): void
  boolean(key: FieldKey, value: boolean): void
  null(key: FieldKey): void
  /** Epoch milliseconds as `Date#toISOString` writes them (`2024-01-01T00:00:01.250Z`). */
  timestamp(key: FieldKey, epochMs: number): void
  stringArray(key: FieldKey, values: ReadonlyArray<string>): void
  /** Fields up to the matching `closeObject` go into a nested object. */
  openObject(key: FieldKey): void
  closeObject(): void
  /**
   * A string value made of the parts written up to `closeString`, without building it first. Each part
   * is written as JSON would write it alone (a surrogate pair split between two parts is escaped).
   */
  openString(key: FieldKey): void
  part(text: string): void
  /** A safe integer's decimal digits. */
  partInt(value: number): void
  /** The 8 lowercase hex digits of an unsigned 32-bit integer. */
  partHex32(value: number): void
  closeString(): void
}

// --------------------------------------------------------------------------------------------- TIMESTAMPS

const DAY_MS = 86_400_000
const YEAR_0_MS = -62_167_219_200_000
const YEAR_10000_MS = 253_402_300_800_000

const pad2 = (n: number) => (n < 10 ? "0" : "") + n
const pad3 = (n: number) => (n < 10 ? "00" : n < 100 ? "0" : "") + n

/** `YYYY-MM-DDT` per epoch day; records cluster on few days, so the prefixes are cached. */
const DAY_PREFIXES = new Map<number, string>()
const dayPrefix = (day: number): string => {
  let prefix = DAY_PREFIXES.get(day)
  if (prefix === undefined) {
    if (DAY_PREFIXES.size >= 4096) DAY_PREFIXES.clear()
    prefix = `${formatDate(day)}T`
    DAY_PREFIXES.set(day, prefix)
  }
  return prefix
}

/** Whether the fast formatting applies: whole milliseconds in years 0000–9999. */
const fastTimestamp = (ms: number) => ms >= YEAR_0_MS && ms < YEAR_10000_MS && Number.isInteger(ms)

/** Hours, minutes, seconds and milliseconds of the last `splitTime` (no object per call). */
const TIME = new Int32Array(4)

/** The epoch day of `ms`; its time of day goes to TIME. */
const splitTime = (ms: number): number => {
  const day = Math.floor(ms / DAY_MS)
  let rest = ms - day * DAY_MS
  const hours = Math.floor(rest / 3_600_000)
  rest -= hours * 3_600_000
  const minutes = Math.floor(rest / 60_000)
  rest -= minutes * 60_000
  const seconds = Math.floor(rest / 1000)
  TIME[0] = hours
  TIME[1] = minutes
  TIME[2] = seconds
  TIME[3] = rest - seconds * 1000
  return day
}

/** `Date#toISOString`, without a Date for years 0000–9999. */
export const isoTimestamp = (ms: number): string => {
  if (!fastTimestamp(ms)) return new Date(ms).toISOString()
  const day = splitTime(ms)
  return `${dayPrefix(day)}${pad2(TIME[0]!)}:${pad2(TIME[1]!)}:${pad2(TIME[2]!)}.${pad3(TIME[3]!)}Z`
}

const HEX_DIGITS = "0123456789abcdef"

// -------------------------------------------------------------------------------------------- OBJECTS

/** Builds the data object. */
export class ObjectRecordWriter implements RecordWriter {
  private stack: Array<Record<string, unknown>> = []
  private current: Record<string, unknown> = {}
  private stringKey: FieldKey | undefined
  private text = ""

  /** Starts a new record's data. */
  begin(): void {
    this.current = {}
    this.stack.length = 0
    this.stringKey = undefined
  }
  /** The data written since `begin`. */
  end(): Record<string, unknown> {
    if (this.stack.length > 0 || this.stringKey !== undefined) throw new RangeError("ObjectRecordWriter: end() inside an open object or string")
    return this.current
  }
  int(key: FieldKey, value: number): void {
    this.current[key.name] = value
  }
  number(key: FieldKey, value: number): void {
    this.current[key.name] = value
  }
  string(key: FieldKey, value: string): void {
    this.current[key.name] = value
  }
  boolean(key: FieldKey, value: boolean): void {
    this.current[key.name] = value
  }
  null(key: FieldKey): void {
    this.current[key.name] = null
  }
  timestamp(key: FieldKey, epochMs: number): void {
    this.current[key.name] = isoTimestamp(epochMs)
  }
  stringArray(key: FieldKey, values: ReadonlyArray<string>): void {
    this.current[key.name] = [...values]
  }
  openObject(key: FieldKey): void {
    const inner: Record<string, unknown> = {}
    this.current[key.name] = inner
    this.stack.push(this.current)
    this.current = inner
  }
  closeObject(): void {
    const outer = this.stack.pop()
    if (outer === undefined) throw new RangeError("ObjectRecordWriter: closeObject() without openObject()")
    this.current = outer
  }
  openString(key: FieldKey): void {
    this.stringKey = key
    this.text = ""
  }
  part(text: string): void {
    this.text += text
  }
  partInt(value: number): void {
    this.text += String(value)
  }
  partHex32(value: number): void {
    let digits = ""
    for (let shift = 28; shift >= 0; shift -= 4) digits += HEX_DIGITS[(value >>> shift) & 15]!
    this.text += digits
  }
  closeString(): void {
    if (this.stringKey === undefined) throw new RangeError("ObjectRecordWriter: closeString() without openString()")
    this.current[this.stringKey.name] = this.text
    this.stringKey = undefined
    this.text = ""
  }
}

// ---------------------------------------------------------------------------------------------- BYTES

const QUOTE = 0x22
const COMMA = 0x2c
const OPEN = 0x7b
const CLOSE = 0x7d
const ZERO = 0x30
/**
 * Batches are written one after the other into slabs of this size (fewer, larger allocations: each
 * batch's bytes are a view of its slab); a batch that outgrows what is left moves to a new slab.
 */
const SLAB_BYTES = 1024 * 1024

/** A slab and how many of the batches taken from it are still in use (not released). */
interface Slab {
  readonly bytes: Uint8Array
  inUse: number
}

const newSlab = (size: number): Slab => ({ bytes: Buffer.allocUnsafeSlow(size), inUse: 0 })
/** The most bytes one scalar value other than a string can take (a number's shortest form is ≤ 25). */
const SCALAR_BYTES = 32
const HEX_CODES = Uint8Array.from(HEX_DIGITS, (c) => c.charCodeAt(0))
/** `YYYY-MM-DDT` bytes per epoch day. */
const DAY_PREFIX_BYTES = new Map<number, Uint8Array>()
const dayPrefixBytes = (day: number): Uint8Array => {
  let prefix = DAY_PREFIX_BYTES.get(day)
  if (prefix === undefined) {
    if (DAY_PREFIX_BYTES.size >= 4096) DAY_PREFIX_BYTES.clear()
    prefix = utf8.encode(dayPrefix(day))
    DAY_PREFIX_BYTES.set(day, prefix)
  }
  return prefix
}

/**
 * Writes complete JSONL RECORD lines of one stream into one buffer: `begin()`, the data's fields,
 * `end(emittedAt)`, as often as needed, then `take()` the lines written so far.
 *
 * A consumer that is done with a batch's bytes (it copied or wrote them) calls the batch's `release`:
 * once every batch taken from a slab is released, the writer writes over it instead of allocating a
 * new one. A source that is read as fast as it writes then keeps reusing one slab: no garbage, no
 * fresh pages (allocating a slab per megabyte cost faker ≈ 0.6 s of GC per million records over a
 * socket). A batch never released only keeps its slab from being reused.
 */
export class JsonLinesWriter implements RecordWriter {
  readonly stream: string
  readonly namespace: string | undefined
  private slab: Slab = newSlab(SLAB_BYTES)
  /** A released slab of the standard size, kept for the next move. */
  private spare: Slab | undefined
  private buf: Uint8Array = this.slab.bytes
  /** Where the current batch starts in `buf`, and where the next byte goes. */
  private start = 0
  private at = 0
  /** The ends of the current batch's records, relative to `start`. */
  private ends: Array<number> = []
  /** Whether the next field is the first of its object. */
  private first = true
  private depth = 0
  private inString = false
  private readonly head: Uint8Array
  private readonly emitted: Uint8Array

  constructor(stream: string, namespace?: string | undefined) {
    this.stream = stream
    this.namespace = namespace
    const envelope = namespace === undefined
      ? `{"type":"RECORD","record":{"stream":${JSON.stringify(stream)},"data":{`
      : `{"type":"RECORD","record":{"stream":${JSON.stringify(stream)},"namespace":${JSON.stringify(namespace)},"data":{`
    this.head = utf8.encode(envelope)
    this.emitted = utf8.encode(`},"emitted_at":`)
  }

  begin(): void {
    this.room(this.head.length)
    this.copy(this.head)
    this.first = true
    this.depth = 0
    this.inString = false
  }

  end(emittedAt: number): void {
    if (this.depth !== 0 || this.inString) throw new RangeError("JsonLinesWriter: end() inside an open object or string")
    this.room(this.emitted.length + SCALAR_BYTES + 3)
    this.copy(this.emitted)
    this.writeNumber(emittedAt)
    const b = this.buf
    b[this.at++] = CLOSE
    b[this.at++] = CLOSE
    b[this.at++] = 0x0a
    this.ends.push(this.at - this.start)
  }

  /** The lines written since the last `take`, or undefined when there are none. */
  take(): RecordLines | undefined {
    if (this.ends.length === 0) return undefined
    const slab = this.slab
    slab.inUse++
    let released = false
    const lines: RecordLines = {
      type: "RECORD_LINES",
      stream: this.stream,
      namespace: this.namespace,
      bytes: this.buf.subarray(this.start, this.at),
      ends: this.ends,
      release: () => {
        if (released) return
        released = true
        this.released(slab)
      }
    }
    this.start = this.at
    this.ends = []
    return lines
  }

  /** A batch of `slab` was released: the slab is reused once none is in use. */
  private released(slab: Slab): void {
    slab.inUse--
    if (slab.inUse > 0) return
    if (slab === this.slab) {
      // Between batches: the next one starts at the beginning again.
      if (this.start === this.at) this.start = this.at = 0
    } else if (slab.bytes.length === SLAB_BYTES) this.spare = slab
  }

  int(key: FieldKey, value: number): void {
    this.field(key, SCALAR_BYTES)
    this.writeNumber(value)
  }
  number(key: FieldKey, value: number): void {
    this.field(key, SCALAR_BYTES)
    this.writeNumber(value)
  }
  string(key: FieldKey, value: string): void {
    this.field(key, value.length + 2)
    this.buf[this.at++] = QUOTE
    this.writeChars(value)
    this.buf[this.at++] = QUOTE
  }
  boolean(key: FieldKey, value: boolean): void {
    this.field(key, 5)
    this.ascii(value ? "true" : "false")
  }
  null(key: FieldKey): void {
    this.field(key, 4)
    this.ascii("null")
  }
  timestamp(key: FieldKey, epochMs: number): void {
    if (!fastTimestamp(epochMs)) return this.string(key, isoTimestamp(epochMs))
    const prefix = dayPrefixBytes(splitTime(epochMs))
    const hours = TIME[0]!
    const minutes = TIME[1]!
    const seconds = TIME[2]!
    const millis = TIME[3]!
    this.field(key, prefix.length + 16)
    const b = this.buf
    b[this.at++] = QUOTE
    this.copy(prefix)
    let at = this.at
    b[at++] = ZERO + ((hours / 10) | 0)
    b[at++] = ZERO + (hours % 10)
    b[at++] = 0x3a
    b[at++] = ZERO + ((minutes / 10) | 0)
    b[at++] = ZERO + (minutes % 10)
    b[at++] = 0x3a
    b[at++] = ZERO + ((seconds / 10) | 0)
    b[at++] = ZERO + (seconds % 10)
    b[at++] = 0x2e
    b[at++] = ZERO + ((millis / 100) | 0)
    b[at++] = ZERO + (((millis / 10) | 0) % 10)
    b[at++] = ZERO + (millis % 10)
    b[at++] = 0x5a
    b[at++] = QUOTE
    this.at = at
  }
  stringArray(key: FieldKey, values: ReadonlyArray<string>): void {
    this.field(key, 2)
    this.buf[this.at++] = 0x5b
    for (let i = 0; i < values.length; i++) {
      const value = values[i]!
      this.room(value.length + 3)
      if (i > 0) this.buf[this.at++] = COMMA
      this.buf[this.at++] = QUOTE
      this.writeChars(value)
      this.buf[this.at++] = QUOTE
    }
    this.room(1)
    this.buf[this.at++] = 0x5d
  }
  openObject(key: FieldKey): void {
    this.field(key, 1)
    this.buf[this.at++] = OPEN
    this.first = true
    this.depth++
  }
  closeObject(): void {
    if (this.depth === 0) throw new RangeError("JsonLinesWriter: closeObject() without openObject()")
    this.room(1)
    this.buf[this.at++] = CLOSE
    this.first = false
    this.depth--
  }
  openString(key: FieldKey): void {
    this.field(key, 1)
    this.buf[this.at++] = QUOTE
    this.inString = true
  }
  part(text: string): void {
    this.room(text.length)
    this.writeChars(text)
  }
  partInt(value: number): void {
    this.room(SCALAR_BYTES)
    this.writeNumber(value)
  }
  partHex32(value: number): void {
    this.room(8)
    const b = this.buf
    let at = this.at
    for (let shift = 28; shift >= 0; shift -= 4) b[at++] = HEX_CODES[(value >>> shift) & 15]!
    this.at = at
  }
  closeString(): void {
    if (!this.inString) throw new RangeError("JsonLinesWriter: closeString() without openString()")
    this.room(1)
    this.buf[this.at++] = QUOTE
    this.inString = false
  }

  /** Makes room for `n` more bytes. */
  private room(n: number): void {
    if (this.at + n <= this.buf.length) return
    const used = this.at - this.start
    const current = this.slab
    if (current.inUse === 0 && used + n <= current.bytes.length) {
      // Nothing taken from this slab is in use: the batch so far moves to its start.
      current.bytes.copyWithin(0, this.start, this.at)
    } else {
      // The batch so far moves to the start of another slab; this one stays with the batches taken
      // from it (and becomes the spare once they are released).
      const size = Math.max(SLAB_BYTES, 2 * (used + n))
      const next = size === SLAB_BYTES && this.spare !== undefined ? this.spare : newSlab(size)
      if (next === this.spare) this.spare = undefined
      if (current.inUse === 0 && current.bytes.length === SLAB_BYTES) this.spare = current
      next.bytes.set(current.bytes.subarray(this.start, this.at))
      this.slab = next
      this.buf = next.bytes
    }
    this.start = 0
    this.at = used
  }

  /** The separator and key of the next field, with room for `valueBytes` after them. */
  private field(key: FieldKey, valueBytes: number): void {
    const json = key.json
    this.room(json.length + valueBytes + 1)
    if (this.first) this.first = false
    else this.buf[this.at++] = COMMA
    this.copy(json)
  }

  private copy(bytes: Uint8Array): void {
    const b = this.buf
    let at = this.at
    if (bytes.length > 32) {
      b.set(bytes, at)
      at += bytes.length
    } else for (let i = 0; i < bytes.length; i++) b[at++] = bytes[i]!
    this.at = at
  }

  /** Characters below 0x80 that need no escape (the caller made room). */
  private ascii(text: string): void {
    const b = this.buf
    let at = this.at
    for (let i = 0; i < text.length; i++) b[at++] = text.charCodeAt(i)
    this.at = at
  }

  /**
   * A string's content as JSON writes it, without the quotes: printable ASCII is copied as is (the
   * caller made room for that), anything else goes through JSON.stringify.
   */
  private writeChars(value: string): void {
    const b = this.buf
    const start = this.at
    let at = start
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i)
      if (c < 0x20 || c === QUOTE || c === 0x5c || c > 0x7e) {
        this.at = start
        const quoted = JSON.stringify(value)
        this.room(quoted.length * 3)
        const { written } = utf8.encodeInto(quoted.slice(1, -1), this.buf.subarray(this.at))
        this.at += written
        return
      }
      b[at++] = c
    }
    this.at = at
  }

  /** A finite number as JSON writes it (the caller made room for SCALAR_BYTES). */
  private writeNumber(value: number): void {
    if (!Number.isFinite(value)) throw new RangeError(`JsonLinesWriter: ${value} is not a JSON number`)
    const b = this.buf
    let n = value
    if (n < 0) {
      // -0 is written 0, as JSON.stringify does.
      if (n === 0) n = 0
      else {
        b[this.at++] = 0x2d
        n = -n
      }
    }
    if (Number.isSafeInteger(n)) return this.digits(n)
    // Two decimals at most (amounts): the integer part and the fraction without trailing zeros are
    // then the shortest form that reads back as this number, which is what String gives. Below 1e9 no
    // other decimal of as few digits is that close.
    if (n < 1e9) {
      const cents = Math.round(n * 100)
      if (cents / 100 === n) {
        const whole = Math.floor(cents / 100)
        const fraction = cents - whole * 100
        this.digits(whole)
        b[this.at++] = 0x2e
        b[this.at++] = ZERO + ((fraction / 10) | 0)
        if (fraction % 10 !== 0) b[this.at++] = ZERO + (fraction % 10)
        return
      }
    }
    this.ascii(String(n))
  }

  /** A non-negative safe integer's digits. */
  private digits(n: number): void {
    const b = this.buf
    if (n < 10) {
      b[this.at++] = ZERO + n
      return
    }
    // Up to 2^53 - 1: the high part (at most 8 digits) and the low 8 digits, each in int32 arithmetic.
    let high = 0
    let low = n
    if (n >= 100_000_000) {
      high = Math.floor(n / 100_000_000)
      low = n - high * 100_000_000
    }
    let at = this.at
    if (high > 0) {
      at = writeInt32(b, at, high)
      for (let divisor = 10_000_000; divisor >= 1; divisor = (divisor / 10) | 0) b[at++] = ZERO + (((low / divisor) | 0) % 10)
    } else at = writeInt32(b, at, low)
    this.at = at
  }
}

/** The digits of a positive integer below 2^31 at `at`; returns the offset after them. */
const writeInt32 = (b: Uint8Array, at: number, n: number): number => {
  let width = 1
  for (let p = 10; p <= n; p *= 10) width++
  let end = at + width
  let rest = n
  while (end > at) {
    b[--end] = ZERO + (rest % 10)
    rest = (rest / 10) | 0
  }
  return at + width
}
