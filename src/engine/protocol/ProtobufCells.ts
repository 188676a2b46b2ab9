/**
 * Column kinds and the cell and row-meta members of socket-mode records: one value ⇄ its cell. Must not import
 * anything but protobufjs types and this folder's AirbyteMessage.ts, ProtobufLayout.ts and ProtobufTemporals.ts.
 */
import type protobuf from "protobufjs"
import type * as M from "./AirbyteMessage.ts"
import { CHANGE_CAUSES, CHANGE_KINDS, type Layout } from "./ProtobufLayout.ts"
import { propertyTypeOf, type PropertyTypes } from "./PropertySchema.ts"
import {
  DATE_RE,
  dateAt,
  DECIMAL_TEXT,
  decimalValue,
  exactIntegerNumber,
  formatDate,
  formatInstant,
  formatOffset,
  formatTime,
  int64Number,
  int64Value,
  INTEGER_TEXT,
  integerTextValue,
  LOCAL_TIME_RE,
  LOCAL_TIMESTAMP_RE,
  NANOS_PER_SECOND,
  OFFSET_TIME_RE,
  OFFSET_TIMESTAMP_RE,
  offsetAt,
  SECONDS_PER_DAY,
  timeAt
} from "./ProtobufTemporals.ts"

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

export const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

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

const COLUMN_KINDS: PropertyTypes<ColumnKind> = { named: namedKind, wellKnown: WELL_KNOWN, fallback: "json" }

/**
 * The kind of a column from its property schema, following the Bulk CDK's reading of JSON schemas:
 * `format` date / time / date-time (with tz unless `airbyte_type` says without), the well-known `$ref`s,
 * `number` with `airbyte_type: integer`; a nullable single type is that type; unions, objects, arrays
 * and anything unrecognised are `json`.
 */
export const columnKindOf = (schema: unknown): ColumnKind => propertyTypeOf(schema, COLUMN_KINDS)

// -------------------------------------------------------------------------------------- CELL WRITERS

/** Sets a key as an own property, including `__proto__` (which plain assignment would treat as the prototype). */
export const setField = (data: Record<string, unknown>, name: string, value: unknown) => {
  if (name === "__proto__") Object.defineProperty(data, name, { value, enumerable: true, writable: true, configurable: true })
  else data[name] = value
}

/** Writes one non-null value as the members of a cell; false (having written nothing) when it cannot. */
type CellWriter = (w: protobuf.Writer, value: unknown) => boolean

/** JSON text of a value, or undefined when JSON has no form for it (bigint, cycles, functions). */
export const jsonText = (value: unknown): string | undefined => {
  try {
    return JSON.stringify(value)
  } catch {
    return undefined
  }
}

export const makeCellWriters = (L: Layout): { readonly [K in ColumnKind]: CellWriter } => {
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
export const nestedEnd = (r: protobuf.Reader): number => {
  const end = r.uint32() + r.pos
  if (end > r.len) throw new RangeError(`nested message of ${end - r.pos} bytes overruns the frame`)
  return end
}

/** Checks that the last field of a nested message ended exactly at the message's end. */
export const closeNested = (r: protobuf.Reader, end: number) => {
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
export const readCell = (r: protobuf.Reader, L: Layout): unknown => {
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

export const writeMeta = (w: protobuf.Writer, L: Layout, changes: ReadonlyArray<M.RecordMetaChange>) => {
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

export const readMeta = (r: protobuf.Reader, L: Layout, into: Array<M.RecordMetaChange>) => {
  const end = nestedEnd(r)
  while (r.pos < end) {
    const tag = r.tag()
    if (tag === L.RowMeta.changes) into.push(readChange(r, L.FieldChange))
    else r.skipType(tag & 7)
  }
  closeNested(r, end)
}
