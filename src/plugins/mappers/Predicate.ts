/**
 * The filter mapper's predicate language: declarative data (never evaluated code), a recursive Schema,
 * and a compiler that validates a predicate against the stream's schema once and turns it into a plain
 * closure over record data. Imports only src/engine, effect and node builtins.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as M from "../../engine/protocol/AirbyteMessage.ts"
import type { MiddlewareConfigError } from "../../engine/replication/Middleware.ts"
import * as Target from "./StreamTarget.ts"

export const PredicateOp = Schema.Literals([
  "eq",
  "neq",
  "gt",
  "gte",
  "lt",
  "lte",
  "in",
  "not_in",
  "exists",
  "not_exists",
  "contains",
  "starts_with",
  "matches"
])
export type PredicateOp = typeof PredicateOp.Type

export interface FieldPredicate {
  readonly field: string
  readonly op: PredicateOp
  readonly value?: unknown
}
export interface AndPredicate {
  readonly and: ReadonlyArray<Predicate>
}
export interface OrPredicate {
  readonly or: ReadonlyArray<Predicate>
}
export interface NotPredicate {
  readonly not: Predicate
}
export type Predicate = FieldPredicate | AndPredicate | OrPredicate | NotPredicate

const Self = Schema.suspend((): Schema.Codec<Predicate> => Predicate)

export const Predicate: Schema.Codec<Predicate> = Schema.Union([
  Schema.Struct({ field: Schema.String, op: PredicateOp, value: Schema.optionalKey(Schema.Unknown) }),
  Schema.Struct({ and: Schema.Array(Self) }),
  Schema.Struct({ or: Schema.Array(Self) }),
  Schema.Struct({ not: Self })
]).annotate({
  description: "{ field, op, value? } | { and: [...] } | { or: [...] } | { not: ... }; ordering ops compare numbers with numbers and strings with strings; matches takes a JavaScript regex (u flag)"
})

/** A compiled predicate: a plain function of a record's data. */
export type Test = (data: M.JsonObject) => boolean

/** The longest `matches` pattern accepted. */
export const maxPatternLength = 512

type Primitive = string | number | boolean | null

const isPrimitive = (value: unknown): value is Primitive =>
  value === null || typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value))

const jsonType = (value: Primitive): string => (value === null ? "null" : typeof value)

/** The JSON types a field's schema declares (`integer` counts as `number`); undefined when unknown. */
const declaredTypes = (properties: Readonly<Record<string, unknown>> | undefined, field: string): ReadonlySet<string> | undefined => {
  const schema = properties?.[field]
  if (typeof schema !== "object" || schema === null || !("type" in schema)) return undefined
  const type = schema.type
  const types = typeof type === "string" ? [type] : Array.isArray(type) ? type.filter((t) => typeof t === "string") : []
  return types.length === 0 ? undefined : new Set(types.map((t) => (t === "integer" ? "number" : t)))
}

const isUnboundedQuantifierAt = (pattern: string, i: number): boolean => {
  const c = pattern[i]
  return c === "+" || c === "*" || (c === "{" && /^\{\d+,/.test(pattern.slice(i, i + 12)))
}

/**
 * Whether a group holding a `+`, `*` or `{n,…}` quantifier is itself so quantified, like `(a+)+` or
 * `(a*){2,9}`: the classic exponential backtracking. A heuristic (overlapping alternations such as
 * `(a|a)*` pass); the pattern length cap bounds the rest.
 */
export const hasNestedQuantifier = (pattern: string): boolean => {
  const groups: Array<boolean> = []
  let inClass = false
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === "\\") i++
    else if (inClass) inClass = c !== "]"
    else if (c === "[") inClass = true
    else if (c === "(") groups.push(false)
    else if (c === ")") {
      const quantified = groups.pop() ?? false
      if (quantified && isUnboundedQuantifierAt(pattern, i + 1)) return true
      if (quantified && groups.length > 0) groups[groups.length - 1] = true
    } else if (groups.length > 0 && isUnboundedQuantifierAt(pattern, i)) groups[groups.length - 1] = true
  }
  return false
}

/** A leaf's problem with its value, as the message of the error at `….value`. */
interface LeafError {
  readonly message: string
}
const bad = (message: string): LeafError => ({ message })

/** The compiled pattern, or the engine's reason for rejecting it. */
const compileRegex = (pattern: string): RegExp | LeafError => {
  try {
    return new RegExp(pattern, "u")
  } catch (error) {
    return bad(`invalid regular expression: ${error instanceof Error ? error.message : String(error)}`)
  }
}

const ordering = (op: "gt" | "gte" | "lt" | "lte", f: string, value: number | string): Test => {
  if (typeof value === "number") {
    switch (op) {
      case "gt": return (d) => { const v = d[f]; return typeof v === "number" && v > value }
      case "gte": return (d) => { const v = d[f]; return typeof v === "number" && v >= value }
      case "lt": return (d) => { const v = d[f]; return typeof v === "number" && v < value }
      case "lte": return (d) => { const v = d[f]; return typeof v === "number" && v <= value }
    }
  }
  switch (op) {
    case "gt": return (d) => { const v = d[f]; return typeof v === "string" && v > value }
    case "gte": return (d) => { const v = d[f]; return typeof v === "string" && v >= value }
    case "lt": return (d) => { const v = d[f]; return typeof v === "string" && v < value }
    case "lte": return (d) => { const v = d[f]; return typeof v === "string" && v <= value }
  }
}

const compileLeaf = (leaf: FieldPredicate, declared: ReadonlySet<string> | undefined): Test | LeafError => {
  const { field: f, op } = leaf
  const hasValue = Object.hasOwn(leaf, "value")
  const value = leaf.value
  const fits = (type: string) => declared === undefined || declared.has(type)
  const declaredText = declared === undefined ? "" : [...declared].join(" | ")
  const mismatch = (type: string) => bad(`field '${f}' is declared as ${declaredText}, so comparing it with a ${type} never matches`)
  if (op === "exists" || op === "not_exists") {
    if (hasValue) return bad(`${op} takes no value; remove it`)
    return op === "exists" ? (d) => d[f] !== undefined && d[f] !== null : (d) => d[f] === undefined || d[f] === null
  }
  if (!hasValue) return bad(`${op} needs a value`)
  switch (op) {
    case "eq":
    case "neq": {
      if (!isPrimitive(value)) return bad(`${op} needs a string, number, boolean or null value`)
      if (value !== null && !fits(jsonType(value))) return mismatch(jsonType(value))
      const eq: Test = value === null ? (d) => d[f] === undefined || d[f] === null : (d) => d[f] === value
      return op === "eq" ? eq : (d) => !eq(d)
    }
    case "gt":
    case "gte":
    case "lt":
    case "lte": {
      if (typeof value !== "string" && !(typeof value === "number" && Number.isFinite(value))) {
        return bad(`${op} needs a number or a string (ISO timestamps compare as strings)`)
      }
      if (!fits(typeof value)) return mismatch(typeof value)
      return ordering(op, f, value)
    }
    case "in":
    case "not_in": {
      if (!Array.isArray(value) || value.length === 0) return bad(`${op} needs a non-empty array of strings, numbers, booleans or nulls`)
      const members: ReadonlyArray<unknown> = value
      const wrong = members.findIndex((member) => !isPrimitive(member))
      if (wrong >= 0) return bad(`${op} needs strings, numbers, booleans or nulls; element ${wrong} is not one`)
      const set = new Set(members)
      for (const member of members) if (isPrimitive(member) && member !== null && !fits(jsonType(member))) return mismatch(jsonType(member))
      const isIn: Test = (d) => { const v = d[f]; return set.has(v === undefined ? null : v) }
      return op === "in" ? isIn : (d) => !isIn(d)
    }
    case "contains": {
      if (!isPrimitive(value)) return bad("contains needs a string (substring) or a primitive (array element)")
      if (declared !== undefined && !declared.has("array") && !(typeof value === "string" && declared.has("string"))) {
        return bad(`field '${f}' is declared as ${declaredText}; contains needs a string field (with a string value) or an array field`)
      }
      return (d) => {
        const v = d[f]
        return typeof v === "string" ? typeof value === "string" && v.includes(value) : Array.isArray(v) && v.includes(value)
      }
    }
    case "starts_with": {
      if (typeof value !== "string") return bad("starts_with needs a string value")
      if (!fits("string")) return mismatch("string")
      return (d) => { const v = d[f]; return typeof v === "string" && v.startsWith(value) }
    }
    case "matches": {
      if (typeof value !== "string") return bad("matches needs a regular expression as a string")
      if (!fits("string")) return mismatch("string")
      if (value.length > maxPatternLength) return bad(`the pattern is ${value.length} characters long; at most ${maxPatternLength} are accepted`)
      if (hasNestedQuantifier(value)) return bad("the pattern nests unbounded quantifiers (like (a+)+), which can backtrack exponentially; rewrite it without nesting")
      const re = compileRegex(value)
      if (!(re instanceof RegExp)) return re
      return (d) => { const v = d[f]; return typeof v === "string" && re.test(v) }
    }
  }
}

const every = (tests: ReadonlyArray<Test>): Test =>
  tests.length === 1 ? tests[0]! : (d) => {
    for (const test of tests) if (!test(d)) return false
    return true
  }

const some = (tests: ReadonlyArray<Test>): Test =>
  tests.length === 1 ? tests[0]! : (d) => {
    for (const test of tests) if (test(d)) return true
    return false
  }

/**
 * Validates `predicate` against the stream (fields exist, values fit the op and the field's declared
 * type, patterns compile) and compiles it; errors name the path under `path`, e.g. `…keep.and[1].value`.
 */
export const compile = (
  middleware: string,
  target: Target.StreamTarget,
  predicate: Predicate,
  path: string
): Effect.Effect<Test, MiddlewareConfigError> =>
  Effect.suspend((): Effect.Effect<Test, MiddlewareConfigError> => {
    if ("and" in predicate || "or" in predicate) {
      const [key, children] = "and" in predicate ? ["and", predicate.and] as const : ["or", predicate.or] as const
      if (children.length === 0) return Effect.fail(Target.configError(middleware, `${path}.${key}`, `${key} needs at least one predicate`))
      return Effect.forEach(children, (child, i) => compile(middleware, target, child, `${path}.${key}[${i}]`)).pipe(
        Effect.map(key === "and" ? every : some)
      )
    }
    if ("not" in predicate) {
      return Effect.map(compile(middleware, target, predicate.not, `${path}.not`), (test): Test => (d) => !test(d))
    }
    return Target.requireField(middleware, target, predicate.field, `${path}.field`).pipe(
      Effect.flatMap(() => {
        const compiled = compileLeaf(predicate, declaredTypes(target.properties, predicate.field))
        return typeof compiled === "function"
          ? Effect.succeed(compiled)
          : Effect.fail(Target.configError(middleware, `${path}.value`, compiled.message))
      })
    )
  })
