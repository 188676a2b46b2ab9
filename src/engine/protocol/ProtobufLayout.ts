/**
 * The wire tags the socket-mode codec uses, read from `socket.proto` (next to this module) and checked
 * against it. Must not import anything outside protobufjs, node builtins and AirbyteMessage.ts.
 */
import { readFileSync } from "node:fs"
import protobuf from "protobufjs"
import * as M from "./AirbyteMessage.ts"

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
export type Layout = { readonly [T in keyof typeof FIELDS]: { readonly [F in keyof (typeof FIELDS)[T]]: number } }

// The Schemas list the values in wire order: the index is the protobuf enum number.
export const CHANGE_KINDS = M.RecordChangeType.literals
export const CHANGE_CAUSES = M.RecordChangeReason.literals

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
export const layout = (): Layout => {
  if (cachedLayout === undefined) {
    const source = readFileSync(new URL("./socket.proto", import.meta.url), "utf8")
    cachedLayout = layoutOf(protobuf.parse(source, { keepCase: true }).root)
  }
  return cachedLayout
}
