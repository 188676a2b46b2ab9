/**
 * Sluice's per-stream protobuf message type for record data (`SLUICE_PROTOBUF`, Sluice kit ↔ Sluice kit
 * only): instead of Airbyte's positional list of `Cell` messages, each property of the stream's JSON
 * schema is its own field of a message compiled from the schema at start-up. Both sides derive the
 * same field numbers from the configured catalog. Must not import anything outside protobufjs and
 * this folder.
 *
 * Wire form of one record's data (a nested message):
 *
 * - property i of `columnOrder` (sorted names), 0-based, is field `i + 1`: a `double` for `integer` and
 *   `number` properties, a `bool` for `boolean`, a `string` for `string` (whatever its format — temporal
 *   text travels as the text the source wrote);
 * - a `null` of property i is field `NULL_BASE + i` (a varint 0);
 * - a value that does not fit its property's type (a string in an integer column, an object, a
 *   non-finite number…) is field `JSON_BASE + i` holding its JSON text;
 * - a key the schema does not declare is field `EXTRA` holding the JSON text of `[key, value]`.
 *
 * Fields are written in the order of `data`'s keys, so the decoded object has the keys in the same
 * order and the same values as `JSON.parse(JSON.stringify(data))` — exactly what JSONL would carry
 * (keys whose value is `undefined` are left out, as JSON.stringify does). A value JSON cannot
 * represent at all (a bigint, a cycle) travels as null and is reported as nulled.
 */
import protobuf from "protobufjs"
import type * as M from "./AirbyteMessage.ts"
import { columnOrder } from "./ColumnOrder.ts"
import { columnKindOf, isObject, jsonText, setField } from "./ProtobufCells.ts"

export const NULL_BASE = 1 << 20
export const JSON_BASE = 1 << 21
export const EXTRA = (1 << 22) + 1
/** Columns beyond this have no typed field numbers; their values travel as EXTRA. */
export const MAX_TYPED_COLUMNS = NULL_BASE - 1

const WIRE_VARINT = 0
const WIRE_FIXED64 = 1
const WIRE_LENGTH = 2

type Kind = 0 | 1 | 2 | 3 // double, bool, string, json only

const KIND_DOUBLE = 0
const KIND_BOOL = 1
const KIND_STRING = 2
const KIND_JSON = 3

/** How a property travels: its column kind (the PROTOBUF codec's reading of the schema) reduced to four. */
const kindOf = (schema: unknown): Kind => {
  switch (columnKindOf(schema)) {
    case "integer":
    case "number":
      return KIND_DOUBLE
    case "boolean":
      return KIND_BOOL
    case "json":
      return KIND_JSON
    default:
      // string and the temporals: their text travels as it is.
      return KIND_STRING
  }
}

const WIRE_OF: Readonly<Record<Kind, number>> = { 0: WIRE_FIXED64, 1: WIRE_VARINT, 2: WIRE_LENGTH, 3: WIRE_LENGTH }

export interface TypedDataCodec {
  /**
   * Writes `data` as the nested message (tag and length included) under `tag`. Returns the names of
   * values JSON cannot represent (written as null), or undefined when there are none.
   */
  readonly write: (w: protobuf.Writer, tag: number, data: M.JsonObject) => Array<string> | undefined
  /** Reads the nested message at the reader's position (length prefix first). Throws RangeError on bad bytes. */
  readonly read: (r: protobuf.Reader) => Record<string, unknown>
}

export const makeTypedDataCodec = (jsonSchema: M.JsonObject): TypedDataCodec => {
  const properties = jsonSchema["properties"]
  const names = columnOrder(jsonSchema).slice(0, MAX_TYPED_COLUMNS)
  const kinds: Array<Kind> = names.map((name) => kindOf(isObject(properties) ? properties[name] : undefined))
  const index = new Map<string, number>(names.map((name, i) => [name, i]))
  const typedTag = kinds.map((kind, i) => (i + 1) * 8 + WIRE_OF[kind])
  const nullTag = names.map((_, i) => (NULL_BASE + i) * 8 + WIRE_VARINT)
  const jsonTag = names.map((_, i) => (JSON_BASE + i) * 8 + WIRE_LENGTH)
  const extraTag = EXTRA * 8 + WIRE_LENGTH

  const write: TypedDataCodec["write"] = (w, tag, data) => {
    let nulled: Array<string> | undefined
    w.uint32(tag).fork()
    for (const key in data) {
      if (!Object.hasOwn(data, key)) continue
      const value = data[key]
      if (value === undefined) continue
      const i = index.get(key)
      if (i === undefined) {
        const text = jsonText([key, value])
        if (text === undefined) {
          ;(nulled ??= []).push(key)
          w.uint32(extraTag).string(JSON.stringify([key, null]))
        } else w.uint32(extraTag).string(text)
        continue
      }
      if (value === null) {
        w.uint32(nullTag[i]!).uint32(0)
        continue
      }
      const kind = kinds[i]!
      if (kind === KIND_STRING && typeof value === "string") w.uint32(typedTag[i]!).string(value)
      // `+ 0` turns -0 into 0, as JSON does.
      else if (kind === KIND_DOUBLE && typeof value === "number" && Number.isFinite(value)) w.uint32(typedTag[i]!).double(value + 0)
      else if (kind === KIND_BOOL && typeof value === "boolean") w.uint32(typedTag[i]!).bool(value)
      else {
        const text = jsonText(value)
        if (text === undefined) {
          ;(nulled ??= []).push(key)
          w.uint32(nullTag[i]!).uint32(0)
        } else w.uint32(jsonTag[i]!).string(text)
      }
    }
    w.ldelim()
    return nulled
  }

  const read: TypedDataCodec["read"] = (r) => {
    const end = r.uint32() + r.pos
    if (end > r.len) throw new RangeError(`record data of ${end - r.pos} bytes overruns the frame`)
    const data: Record<string, unknown> = {}
    while (r.pos < end) {
      const tag = r.uint32()
      const field = tag >>> 3
      const wire = tag & 7
      const i = field - 1
      if (i >= 0 && i < names.length) {
        const kind = kinds[i]!
        if (kind === KIND_JSON || wire !== WIRE_OF[kind]) throw new RangeError(`field ${field} ('${names[i]}') has wire type ${wire}`)
        setField(data, names[i]!, kind === KIND_STRING ? r.string() : kind === KIND_DOUBLE ? r.double() : r.bool())
      } else if (field >= NULL_BASE && field < NULL_BASE + names.length && wire === WIRE_VARINT) {
        r.uint32()
        setField(data, names[field - NULL_BASE]!, null)
      } else if (field >= JSON_BASE && field < JSON_BASE + names.length && wire === WIRE_LENGTH) {
        setField(data, names[field - JSON_BASE]!, JSON.parse(r.string()))
      } else if (field === EXTRA && wire === WIRE_LENGTH) {
        const pair: unknown = JSON.parse(r.string())
        if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string") throw new RangeError("an extra field is not [key, value]")
        setField(data, pair[0], pair[1])
      } else throw new RangeError(`unknown field ${field} (wire type ${wire}) in record data`)
    }
    if (r.pos !== end) throw new RangeError(`a field overruns the record data by ${r.pos - end} bytes`)
    return data
  }

  return { write, read }
}
