/**
 * The column order of a stream's record values in the protobuf codecs. Imports only types.
 */
import type * as M from "./AirbyteMessage.ts"

/**
 * The wire order of a stream's columns: its `json_schema.properties` names sorted by UTF-16 code units
 * (JS default sort), the order of Kotlin's `sortedBy { name }` / `toSortedMap()` in the Bulk CDK.
 */
export const columnOrder = (jsonSchema: M.JsonObject): ReadonlyArray<string> => {
  const properties = jsonSchema["properties"]
  return typeof properties === "object" && properties !== null && !Array.isArray(properties) ? Object.keys(properties).sort() : []
}
