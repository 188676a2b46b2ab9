/**
 * The socket-mode PROTOBUF codec: Airbyte messages ⇄ varint-delimited frames of `socket.proto`, with
 * positional record values typed by the stream's JSON schema, a chunk-boundary-safe frame decoder and
 * Stream operators. Must not import anything outside effect, protobufjs, node builtins and this folder.
 */
import { Cause, Data, Effect, Stream } from "effect"
import * as Arr from "effect/Array"
import * as Pull from "effect/Pull"
import { readFileSync } from "node:fs"
import protobuf from "protobufjs"
import * as M from "./AirbyteMessage.ts"
import { columnOrder } from "./ColumnOrder.ts"
import { decodeLine, type InvalidMessage } from "./Jsonl.ts"
import { makeTypedDataCodec, type TypedDataCodec } from "./TypedRows.ts"

// ---------------------------------------------------------------------------------------------- ERRORS

/** Default cap on one frame: a larger length prefix fails the read before any allocation. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024

/** A frame whose length prefix is over the configured maximum. `offset` is where the frame starts. */
export class FrameTooLarge extends Data.TaggedError("FrameTooLarge")<{
  readonly offset: number
  readonly sizeBytes: number
  readonly maxBytes: number
}> {
  override get message() {
    return `frame at byte ${this.offset} is ${this.sizeBytes} bytes, over the maximum of ${this.maxBytes} bytes; ` +
      `raise maxFrameBytes or make the source emit smaller records`
  }
}

/** Bytes that are not a valid frame: a bad length varint, undecodable protobuf or an unusable payload. */
export class MalformedFrame extends Data.TaggedError("MalformedFrame")<{
  readonly offset: number
  readonly detail: string
}> {
  override get message() {
    return `malformed frame at byte ${this.offset}: ${this.detail}`
  }
}

/** A record of a stream the catalog does not declare: its positional values cannot be interpreted. */
export class UnknownStream extends Data.TaggedError("UnknownStream")<{
  readonly namespace: string | undefined
  readonly stream: string
}> {
  override get message() {
    const name = this.namespace === undefined ? this.stream : `${this.namespace}.${this.stream}`
    return `stream '${name}' is not in the catalog, so its record values cannot be mapped to columns`
  }
}

/** Everything the frame decoder can fail with. InvalidMessage's `lineNumber` holds the frame number. */
export type FrameError = FrameTooLarge | MalformedFrame | UnknownStream | InvalidMessage

// ---------------------------------------------------------------------------------------------- LAYOUT

/**
 * The fields the codec reads and writes, with the protobuf type it uses for each. The field numbers
 * come from `socket.proto`; loading fails if a field is missing or has another type there.
 */
const FIELDS = {
  Frame: { row: "Row", protocol_json: "string", probe: "Probe" },
  Row: {
    namespace: "string",
    stream: "string",
    emitted_at_ms: "uint64",
    partition_id: "string",
    cells: "Cell",
    meta: "RowMeta",
    sluice_data: "bytes"
  },
  Cell: {
    boolean: "bool",
    string: "string",
    integer: "sint64",
    big_integer: "string",
    number: "double",
    big_decimal: "string",
    date: "sint64",
    time_with_offset: "ClockWithOffset",
    local_time: "uint64",
    timestamp_with_offset: "InstantWithOffset",
    local_timestamp: "LocalTimestamp",
    json: "bytes",
    is_null: "bool"
  },
  ClockWithOffset: { nanos_since_midnight: "uint64", utc_offset_seconds: "sint32" },
  InstantWithOffset: { unix_seconds: "sint64", nanos: "uint32", utc_offset_seconds: "sint32" },
  LocalTimestamp: { days_since_epoch: "sint64", nanos_since_midnight: "uint64" },
  RowMeta: { changes: "FieldChange" },
  FieldChange: { field: "string", kind: "ChangeKind", cause: "ChangeCause" }
} as const

/** The wire tag (field number × 8 + wire type) of every field in FIELDS. */
type Layout = { readonly [T in keyof typeof FIELDS]: { readonly [F in keyof (typeof FIELDS)[T]]: number } }

// The Schemas list the values in wire order: the index is the protobuf enum number.
const CHANGE_KINDS = M.RecordChangeType.literals
const CHANGE_CAUSES = M.RecordChangeReason.literals

const PACKAGE = "sluice.socket.v1"
const FIXED64_TYPES = new Set(["double", "fixed64", "sfixed64"])
const LENGTH_TYPES = new Set(["string", "bytes"])

const tagOf = (type: protobuf.Type, name: string, expected: string): number => {
  const field = type.fields[name]
  if (field?.type !== expected) throw new Error(`socket.proto: ${type.name}.${name} must be a ${expected}`)
  const isMessage = field.resolve().resolvedType instanceof protobuf.Type
  const wireType = isMessage || LENGTH_TYPES.has(expected) ? 2 : FIXED64_TYPES.has(expected) ? 1 : 0
  return field.id * 8 + wireType
}

const checkEnum = (root: protobuf.Root, name: string, prefix: string, names: ReadonlyArray<string>) => {
  const values = root.lookupEnum(`${PACKAGE}.${name}`).values
  names.forEach((n, i) => {
    if (values[`${prefix}${n}`] !== i) throw new Error(`socket.proto: ${name}.${prefix}${n} must be ${i}`)
  })
}

const layoutOf = (root: protobuf.Root): Layout => {
  checkEnum(root, "ChangeKind", "CHANGE_KIND_", CHANGE_KINDS)
  checkEnum(root, "ChangeCause", "CHANGE_CAUSE_", CHANGE_CAUSES)
  const layout: Record<string, Record<string, number>> = {}
  for (const [message, fields] of Object.entries(FIELDS)) {
    const type = root.lookupType(`${PACKAGE}.${message}`)
    layout[message] = Object.fromEntries(Object.entries(fields).map(([name, t]) => [name, tagOf(type, name, t)]))
  }
  return layout as Layout
}

let cachedLayout: Layout | undefined

/** Parses `socket.proto` (next to this module) on first use and caches the wire tags. */
const layout = (): Layout => {
  if (cachedLayout === undefined) {
    const source = readFileSync(new URL("./socket.proto", import.meta.url), "utf8")
    cachedLayout = layoutOf(protobuf.parse(source, { keepCase: true }).root)
  }
  return cachedLayout
}

// ------------------------------------------------------------------------------------------- INTEGERS

const TWO_POW_32 = 4294967296
const INTEGER_TEXT = /^-?(?:0|[1-9]\d*)$/
const DECIMAL_TEXT = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/

/** The JS number whose exact value is the integer `text`, or undefined when no double is exactly it. */
const exactIntegerNumber = (text: string): number | undefined => {
  const n = Number(text)
  if (!Number.isInteger(n)) return undefined
  const canonical = Number.isSafeInteger(n) ? String(n) : BigInt(n).toString()
  return canonical === text ? n : undefined
}

/** A decimal text as a JS number when the number prints back as the same text, else the text itself. */
const decimalValue = (text: string): number | string => {
  const n = Number(text)
  return String(n) === text ? n : text
}

/** Integer text as a JS number when a double holds it exactly, else the text itself. */
const integerTextValue = (text: string): number | string => exactIntegerNumber(text) ?? text

/** A 64-bit integer read from the wire, as a JS number when a double holds it exactly, else decimal text. */
const int64Value = (v: protobuf.Long | number): number | string => {
  if (typeof v === "number") return v
  const high = v.unsigned ? v.high >>> 0 : v.high | 0
  const low = v.low >>> 0
  if (high >= -0x200000 && high < 0x200000) return high * TWO_POW_32 + low
  return integerTextValue(((BigInt(high) << 32n) + BigInt(low)).toString())
}

/** For 64-bit fields that hold small magnitudes (days, seconds, nanoseconds of a day). */
const int64Number = (v: protobuf.Long | number): number => Number(int64Value(v))

// ------------------------------------------------------------------------------------------ TEMPORALS

const NANOS_PER_SECOND = 1_000_000_000
const SECONDS_PER_DAY = 86_400
const NANOS_PER_DAY = SECONDS_PER_DAY * NANOS_PER_SECOND
const MAX_OFFSET_SECONDS = 18 * 3600

// Groups: date → year, month, day; time → hour, minute, second?, fraction?; offset → Z?, sign, hours, minutes, seconds?
const DATE = "([+-]\\d{4,6}|\\d{4})-(\\d{2})-(\\d{2})"
const TIME = "(\\d{2}):(\\d{2})(?::(\\d{2})(?:\\.(\\d{1,9}))?)?"
const OFFSET = "(?:([Zz])|([+-])(\\d{1,2}):(\\d{2})(?::(\\d{2}))?)"
const DATE_RE = new RegExp(`^${DATE}$`)
const LOCAL_TIME_RE = new RegExp(`^${TIME}$`)
const OFFSET_TIME_RE = new RegExp(`^${TIME}${OFFSET}$`)
const LOCAL_TIMESTAMP_RE = new RegExp(`^${DATE}[Tt ]${TIME}$`)
const OFFSET_TIMESTAMP_RE = new RegExp(`^${DATE}[Tt ]${TIME}${OFFSET}$`)

const isLeapYear = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
const daysInMonth = (y: number, m: number) => (m === 2 ? (isLeapYear(y) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31)

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
const epochDayOf = (year: number, month: number, day: number): number | undefined => {
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468
}

const civilOf = (epochDay: number): readonly [number, number, number] => {
  const z = epochDay + 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const month = mp < 10 ? mp + 3 : mp - 9
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, doy - Math.floor((153 * mp + 2) / 5) + 1]
}

/** The epoch day of the date in groups i..i+2 of a match. */
const dateAt = (g: RegExpExecArray, i: number) => epochDayOf(Number(g[i]), Number(g[i + 1]), Number(g[i + 2]))

/** The nanoseconds since midnight of the time in groups i..i+3 of a match. */
const timeAt = (g: RegExpExecArray, i: number): number | undefined => {
  const h = Number(g[i])
  const m = Number(g[i + 1])
  const s = Number(g[i + 2] ?? 0)
  if (h > 23 || m > 59 || s > 59) return undefined
  const fraction = g[i + 3]
  return ((h * 60 + m) * 60 + s) * NANOS_PER_SECOND + (fraction === undefined ? 0 : Number(fraction.padEnd(9, "0")))
}

/** The UTC offset in seconds of the offset in groups i..i+4 of a match. */
const offsetAt = (g: RegExpExecArray, i: number): number | undefined => {
  if (g[i] !== undefined) return 0
  const m = Number(g[i + 3])
  const s = Number(g[i + 4] ?? 0)
  const total = Number(g[i + 2]) * 3600 + m * 60 + s
  if (m > 59 || s > 59 || total > MAX_OFFSET_SECONDS) return undefined
  return g[i + 1] === "-" ? -total : total
}

const pad = (n: number, width: number) => String(n).padStart(width, "0")
const formatYear = (y: number) => (y > 9999 ? `+${y}` : y < 0 ? `-${pad(-y, 4)}` : pad(y, 4))

const formatDate = (epochDay: number): string => {
  const [y, m, d] = civilOf(epochDay)
  return `${formatYear(y)}-${pad(m, 2)}-${pad(d, 2)}`
}

const formatTime = (nanosOfDay: number): string => {
  if (!(nanosOfDay >= 0 && nanosOfDay < NANOS_PER_DAY)) throw new RangeError(`time of day out of range: ${nanosOfDay} ns`)
  const seconds = Math.floor(nanosOfDay / NANOS_PER_SECOND)
  const nanos = nanosOfDay - seconds * NANOS_PER_SECOND
  const hms = `${pad(Math.floor(seconds / 3600), 2)}:${pad(Math.floor(seconds / 60) % 60, 2)}:${pad(seconds % 60, 2)}`
  return nanos === 0 ? hms : `${hms}.${pad(nanos, 9).replace(/0+$/, "")}`
}

const formatOffset = (offsetSeconds: number): string => {
  if (Math.abs(offsetSeconds) > MAX_OFFSET_SECONDS) throw new RangeError(`UTC offset out of range: ${offsetSeconds} s`)
  if (offsetSeconds === 0) return "Z"
  const abs = Math.abs(offsetSeconds)
  const hm = `${offsetSeconds < 0 ? "-" : "+"}${pad(Math.floor(abs / 3600), 2)}:${pad(Math.floor(abs / 60) % 60, 2)}`
  return abs % 60 === 0 ? hm : `${hm}:${pad(abs % 60, 2)}`
}

const formatInstant = (unixSeconds: number, nanos: number, offsetSeconds: number): string => {
  if (!(nanos >= 0 && nanos < NANOS_PER_SECOND)) throw new RangeError(`nanoseconds out of range: ${nanos}`)
  const local = unixSeconds + offsetSeconds
  const day = Math.floor(local / SECONDS_PER_DAY)
  const nanosOfDay = (local - day * SECONDS_PER_DAY) * NANOS_PER_SECOND + nanos
  return `${formatDate(day)}T${formatTime(nanosOfDay)}${formatOffset(offsetSeconds)}`
}

// --------------------------------------------------------------------------------------- COLUMN KINDS

/** How one column travels: the Airbyte type its JSON schema declares, or `json` for anything else. */
export type ColumnKind =
  | "boolean"
  | "string"
  | "integer"
  | "number"
  | "date"
  | "time_with_timezone"
  | "time_without_timezone"
  | "timestamp_with_timezone"
  | "timestamp_without_timezone"
  | "json"

const WELL_KNOWN: Readonly<Record<string, ColumnKind>> = {
  Integer: "integer",
  Number: "number",
  String: "string",
  BinaryData: "string",
  Boolean: "boolean",
  Date: "date",
  TimestampWithTimezone: "timestamp_with_timezone",
  TimestampWithoutTimezone: "timestamp_without_timezone",
  TimeWithTimezone: "time_with_timezone",
  TimeWithoutTimezone: "time_without_timezone"
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const stringKind = (schema: Record<string, unknown>): ColumnKind => {
  const airbyteType = schema["airbyte_type"]
  switch (schema["format"]) {
    case "date":
      return "date"
    case "time":
      return airbyteType === "time_without_timezone" ? "time_without_timezone" : "time_with_timezone"
    case "date-time":
      return airbyteType === "timestamp_without_timezone" ? "timestamp_without_timezone" : "timestamp_with_timezone"
    default:
      return "string"
  }
}

const namedKind = (schema: Record<string, unknown>, type: unknown): ColumnKind => {
  switch (type) {
    case "string":
      return stringKind(schema)
    case "boolean":
      return "boolean"
    case "integer":
    case "int":
      return "integer"
    case "number":
      return schema["airbyte_type"] === "integer" ? "integer" : "number"
    default:
      return "json"
  }
}

const isNullSchema = (u: unknown) => isObject(u) && u["type"] === "null"

/**
 * The kind of a column from its property schema, following the Bulk CDK's reading of JSON schemas:
 * `format` date / time / date-time (with tz unless `airbyte_type` says without), the well-known `$ref`s,
 * `number` with `airbyte_type: integer`; a nullable single type is that type; unions, objects, arrays
 * and anything unrecognised are `json`.
 */
export const columnKindOf = (schema: unknown): ColumnKind => {
  if (!isObject(schema)) return "json"
  const type = schema["type"]
  if (typeof type === "string") return namedKind(schema, type)
  if (Array.isArray(type)) {
    const types = type.filter((t) => t !== "null")
    return types.length === 1 ? namedKind(schema, types[0]) : "json"
  }
  const ref = schema["$ref"]
  if (typeof ref === "string") return WELL_KNOWN[ref.slice(ref.lastIndexOf("/") + 1)] ?? "json"
  const options = schema["oneOf"] ?? schema["anyOf"]
  if (Array.isArray(options)) {
    const nonNull = options.filter((o) => !isNullSchema(o))
    return nonNull.length === 1 ? columnKindOf(nonNull[0]) : "json"
  }
  return "json"
}

export { columnOrder }

// -------------------------------------------------------------------------------------- CELL WRITERS

/** Writes one non-null value as the members of a cell; false (having written nothing) when it cannot. */
type CellWriter = (w: protobuf.Writer, value: unknown) => boolean

/** JSON text of a value, or undefined when JSON has no form for it (bigint, cycles, functions). */
const jsonText = (value: unknown): string | undefined => {
  try {
    return JSON.stringify(value)
  } catch {
    return undefined
  }
}

const makeCellWriters = (L: Layout): { readonly [K in ColumnKind]: CellWriter } => {
  const C = L.Cell
  const { ClockWithOffset: CT, InstantWithOffset: IT, LocalTimestamp: LT } = L

  // The fallback for values that do not fit their column. JSON bytes are the UTF-8 text, which is how
  // protobufjs writes a string; NaN and ±Infinity, which JSON cannot hold, stay doubles.
  const json: CellWriter = (w, v) => {
    if (typeof v === "number" && !Number.isFinite(v)) {
      w.uint32(C.number).double(v)
      return true
    }
    const text = jsonText(v)
    if (text === undefined) return false
    w.uint32(C.json).string(text)
    return true
  }

  const temporal = (pattern: RegExp, write: (w: protobuf.Writer, g: RegExpExecArray) => boolean): CellWriter =>
  (w, v) => {
    const g = typeof v === "string" ? pattern.exec(v) : null
    return (g !== null && write(w, g)) || json(w, v)
  }

  const integer: CellWriter = (w, v) => {
    if (typeof v === "number" && Number.isSafeInteger(v)) w.uint32(C.integer).sint64(v)
    else if (typeof v === "number" && Number.isInteger(v)) w.uint32(C.big_integer).string(BigInt(v).toString())
    else if (typeof v === "bigint" && Number.isSafeInteger(Number(v))) w.uint32(C.integer).sint64(Number(v))
    else if (typeof v === "bigint") w.uint32(C.big_integer).string(v.toString())
    else if (typeof v === "string" && INTEGER_TEXT.test(v) && exactIntegerNumber(v) === undefined) {
      w.uint32(C.big_integer).string(v)
    } else return json(w, v)
    return true
  }

  const number: CellWriter = (w, v) => {
    if (typeof v === "number") w.uint32(C.number).double(v)
    else if (typeof v === "string" && DECIMAL_TEXT.test(v) && decimalValue(v) === v) w.uint32(C.big_decimal).string(v)
    else return json(w, v)
    return true
  }

  return {
    boolean: (w, v) => (typeof v === "boolean" ? (w.uint32(C.boolean).bool(v), true) : json(w, v)),
    string: (w, v) => (typeof v === "string" ? (w.uint32(C.string).string(v), true) : json(w, v)),
    integer,
    number,
    json,
    date: temporal(DATE_RE, (w, g) => {
      const day = dateAt(g, 1)
      if (day === undefined) return false
      w.uint32(C.date).sint64(day)
      return true
    }),
    time_without_timezone: temporal(LOCAL_TIME_RE, (w, g) => {
      const nanos = timeAt(g, 1)
      if (nanos === undefined) return false
      w.uint32(C.local_time).uint64(nanos)
      return true
    }),
    time_with_timezone: temporal(OFFSET_TIME_RE, (w, g) => {
      const nanos = timeAt(g, 1)
      const offset = offsetAt(g, 5)
      if (nanos === undefined || offset === undefined) return false
      w.uint32(C.time_with_offset).fork()
      if (nanos !== 0) w.uint32(CT.nanos_since_midnight).uint64(nanos)
      if (offset !== 0) w.uint32(CT.utc_offset_seconds).sint32(offset)
      w.ldelim()
      return true
    }),
    timestamp_without_timezone: temporal(LOCAL_TIMESTAMP_RE, (w, g) => {
      const day = dateAt(g, 1)
      const nanos = timeAt(g, 4)
      if (day === undefined || nanos === undefined) return false
      w.uint32(C.local_timestamp).fork()
      if (day !== 0) w.uint32(LT.days_since_epoch).sint64(day)
      if (nanos !== 0) w.uint32(LT.nanos_since_midnight).uint64(nanos)
      w.ldelim()
      return true
    }),
    timestamp_with_timezone: temporal(OFFSET_TIMESTAMP_RE, (w, g) => {
      const day = dateAt(g, 1)
      const nanosOfDay = timeAt(g, 4)
      const offset = offsetAt(g, 8)
      if (day === undefined || nanosOfDay === undefined || offset === undefined) return false
      const nanos = nanosOfDay % NANOS_PER_SECOND
      const unixSeconds = day * SECONDS_PER_DAY + (nanosOfDay - nanos) / NANOS_PER_SECOND - offset
      w.uint32(C.timestamp_with_offset).fork()
      if (unixSeconds !== 0) w.uint32(IT.unix_seconds).sint64(unixSeconds)
      if (nanos !== 0) w.uint32(IT.nanos).uint32(nanos)
      if (offset !== 0) w.uint32(IT.utc_offset_seconds).sint32(offset)
      w.ldelim()
      return true
    })
  }
}

// -------------------------------------------------------------------------------------- CELL READERS

/** Reads the length of a nested message and returns where it ends. */
const nestedEnd = (r: protobuf.Reader): number => {
  const end = r.uint32() + r.pos
  if (end > r.len) throw new RangeError(`nested message of ${end - r.pos} bytes overruns the frame`)
  return end
}

/** Checks that the last field of a nested message ended exactly at the message's end. */
const closeNested = (r: protobuf.Reader, end: number) => {
  if (r.pos !== end) throw new RangeError(`a field overruns its nested message by ${r.pos - end} bytes`)
}

const readClock = (r: protobuf.Reader, T: Layout["ClockWithOffset"]): string => {
  const end = nestedEnd(r)
  let nanos = 0
  let offset = 0
  while (r.pos < end) {
    const tag = r.tag()
    if (tag === T.nanos_since_midnight) nanos = int64Number(r.uint64())
    else if (tag === T.utc_offset_seconds) offset = r.sint32()
    else r.skipType(tag & 7)
  }
  closeNested(r, end)
  return formatTime(nanos) + formatOffset(offset)
}

const readInstant = (r: protobuf.Reader, T: Layout["InstantWithOffset"]): string => {
  const end = nestedEnd(r)
  let seconds = 0
  let nanos = 0
  let offset = 0
  while (r.pos < end) {
    const tag = r.tag()
    if (tag === T.unix_seconds) seconds = int64Number(r.sint64())
    else if (tag === T.nanos) nanos = r.uint32()
    else if (tag === T.utc_offset_seconds) offset = r.sint32()
    else r.skipType(tag & 7)
  }
  closeNested(r, end)
  return formatInstant(seconds, nanos, offset)
}

const readLocalTimestamp = (r: protobuf.Reader, T: Layout["LocalTimestamp"]): string => {
  const end = nestedEnd(r)
  let day = 0
  let nanos = 0
  while (r.pos < end) {
    const tag = r.tag()
    if (tag === T.days_since_epoch) day = int64Number(r.sint64())
    else if (tag === T.nanos_since_midnight) nanos = int64Number(r.uint64())
    else r.skipType(tag & 7)
  }
  closeNested(r, end)
  return `${formatDate(day)}T${formatTime(nanos)}`
}

/**
 * Skips a field socket.proto does not declare. A declared field number with another wire type is an
 * error, not a silent null: it is how the older layout (string temporals) of the Bulk CDK shows up.
 */
const skipUnknownCellField = (r: protobuf.Reader, tag: number, C: Layout["Cell"]) => {
  if (Object.values(C).some((known) => known >>> 3 === tag >>> 3)) {
    throw new RangeError(`value field ${tag >>> 3} has wire type ${tag & 7}, not the one socket.proto declares ` +
      `(a connector on the older layout with string temporals?)`)
  }
  r.skipType(tag & 7)
}

/**
 * One cell back to a JSON value, by the member that is present (not by the column kind); `is_null`, or
 * no member at all, is null. Throws on out-of-range temporals, invalid JSON or truncated bytes.
 */
const readCell = (r: protobuf.Reader, L: Layout): unknown => {
  const C = L.Cell
  const end = nestedEnd(r)
  let value: unknown = null
  let isNull = false
  while (r.pos < end) {
    const tag = r.tag()
    if (tag === C.string) value = r.string()
    else if (tag === C.integer) value = int64Value(r.sint64())
    else if (tag === C.number) value = r.double()
    else if (tag === C.boolean) value = r.bool()
    else if (tag === C.json) value = JSON.parse(r.string())
    else if (tag === C.is_null) isNull = r.bool()
    else if (tag === C.timestamp_with_offset) value = readInstant(r, L.InstantWithOffset)
    else if (tag === C.local_timestamp) value = readLocalTimestamp(r, L.LocalTimestamp)
    else if (tag === C.date) value = formatDate(int64Number(r.sint64()))
    else if (tag === C.local_time) value = formatTime(int64Number(r.uint64()))
    else if (tag === C.time_with_offset) value = readClock(r, L.ClockWithOffset)
    else if (tag === C.big_integer) value = integerTextValue(r.string())
    else if (tag === C.big_decimal) value = decimalValue(r.string())
    else skipUnknownCellField(r, tag, C)
  }
  closeNested(r, end)
  return isNull ? null : value
}

// ----------------------------------------------------------------------------------------- ROW META

const enumAt = <T>(values: ReadonlyArray<T>, n: number, what: string): T => {
  const value = values[n]
  if (value === undefined) throw new RangeError(`unknown ${what} ${n}`)
  return value
}

const writeMeta = (w: protobuf.Writer, L: Layout, changes: ReadonlyArray<M.RecordMetaChange>) => {
  const T = L.FieldChange
  w.uint32(L.Row.meta).fork()
  for (const c of changes) {
    w.uint32(L.RowMeta.changes).fork()
    if (c.field !== "") w.uint32(T.field).string(c.field)
    const kind = CHANGE_KINDS.indexOf(c.change)
    if (kind > 0) w.uint32(T.kind).int32(kind)
    const cause = CHANGE_CAUSES.indexOf(c.reason)
    if (cause > 0) w.uint32(T.cause).int32(cause)
    w.ldelim()
  }
  w.ldelim()
}

const readChange = (r: protobuf.Reader, T: Layout["FieldChange"]): M.RecordMetaChange => {
  const end = nestedEnd(r)
  let field = ""
  let kind = 0
  let cause = 0
  while (r.pos < end) {
    const tag = r.tag()
    if (tag === T.field) field = r.string()
    else if (tag === T.kind) kind = r.int32()
    else if (tag === T.cause) cause = r.int32()
    else r.skipType(tag & 7)
  }
  closeNested(r, end)
  return { field, change: enumAt(CHANGE_KINDS, kind, "change kind"), reason: enumAt(CHANGE_CAUSES, cause, "change cause") }
}

const readMeta = (r: protobuf.Reader, L: Layout, into: Array<M.RecordMetaChange>) => {
  const end = nestedEnd(r)
  while (r.pos < end) {
    const tag = r.tag()
    if (tag === L.RowMeta.changes) into.push(readChange(r, L.FieldChange))
    else r.skipType(tag & 7)
  }
  closeNested(r, end)
}

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

/** Sets a key as an own property, including `__proto__` (which plain assignment would treat as the prototype). */
const setField = (data: Record<string, unknown>, name: string, value: unknown) => {
  if (name === "__proto__") Object.defineProperty(data, name, { value, enumerable: true, writable: true, configurable: true })
  else data[name] = value
}

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

interface RowParts {
  namespace: string | undefined
  stream: string
  emittedAt: number
  partitionId: string
  readonly values: Array<unknown>
  readonly changes: Array<M.RecordMetaChange>
  /** Where the typed data (SLUICE_PROTOBUF) starts in the frame's reader: read once the stream is known. */
  typed: { readonly reader: protobuf.Reader; readonly at: number } | undefined
}

type FrameBody =
  | { readonly _tag: "Row"; readonly row: RowParts }
  | { readonly _tag: "Json"; readonly json: string }
  | { readonly _tag: "Probe" }
  | { readonly _tag: "Empty" }

const PROBE: FrameBody = { _tag: "Probe" }
const EMPTY: FrameBody = { _tag: "Empty" }

const readRow = (r: protobuf.Reader, L: Layout): RowParts => {
  const end = nestedEnd(r)
  const R = L.Row
  const row: RowParts = { namespace: undefined, stream: "", emittedAt: 0, partitionId: "", values: [], changes: [], typed: undefined }
  while (r.pos < end) {
    const tag = r.tag()
    if (tag === R.cells) row.values.push(readCell(r, L))
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
const readerOver = (bytes: Uint8Array) => protobuf.Reader.create(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))

/** Reads the frame at `[start, end)` of the reader's buffer (one reader serves every frame of a chunk). */
const readFrame = (r: protobuf.Reader, start: number, end: number, L: Layout): FrameBody => {
  r.pos = start
  r.len = end
  let body: FrameBody = EMPTY
  while (r.pos < r.len) {
    const tag = r.tag()
    if (tag === L.Frame.row) body = { _tag: "Row", row: readRow(r, L) }
    else if (tag === L.Frame.protocol_json) body = { _tag: "Json", json: r.string() }
    else if (tag === L.Frame.probe) {
      r.skip(r.uint32())
      body = PROBE
    } else r.skipType(tag & 7)
  }
  return body
}

const recordOf = (row: RowParts, data: Record<string, unknown>): M.AirbyteRecordMessage => {
  // Built in place (no spreads): this runs once per record.
  const record: { -readonly [K in keyof M.AirbyteRecordMessage]: M.AirbyteRecordMessage[K] } = row.namespace === undefined
    ? { stream: row.stream, data, emitted_at: row.emittedAt }
    : { namespace: row.namespace, stream: row.stream, data, emitted_at: row.emittedAt }
  if (row.changes.length > 0) record.meta = { changes: row.changes }
  if (row.partitionId !== "") record["partition_id"] = row.partitionId
  return record
}

// ------------------------------------------------------------------------------------- FRAME DECODER

export interface FrameDecoderOptions {
  readonly catalog: CodecCatalog
  readonly maxFrameBytes?: number | undefined
  /** Called for each probe frame; probes produce no message. */
  readonly onProbe?: (() => void) | undefined
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
    if (row.typed === undefined) data = codec.dataOf(row.values)
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
      return emit(readFrame(r, start, end, L), out)
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
