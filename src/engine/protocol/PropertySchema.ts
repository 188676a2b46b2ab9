/**
 * One reading of a property's JSON schema, shared by every mapping of columns to a target type (the
 * socket codecs' column kinds, the postgres destination's column types): the Bulk CDK's rules for
 * which single type a property has. Imports nothing.
 */

/** How a target names its types. */
export interface PropertyTypes<T> {
  /** The target type of a schema whose `type` is the single JSON type `type`. */
  readonly named: (schema: Record<string, unknown>, type: unknown) => T
  /** The target types of the well-known `$ref`s, by their last path segment (`Integer`, `Date`, …). */
  readonly wellKnown: Readonly<Record<string, T>>
  /** Unions, objects, arrays and anything unrecognised. */
  readonly fallback: T
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * The target type of a property schema: its `type` when single (a nullable single type is that type),
 * a well-known `$ref`, or a `oneOf`/`anyOf` with one non-null member; `fallback` otherwise.
 */
export const propertyTypeOf = <T>(schema: unknown, types: PropertyTypes<T>): T => {
  if (!isObject(schema)) return types.fallback
  const type = schema["type"]
  if (typeof type === "string") return types.named(schema, type)
  if (Array.isArray(type)) {
    const single = type.filter((t) => t !== "null")
    return single.length === 1 ? types.named(schema, single[0]) : types.fallback
  }
  const ref = schema["$ref"]
  if (typeof ref === "string") return types.wellKnown[ref.slice(ref.lastIndexOf("/") + 1)] ?? types.fallback
  const options = schema["oneOf"] ?? schema["anyOf"]
  if (Array.isArray(options)) {
    const nonNull = options.filter((o) => !(isObject(o) && o["type"] === "null"))
    return nonNull.length === 1 ? propertyTypeOf(nonNull[0], types) : types.fallback
  }
  return types.fallback
}
