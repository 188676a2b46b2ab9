/**
 * The official Airbyte protocol JSON Schema (the project's copy of `airbyte_protocol.yaml`) compiled with
 * ajv, as an oracle for tests. Test support only: must not be imported from `src/`.
 */
import { readFileSync } from "node:fs"
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv"
import addFormatsModule from "ajv-formats"
import { parse } from "yaml"

const schemaUrl = new URL("../../src/engine/protocol/airbyte/airbyte_protocol.yaml", import.meta.url)

interface Validators {
  readonly message: ValidateFunction
  readonly configuredCatalog: ValidateFunction
}

let cache: Validators | undefined

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const compile = (): Validators => {
  const document: unknown = parse(readFileSync(schemaUrl, "utf8"))
  if (!isRecord(document) || typeof document["$id"] !== "string") {
    throw new Error(`${schemaUrl.pathname} is not a JSON Schema document with an $id`)
  }
  // Draft-07 is ajv's default dialect. `strict: false` tolerates the schema's own keywords
  // (`existingJavaType`, top-level `version`); `allErrors` reports everything, not just the first.
  const ajv = new Ajv({ strict: false, allErrors: true })
  addFormatsModule.default(ajv)
  ajv.addSchema(document)
  const get = (name: string): ValidateFunction => {
    const validate = ajv.getSchema(`${document["$id"]}#/definitions/${name}`)
    if (validate === undefined) throw new Error(`the official schema has no definition ${name}`)
    return validate
  }
  return { message: get("AirbyteMessage"), configuredCatalog: get("ConfiguredAirbyteCatalog") }
}

const validators = (): Validators => (cache ??= compile())

const describe = (error: ErrorObject): string => {
  const where = error.instancePath === "" ? "/" : error.instancePath
  const allowed = error.keyword === "enum" && isRecord(error.params) && Array.isArray(error.params["allowedValues"])
    ? ` (${error.params["allowedValues"].join(", ")})`
    : ""
  return `${where} ${error.message ?? error.keyword}${allowed}`
}

const run = (validate: ValidateFunction, value: unknown): ReadonlyArray<string> =>
  validate(value) ? [] : (validate.errors ?? []).map(describe)

/** Errors ("instancePath message") of `value` as an `AirbyteMessage`; empty when valid. */
export const validateAirbyteMessage = (value: unknown): ReadonlyArray<string> => run(validators().message, value)

/** Errors ("instancePath message") of `value` as a `ConfiguredAirbyteCatalog`; empty when valid. */
export const validateConfiguredCatalog = (value: unknown): ReadonlyArray<string> =>
  run(validators().configuredCatalog, value)

const FIRST_FEW = 5

/** Throws an Error listing the first few schema errors when `value` is not a valid `AirbyteMessage`. */
export const assertValidAirbyteMessage = (value: unknown): void => {
  const errors = validateAirbyteMessage(value)
  if (errors.length > 0) {
    throw new Error(`not a valid AirbyteMessage: ${errors.slice(0, FIRST_FEW).join("; ")}\n${JSON.stringify(value)}`)
  }
}

/**
 * Throws an Error naming the offending lines (1-based) unless every line of `text` is a JSON
 * `AirbyteMessage` valid against the official schema. A final newline (and CRLF endings) are allowed;
 * an empty line anywhere else is an error.
 */
export const assertValidLines = (text: string): void => {
  const lines = text.split("\n")
  if (lines[lines.length - 1] === "") lines.pop()
  const problems: Array<string> = []
  for (let i = 0; i < lines.length && problems.length < FIRST_FEW; i++) {
    const line = lines[i]!.endsWith("\r") ? lines[i]!.slice(0, -1) : lines[i]!
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (cause) {
      problems.push(`line ${i + 1}: not JSON (${cause instanceof Error ? cause.message : String(cause)})`)
      continue
    }
    const errors = validateAirbyteMessage(value)
    if (errors.length > 0) problems.push(`line ${i + 1}: ${errors.slice(0, FIRST_FEW).join("; ")}`)
  }
  if (problems.length > 0) throw new Error(`invalid Airbyte JSONL:\n${problems.join("\n")}`)
}
