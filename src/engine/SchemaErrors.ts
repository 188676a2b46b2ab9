/**
 * Turns Schema decode failures into messages that name every bad path and what was found there,
 * e.g. `count: expected a positive integer, got "ten"`. Imports only `effect`.
 */
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"

export interface PathIssue {
  readonly path: string
  readonly message: string
}

const MAX_MESSAGE = 200

/** The default message, cut when the offending input is large. */
const shortLeaf = (issue: SchemaIssue.Leaf): string => {
  const message = SchemaIssue.defaultLeafHook(issue)
  return message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message
}

const formatter = SchemaIssue.makeFormatterStandardSchemaV1({ leafHook: shortLeaf })

const lowerFirst = (s: string) => (s.length > 0 ? s[0]!.toLowerCase() + s.slice(1) : s)

/** Joins a property path as `a.b[0].c`, prefixed with `prefix` when given. */
export const formatPath = (path: ReadonlyArray<PropertyKey>, prefix = ""): string => {
  let out = prefix
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`
    else out += out.length === 0 ? String(key) : `.${String(key)}`
  }
  return out.length === 0 ? "(root)" : out
}

/** Every issue of a SchemaError as path + message. */
export const issuesOf = (error: Schema.SchemaError, prefix = ""): ReadonlyArray<PathIssue> =>
  formatter(error.issue).issues.map((issue) => ({
    path: formatPath((issue.path ?? []).map((p) => (typeof p === "object" ? p.key : p)), prefix),
    message: lowerFirst(issue.message)
  }))

/** One line per issue: `path: message`. */
export const describe = (error: Schema.SchemaError, prefix = ""): string =>
  issuesOf(error, prefix).map((i) => `${i.path}: ${i.message}`).join("\n")

export interface DecodeAllOptions {
  /** Show the offending value in messages (default true; turn off where values may be secrets). */
  readonly reportInput?: boolean | undefined
  /** Reject unknown keys instead of ignoring them. */
  readonly onExcessProperty?: "ignore" | "error" | undefined
}

/**
 * Decodes `input` reporting every error (not only the first) with what was found; the failure is
 * the described text, one `path: message` line per issue.
 */
export const decodeAll = <S extends Schema.ConstraintDecoder<unknown>>(schema: S, options: DecodeAllOptions = {}) => {
  const decode = Schema.decodeUnknownExit(schema)
  const parseOptions = {
    errors: "all" as const,
    reportInput: options.reportInput ?? true,
    ...(options.onExcessProperty === undefined ? {} : { onExcessProperty: options.onExcessProperty })
  }
  return (input: unknown, prefix = ""): Exit.Exit<S["Type"], string> => {
    const exit = decode(input, parseOptions)
    if (Exit.isSuccess(exit)) return Exit.succeed(exit.value)
    const error = Cause.squash(exit.cause)
    return Exit.fail(Schema.isSchemaError(error) ? describe(error, prefix) : String(error))
  }
}
