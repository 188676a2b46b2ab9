/**
 * Secret references in config-as-code: `secret("NAME")` is plain data (`{ $secret: "NAME" }`) that is
 * resolved from the environment only when work runs, and redaction for anything stored or logged.
 * Imports only `effect`.
 */
import type * as Brand from "effect/Brand"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

/** A reference to the environment variable that holds a secret. Serializes as `{ "$secret": "NAME" }`. */
export type Secret = { readonly $secret: string } & Brand.Brand<"sluice/Secret">

/** What every redacted value becomes. */
export const REDACTED = "**********"

/** Environment variable names: a letter or `_`, then letters, digits or `_`. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * A reference to the secret in environment variable `name`, read when the work runs (never when the
 * config is imported). The name is checked when the config is loaded.
 */
export const secret = (name: string): Secret => ({ $secret: name }) as Secret

/** Whether a value is a secret reference: an object whose only key is a string `$secret`. */
export const isSecret = (value: unknown): value is Secret =>
  typeof value === "object" && value !== null && !Array.isArray(value) &&
  typeof (value as { readonly $secret?: unknown }).$secret === "string" && Object.keys(value).length === 1

/** The Schema of a reference as it appears in a config file. */
export const SecretRef: Schema.Codec<Secret, { readonly $secret: string }> = Schema.Struct({
  $secret: Schema.String.check(Schema.isPattern(ENV_NAME, { expected: "an environment variable name (letters, digits and _)" }))
}).pipe(Schema.brand("sluice/Secret"))

/** A string given inline or as `secret("NAME")`. */
export const SecretOrString = Schema.Union([Schema.String, SecretRef]).annotate({ expected: "a string or secret(\"NAME\")" })

/** `T` with every secret reference replaced by the string it resolves to. */
export type Resolved<T> = T extends Secret ? string
  : T extends ReadonlyArray<infer E> ? ReadonlyArray<Resolved<E>>
  : T extends object ? { readonly [K in keyof T]: Resolved<T[K]> }
  : T

/** A referenced environment variable is not set when the work runs. */
export class MissingSecret extends Data.TaggedError("MissingSecret")<{
  /** The environment variable. */
  readonly name: string
  /** Where the reference is in the config, e.g. `connections.pg.source.config.password`. */
  readonly path: string
}> {
  override get message() {
    return `secret ${this.name} (referenced at ${this.path}) is not set: set the environment variable ${this.name}`
  }
}

const joinPath = (path: string, key: string | number) =>
  typeof key === "number" ? `${path}[${key}]` : path === "" ? key : `${path}.${key}`

const isPlainObject = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** Deep copy with references replaced, or the first reference (in document order) that is unset. */
const resolveValue = (
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  path: string
): { readonly value: unknown } | MissingSecret => {
  if (isSecret(value)) {
    const resolved = Object.hasOwn(env, value.$secret) ? env[value.$secret] : undefined
    return resolved === undefined ? new MissingSecret({ name: value.$secret, path: path === "" ? "(root)" : path }) : { value: resolved }
  }
  if (Array.isArray(value)) {
    const out: Array<unknown> = []
    for (let i = 0; i < value.length; i++) {
      const item = resolveValue(value[i], env, joinPath(path, i))
      if (item instanceof MissingSecret) return item
      out.push(item.value)
    }
    return { value: out }
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) {
      const resolved = resolveValue(item, env, joinPath(path, key))
      if (resolved instanceof MissingSecret) return resolved
      Object.defineProperty(out, key, { value: resolved.value, enumerable: true, writable: true, configurable: true })
    }
    return { value: out }
  }
  return { value }
}

/**
 * Deep-replaces every `secret("NAME")` in `value` with `env.NAME` (a copy; the input is not changed).
 * Fails with MissingSecret naming the variable and its path (under `prefix`) when one is unset; an
 * empty value counts as set.
 */
export const resolveSecrets = <T>(
  value: T,
  env: Readonly<Record<string, string | undefined>>,
  prefix = ""
): Effect.Effect<Resolved<T>, MissingSecret> =>
  Effect.suspend(() => {
    const resolved = resolveValue(value, env, prefix)
    return resolved instanceof MissingSecret ? Effect.fail(resolved) : Effect.succeed(resolved.value as Resolved<T>)
  })

/**
 * Keys whose values are secrets wherever they appear (built-in connectors, mappers and the usual
 * names in third-party connector configs and env): password, secret, token, api key, private or
 * access key, credentials, salt, and the encrypt mapper's `key`.
 */
export const SECRET_KEY = /passw(or)?d|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|credential|salt|^key$/i

export interface RedactOptions {
  /** Values known to be secret (e.g. the resolved ones): masked wherever they appear as a string. */
  readonly values?: Iterable<string> | undefined
}

const redactValue = (value: unknown, masked: boolean, values: ReadonlySet<string>): unknown => {
  if (isSecret(value)) return { $secret: value.$secret }
  if (Array.isArray(value)) return value.map((item) => redactValue(item, masked, values))
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) {
      const redacted = redactValue(item, masked || SECRET_KEY.test(key), values)
      Object.defineProperty(out, key, { value: redacted, enumerable: true, writable: true, configurable: true })
    }
    return out
  }
  if (typeof value === "string") return masked || values.has(value) ? REDACTED : value
  if (masked && (typeof value === "number" || typeof value === "bigint")) return REDACTED
  return value
}

/**
 * A copy safe to store or log. References stay as they are (`{ $secret: "NAME" }`: a name, not a
 * secret, and it records which variable fed the run), so redacting the spec as written stores exactly
 * the spec that ran. Plain strings and numbers at secret positions (under a key matching SECRET_KEY,
 * at any depth: an inline password, a resolved one, everything inside `credentials`) and any string
 * listed in `options.values` become `"**********"`.
 */
export const redactSecrets = <T>(value: T, options: RedactOptions = {}): T =>
  redactValue(value, false, new Set([...(options.values ?? [])].filter((v) => v.length > 0))) as T

const mapSecrets = (value: unknown, f: (ref: Secret) => unknown): unknown => {
  if (isSecret(value)) return f(value)
  if (Array.isArray(value)) return value.map((item) => mapSecrets(item, f))
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) {
      Object.defineProperty(out, key, { value: mapSecrets(item, f), enumerable: true, writable: true, configurable: true })
    }
    return out
  }
  return value
}

/** A copy with every reference replaced by the text `secret("NAME")`: for decoding where a string is expected. */
export const withPlaceholders = (value: unknown): unknown => mapSecrets(value, (ref) => `secret(${JSON.stringify(ref.$secret)})`)

/** The variables `value` references, each once, in document order. */
export const secretNames = (value: unknown): ReadonlyArray<string> => {
  const names = new Set<string>()
  mapSecrets(value, (ref) => names.add(ref.$secret))
  return [...names]
}
