/**
 * PostgreSQL column types as the source sees them: the JSON Schema (with Airbyte's `airbyte_type`) a
 * column is discovered as, and the converter from the server's text output to the record's JSON value.
 * Pure functions; imports nothing outside this folder.
 */

/** A column as the catalog queries describe it (domains already resolved to their base type). */
export interface ColumnInfo {
  readonly name: string
  /** `pg_type.typname` of the (base) type: int4, timestamptz, _text … */
  readonly type: string
  /** `pg_type.typtype`: b(ase), e(num), c(omposite), r(ange), d(omain), m(ultirange), p(seudo). */
  readonly typtype: string
  /** For arrays, the element's typname; undefined otherwise. */
  readonly elementType: string | undefined
  readonly notNull: boolean
}

/** Returned by a converter when the text has no JSON form: the field is nulled and recorded in meta.changes. */
export const INVALID: unique symbol = Symbol("sluice/postgres/invalid")
export type Converter = (text: string) => unknown

type JsonSchema = Readonly<Record<string, unknown>>

interface TypeMapping {
  readonly schema: JsonSchema
  readonly convert: Converter
}

const integer: Converter = (text) => Number(text)

/** int8: a JSON number when a double holds it exactly, else its decimal text. */
const bigint: Converter = (text) => {
  const n = Number(text)
  return Number.isSafeInteger(n) ? n : text
}

const float: Converter = (text) => {
  const n = Number(text)
  return Number.isFinite(n) ? n : INVALID
}

/** `656.30` and `656.3` are the same decimal: trailing fractional zeros do not count as precision. */
const canonicalDecimal = (text: string): string => {
  const dot = text.indexOf(".")
  if (dot < 0) return text
  let end = text.length
  while (text.charCodeAt(end - 1) === 48) end--
  if (end - 1 === dot) end--
  const trimmed = text.slice(0, end)
  return trimmed === "-0" ? "0" : trimmed
}

/** numeric: a JSON number when the double prints as the same decimal (no precision lost), else the decimal text. */
const numeric: Converter = (text) => {
  if (text === "NaN" || text === "Infinity" || text === "-Infinity") return INVALID
  const n = Number(text)
  return String(n) === canonicalDecimal(text) ? n : text
}

const boolean: Converter = (text) => text === "t"

const string: Converter = (text) => text

/** Dates and timestamps: ISO form; `infinity` and BC dates have no ISO 8601 form here. */
const datePart = (text: string) => !(text.endsWith(" BC") || text === "infinity" || text === "-infinity")

const date: Converter = (text) => (datePart(text) ? text : INVALID)

/** `2024-01-01 10:00:00` → `2024-01-01T10:00:00` (the date part may have more than four year digits). */
const withT = (text: string): string => {
  const space = text.indexOf(" ")
  return space < 0 ? text : `${text.slice(0, space)}T${text.slice(space + 1)}`
}

const timestamp: Converter = (text) => (datePart(text) ? withT(text) : INVALID)

const OFFSET = /([+-])(\d{2})(?::(\d{2}))?(?::(\d{2}))?$/

/** `+02` → `+02:00`; UTC (the session time zone) → `Z`. */
const isoOffset = (text: string): string => {
  const m = OFFSET.exec(text)
  if (m === null) return text
  const offset = `${m[1]}${m[2]}:${m[3] ?? "00"}${m[4] === undefined ? "" : `:${m[4]}`}`
  return text.slice(0, m.index) + (offset === "+00:00" ? "Z" : offset)
}

const timestamptz: Converter = (text) => (datePart(text) ? isoOffset(withT(text)) : INVALID)

const timetz: Converter = (text) => isoOffset(text)

const json: Converter = (text) => {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return INVALID
  }
}

const bytea: Converter = (text) => (text.startsWith("\\x") ? Buffer.from(text.slice(2), "hex").toString("base64") : INVALID)

const scalar = (schema: JsonSchema, convert: Converter): TypeMapping => ({ schema, convert })

const STRING: TypeMapping = scalar({ type: "string" }, string)

/** The base types with a dedicated mapping; every other type is its text output as a string. */
const SCALARS: Readonly<Record<string, TypeMapping>> = {
  int2: scalar({ type: "integer" }, integer),
  int4: scalar({ type: "integer" }, integer),
  oid: scalar({ type: "integer" }, integer),
  int8: scalar({ type: "integer" }, bigint),
  float4: scalar({ type: "number" }, float),
  float8: scalar({ type: "number" }, float),
  numeric: scalar({ type: "number" }, numeric),
  bool: scalar({ type: "boolean" }, boolean),
  date: scalar({ type: "string", format: "date" }, date),
  time: scalar({ type: "string", format: "time", airbyte_type: "time_without_timezone" }, string),
  timetz: scalar({ type: "string", format: "time", airbyte_type: "time_with_timezone" }, timetz),
  timestamp: scalar({ type: "string", format: "date-time", airbyte_type: "timestamp_without_timezone" }, timestamp),
  timestamptz: scalar({ type: "string", format: "date-time", airbyte_type: "timestamp_with_timezone" }, timestamptz),
  json: scalar({}, json),
  jsonb: scalar({}, json),
  uuid: scalar({ type: "string", format: "uuid" }, string),
  bytea: scalar({ type: "string", contentEncoding: "base64" }, bytea)
}

const scalarOf = (type: string, typtype: string): TypeMapping => (typtype === "b" ? SCALARS[type] ?? STRING : STRING)

/** Adds "null" to a schema's type (a column without NOT NULL); `{}` already admits null. */
const nullable = (schema: JsonSchema): JsonSchema => {
  const type = schema["type"]
  return typeof type === "string" ? { ...schema, type: [type, "null"] } : schema
}

// ------------------------------------------------------------------------------------------- ARRAYS

/**
 * Parses an array's text output (`{1,2}`, `{{a,"b c"},{NULL,"d\"e"}}`, `[0:1]={x,y}`) into nested
 * arrays, each element converted; undefined when the text is not an array literal.
 */
export const parseArray = (text: string, element: Converter): ReadonlyArray<unknown> | undefined => {
  let i = text.startsWith("[") ? text.indexOf("=") + 1 : 0
  if (text[i] !== "{") return undefined
  const stack: Array<Array<unknown>> = []
  let root: Array<unknown> | undefined
  while (i < text.length) {
    const c = text[i]!
    if (c === "{") {
      const next: Array<unknown> = []
      stack[stack.length - 1]?.push(next)
      stack.push(next)
      i++
    } else if (c === "}") {
      root = stack.pop()
      i++
    } else if (c === "," || c === " ") {
      i++
    } else if (c === "\"") {
      let value = ""
      i++
      while (i < text.length && text[i] !== "\"") {
        if (text[i] === "\\") i++
        value += text[i] ?? ""
        i++
      }
      i++
      const converted = element(value)
      stack[stack.length - 1]?.push(converted === INVALID ? null : converted)
    } else {
      let end = i
      while (end < text.length && text[end] !== "," && text[end] !== "}") end++
      const raw = text.slice(i, end)
      const converted = raw === "NULL" ? null : element(raw)
      stack[stack.length - 1]?.push(converted === INVALID ? null : converted)
      i = end
    }
  }
  return stack.length === 0 ? root : undefined
}

// ------------------------------------------------------------------------------------------- COLUMNS

/** The JSON Schema a column is discovered as. */
export const jsonSchemaOf = (column: ColumnInfo): JsonSchema => {
  const schema = column.elementType === undefined
    ? scalarOf(column.type, column.typtype).schema
    : { type: "array", items: nullable(scalarOf(column.elementType, "b").schema) }
  return column.notNull ? schema : nullable(schema)
}

/** The converter from a column's text output to its JSON value (INVALID when there is none). */
export const converterOf = (column: ColumnInfo): Converter => {
  if (column.elementType === undefined) return scalarOf(column.type, column.typtype).convert
  const element = scalarOf(column.elementType, "b").convert
  return (text) => parseArray(text, element) ?? INVALID
}

/** Types a cursor cannot be ordered by (or compared as text reliably). */
export const isCursorable = (column: ColumnInfo): boolean =>
  column.elementType === undefined && !["json", "jsonb", "xml", "point", "polygon", "line", "lseg", "box", "path", "circle"].includes(column.type)
