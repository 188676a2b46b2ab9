/**
 * Column types on the destination side: the PostgreSQL type a JSON Schema property becomes, and the
 * per-column check-and-convert of a JSON value into the type's text input, so a value that does not
 * fit is nulled (and recorded) before it can fail a COPY. Pure; imports only node:buffer and the
 * engine's reading of property schemas.
 */
import { Buffer } from "node:buffer"
import { propertyTypeOf } from "../../engine/protocol/PropertySchema.ts"

/** The types the destination creates. Existing columns of other types are written as their text. */
export type ColumnType = "bigint" | "numeric" | "boolean" | "text" | "jsonb" | "timestamptz" | "timestamp" | "date" | "time" | "timetz" | "uuid" | "bytea"

/** Returned by a converter when the value does not fit the column. */
export const MISFIT: unique symbol = Symbol("sluice/postgres/misfit")
/** A non-null JSON value → the column type's text input, or MISFIT. */
export type ValueConverter = (value: unknown) => string | typeof MISFIT

type Schema = Readonly<Record<string, unknown>>

const stringType = (schema: Schema): ColumnType => {
  const airbyteType = schema["airbyte_type"]
  if (schema["contentEncoding"] === "base64") return "bytea"
  switch (schema["format"]) {
    case "date":
      return "date"
    case "time":
      return airbyteType === "time_without_timezone" ? "time" : "timetz"
    case "date-time":
      return airbyteType === "timestamp_without_timezone" ? "timestamp" : "timestamptz"
    case "uuid":
      return "uuid"
    default:
      return "text"
  }
}

const WELL_KNOWN: Readonly<Record<string, ColumnType>> = {
  Integer: "bigint",
  Number: "numeric",
  String: "text",
  BinaryData: "bytea",
  Boolean: "boolean",
  Date: "date",
  TimestampWithTimezone: "timestamptz",
  TimestampWithoutTimezone: "timestamp",
  TimeWithTimezone: "timetz",
  TimeWithoutTimezone: "time"
}

const namedType = (schema: Schema, type: unknown): ColumnType => {
  switch (type) {
    case "string":
      return stringType(schema)
    case "boolean":
      return "boolean"
    case "integer":
      return "bigint"
    case "number":
      return schema["airbyte_type"] === "integer" ? "bigint" : "numeric"
    default:
      return "jsonb"
  }
}

/**
 * The column type of a property schema: a nullable single type is that type; `format` date, time and
 * date-time (without time zone when `airbyte_type` says so), uuid, base64 strings as bytea, the
 * well-known `$ref`s; objects, arrays, unions and anything else are jsonb.
 */
export const columnTypeOf = (schema: unknown): ColumnType =>
  propertyTypeOf(schema, { named: namedType, wellKnown: WELL_KNOWN, fallback: "jsonb" })

// ------------------------------------------------------------------------------------------ CHECKS

const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
const OFFSET = "(Z|z|[+-]\\d{2}(?::?\\d{2}(?::?\\d{2})?)?)"
const CLOCK = "(\\d{2}):(\\d{2})(?::(\\d{2})(\\.\\d+)?)?"
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/
const TIMESTAMP_RE = new RegExp(`^(\\d{4})-(\\d{2})-(\\d{2})(?:[T ]${CLOCK}${OFFSET}?)?$`)
const TIME_RE = new RegExp(`^${CLOCK}${OFFSET}?$`)
const UUID_RE = /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$/
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const INTEGER_RE = /^[+-]?\d+$/
const DECIMAL_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/
/** A lone surrogate escaped by JSON.stringify (an odd number of backslashes before `u`): jsonb rejects it. */
const LONE_SURROGATE_RE = /(?<!\\)(?:\\\\)*\\u[dD][89a-fA-F]/

const validDate = (y: string, m: string, d: string): boolean => {
  const year = Number(y)
  const month = Number(m)
  const day = Number(d)
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > DAYS[month - 1]!) return false
  return month !== 2 || day < 29 || (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))
}

/** PostgreSQL takes 24:00:00 and a leap second 60, both only without a fraction. */
const validClock = (h: string | undefined, mi: string | undefined, s: string | undefined, fraction: string | undefined): boolean => {
  if (h === undefined) return true
  const hour = Number(h)
  const minute = Number(mi)
  const second = s === undefined ? 0 : Number(s)
  const whole = fraction === undefined || /^\.0+$/.test(fraction)
  return (hour < 24 && minute < 60 && (second < 60 || (second === 60 && whole))) || (hour === 24 && minute === 0 && second === 0 && whole)
}

const validOffset = (offset: string | undefined): boolean =>
  offset === undefined || offset === "Z" || offset === "z" || Number(offset.slice(1, 3)) <= 15

const INT_RANGES = {
  int2: [-32768n, 32767n],
  int4: [-2147483648n, 2147483647n],
  int8: [-9223372036854775808n, 9223372036854775807n]
} as const

const integer = (bits: keyof typeof INT_RANGES): ValueConverter => {
  const [min, max] = INT_RANGES[bits]
  const minN = Number(min)
  const maxN = Number(max)
  return (v) => {
    if (typeof v === "number") return Number.isInteger(v) && v >= minN && v < maxN ? String(v) : MISFIT
    if (typeof v !== "string" || !INTEGER_RE.test(v)) return MISFIT
    if (v.length < 10) return v
    const n = BigInt(v)
    return n >= min && n <= max ? n.toString() : MISFIT
  }
}

const numeric: ValueConverter = (v) => {
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : MISFIT
  return typeof v === "string" && DECIMAL_RE.test(v) ? v : MISFIT
}

const boolean: ValueConverter = (v) => (v === true ? "t" : v === false ? "f" : MISFIT)

const noNul = (text: string): string | typeof MISFIT => (text.includes("\u0000") ? MISFIT : text)

/** Scalars are written as their JSON text; a string as itself. */
const text = (maxLength: number | undefined): ValueConverter => (v) => {
  const out = typeof v === "string" ? noNul(v) : typeof v === "object" ? json(v) : String(v)
  return maxLength !== undefined && out !== MISFIT && out.length > maxLength && [...out].length > maxLength ? MISFIT : out
}

const json: ValueConverter = (v) => {
  const out = JSON.stringify(v)
  if (out.includes("\\u0000")) return MISFIT
  return out.includes("\\u") && LONE_SURROGATE_RE.test(out) ? MISFIT : out
}

const timestamp: ValueConverter = (v) => {
  if (typeof v !== "string") return MISFIT
  const m = TIMESTAMP_RE.exec(v)
  return m !== null && validDate(m[1]!, m[2]!, m[3]!) && validClock(m[4], m[5], m[6], m[7]) && validOffset(m[8]) ? v : MISFIT
}

const date: ValueConverter = (v) => {
  if (typeof v !== "string") return MISFIT
  const m = DATE_RE.exec(v)
  return m !== null && validDate(m[1]!, m[2]!, m[3]!) ? v : MISFIT
}

const time: ValueConverter = (v) => {
  if (typeof v !== "string") return MISFIT
  const m = TIME_RE.exec(v)
  return m !== null && validClock(m[1], m[2], m[3], m[4]) && validOffset(m[5]) ? v : MISFIT
}

const uuid: ValueConverter = (v) => (typeof v === "string" && UUID_RE.test(v) ? v : MISFIT)

const bytea: ValueConverter = (v) =>
  typeof v === "string" && v.length % 4 === 0 && BASE64_RE.test(v) ? `\\x${Buffer.from(v, "base64").toString("hex")}` : MISFIT

/** Strings as they are, anything else as JSON: for existing columns of types the destination does not create. */
const passthrough: ValueConverter = (v) => (typeof v === "string" ? noNul(v) : json(v))

/**
 * The converter for a column by its `pg_type.typname` (and `varchar`/`bpchar` length); existing
 * columns keep their type, so a later schema change is converted to what the column holds.
 */
export const converterFor = (typname: string, maxLength?: number): ValueConverter => {
  switch (typname) {
    case "int2":
    case "int4":
    case "int8":
      return integer(typname)
    case "numeric":
    case "float4":
    case "float8":
      return numeric
    case "bool":
      return boolean
    case "text":
    case "varchar":
    case "bpchar":
    case "name":
    case "citext":
      return text(maxLength)
    case "json":
    case "jsonb":
      return json
    case "timestamptz":
    case "timestamp":
      return timestamp
    case "date":
      return date
    case "time":
    case "timetz":
      return time
    case "uuid":
      return uuid
    case "bytea":
      return bytea
    default:
      return passthrough
  }
}
