/**
 * Turns a config file's default export into a `Config`, reporting EVERY problem with its full path:
 * plain-data checks, the Config Schema, each connector config against its connector's Schema, each
 * mapper against its plugin's Schema, connection names and a forced socket transport that cannot work.
 * Catalog-dependent checks happen at sync time (Catalog.ts). Imports src/engine, src/plugins, `effect`.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import { isAbsolute, resolve } from "node:path"
import type { IpcOptions } from "../engine/IpcOptions.ts"
import * as Architecture from "../engine/replication/Architecture.ts"
import * as SchemaErrors from "../engine/SchemaErrors.ts"
import { findMiddlewarePlugin, middlewarePluginIds } from "../plugins/middleware.ts"
import { type Config, Connection, connectionNameProblem, type ConnectorSpecData } from "./Config.ts"
import { ConfigInvalid, type ConfigIssue } from "./ConfigErrors.ts"
import { type ConnectorKind, findKnownConnector, knownConnectorIds, otherKindOf } from "./Connectors.ts"
import { isSecret, SECRET_KEY, withPlaceholders } from "./Secret.ts"

export interface ValidateOptions {
  /** Relative paths in connector configs (e.g. jsonl `path`) resolve against this directory. */
  readonly baseDir: string
  /** The config file, named in the error. */
  readonly file?: string | undefined
}

type Issues = Array<ConfigIssue>

const isObject = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const join = (path: string, key: string | number) =>
  typeof key === "number" ? `${path}[${key}]` : path === "" ? key : `${path}.${key}`

const typeName = (value: unknown): string => {
  if (typeof value === "function") return "a function"
  if (typeof value !== "object" || value === null) return typeof value
  const name = (value as { readonly constructor?: { readonly name?: unknown } }).constructor?.name
  return typeof name === "string" && name.length > 0 ? `a ${name}` : "an object with a custom prototype"
}

/** Problems that make a value something other than JSON data (plus secret references). */
const plainDataIssues = (value: unknown, path: string, issues: Issues, seen: Set<object>): void => {
  const at = path === "" ? "(default export)" : path
  switch (typeof value) {
    case "string":
    case "boolean":
      return
    case "number":
      if (!Number.isFinite(value)) issues.push({ path: at, message: `expected a finite number, got ${value}` })
      return
    case "undefined":
      issues.push({ path: at, message: "expected a value, got undefined (leave the key out instead)" })
      return
    case "object":
      break
    default:
      issues.push({ path: at, message: `expected plain data (config files hold data), got ${typeName(value)}` })
      return
  }
  if (value === null || isSecret(value)) return
  if (seen.has(value)) {
    issues.push({ path: at, message: "expected plain data, got a circular reference" })
    return
  }
  const proto: unknown = Object.getPrototypeOf(value)
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
    issues.push({ path: at, message: `expected plain data (config files hold data), got ${typeName(value)}` })
    return
  }
  seen.add(value)
  if (Array.isArray(value)) value.forEach((item: unknown, i) => plainDataIssues(item, join(path, i), issues, seen))
  else for (const [key, item] of Object.entries(value)) plainDataIssues(item, join(path, key), issues, seen)
  seen.delete(value)
}

/** An issue at a secret position (`…password`) does not quote the offending value. */
const withoutSecretInput = (issue: ConfigIssue): ConfigIssue =>
  issue.path.split(/[.[\]]/).some((segment) => segment !== "$secret" && SECRET_KEY.test(segment))
    ? { path: issue.path, message: issue.message.replace(/, got [\s\S]*$/, " (the value is not shown)") }
    : issue

/** Decodes reporting every issue under `prefix`, with what was found; unknown keys are errors. */
const decode = <A>(schema: Schema.Codec<A, unknown>, input: unknown, prefix: string): { readonly value: A } | Issues => {
  const exit = Schema.decodeUnknownExit(schema)(input, { errors: "all", onExcessProperty: "error", reportInput: true })
  if (Exit.isSuccess(exit)) return { value: exit.value }
  const error = Cause.squash(exit.cause)
  return Schema.isSchemaError(error) ? SchemaErrors.issuesOf(error, prefix).map(withoutSecretInput) : [{ path: prefix, message: String(error) }]
}

const TopLevel = Schema.Struct({ connections: Schema.Record(Schema.String, Schema.Unknown) })

/** The connector config against its connector's own Schema (secrets stand in as strings). */
const connectorIssues = (kind: ConnectorKind, raw: unknown, path: string, issues: Issues): void => {
  if (!isObject(raw) || typeof raw["connector"] !== "string" || raw["connector"] === "command") return
  const id = raw["connector"]
  const known = findKnownConnector(kind, id)
  if (known === undefined) {
    const other = otherKindOf(kind, id)
    issues.push({
      path: `${path}.connector`,
      message: other !== undefined
        ? `${JSON.stringify(id)} is a ${other} connector; it cannot be the ${kind}`
        : `unknown ${kind} connector ${JSON.stringify(id)}; known ${kind}s: ${knownConnectorIds(kind).join(", ")}; ` +
          `or run any Airbyte-protocol executable with ${kind}s.command({ command: [...], config })`
    })
    return
  }
  if (!isObject(raw["config"])) return
  const decoded = decode(known.config, withPlaceholders(raw["config"]), `${path}.config`)
  if (Array.isArray(decoded)) issues.push(...decoded)
}

/** Each mapper against its middleware plugin's Schema (decode only). */
const mapperIssues = (raw: unknown, path: string, issues: Issues): void => {
  if (!Array.isArray(raw)) return
  raw.forEach((mapper: unknown, i) => {
    const at = `${path}[${i}]`
    if (!isObject(mapper) || typeof mapper["type"] !== "string") return
    const plugin = findMiddlewarePlugin(mapper["type"])
    if (plugin === undefined) {
      issues.push({
        path: `${at}.type`,
        message: `unknown mapper type ${JSON.stringify(mapper["type"])}; known types: ${middlewarePluginIds().join(", ")}`
      })
      return
    }
    const decoded = decode(plugin.config, withPlaceholders(mapper), at)
    if (Array.isArray(decoded)) issues.push(...decoded)
  })
}

/** The IPC options a spec declares; "unknown" for a connector this build cannot run yet. */
const ipcOf = (kind: ConnectorKind, spec: ConnectorSpecData): IpcOptions | undefined | "unknown" => {
  if (spec.connector === "command") return spec.ipc
  const builtin = findKnownConnector(kind, spec.connector)?.builtin
  return builtin === undefined ? "unknown" : builtin.ipc
}

/** `transport: "socket"` with mappers or a connector without socket support fails every sync: say so now. */
const transportIssues = (connection: Connection, path: string, issues: Issues): void => {
  if (connection.transport !== "socket") return
  const source = ipcOf("source", connection.source)
  const destination = ipcOf("destination", connection.destination)
  const hasMiddleware = (connection.mappers?.length ?? 0) > 0
  if (!hasMiddleware && (source === "unknown" || destination === "unknown")) return
  const decision = Architecture.decide({
    preference: "socket",
    source: source === "unknown" ? undefined : source,
    destination: destination === "unknown" ? undefined : destination,
    hasMiddleware
  })
  if ("_tag" in decision) issues.push({ path: `${path}.transport`, message: decision.reason })
}

/** The connection with relative paths in built-in connector configs made absolute. */
const withAbsolutePaths = (connection: Connection, baseDir: string): Connection => {
  const fix = <S extends Connection["source"] | Connection["destination"]>(spec: S): S => {
    const keys = spec.connector === "command" ? [] : findKnownConnector(spec.kind, spec.connector)?.pathKeys ?? []
    const config: Record<string, unknown> = { ...spec.config }
    for (const key of keys) {
      const value = config[key]
      if (typeof value === "string" && !isAbsolute(value)) config[key] = resolve(baseDir, value)
    }
    return { ...spec, config }
  }
  return { ...connection, source: fix(connection.source), destination: fix(connection.destination) }
}

/** Every issue after the first at the same path is dropped (a function is not also "expected number"). */
const dedupe = (issues: Issues): ReadonlyArray<ConfigIssue> => {
  const seen = new Set<string>()
  return issues.filter((issue) => {
    if (seen.has(issue.path)) return false
    seen.add(issue.path)
    return true
  })
}

/**
 * The config, or every problem found in it. Relative paths in built-in connector configs (jsonl
 * `path`) come back absolute, resolved against `options.baseDir`; secret references stay as they are.
 */
export const validateConfig = (input: unknown, options: ValidateOptions): { readonly config: Config } | { readonly issues: ReadonlyArray<ConfigIssue> } => {
  const issues: Issues = []
  plainDataIssues(input, "", issues, new Set())
  if (!isObject(input)) {
    if (issues.length === 0) {
      issues.push({ path: "(default export)", message: `expected defineConfig({ connections: { ... } }), got ${input === null ? "null" : typeName(input)}` })
    }
    return { issues: dedupe(issues) }
  }
  const top = decode(TopLevel, input, "")
  if (Array.isArray(top)) return { issues: dedupe([...issues, ...top]) }
  const names = Object.keys(top.value.connections)
  if (names.length === 0) issues.push({ path: "connections", message: "define at least one connection" })
  const connections: Record<string, Connection> = {}
  for (const name of names) {
    const path = `connections.${name}`
    const raw = top.value.connections[name]
    const nameProblem = connectionNameProblem(name)
    if (nameProblem !== undefined) issues.push({ path, message: nameProblem })
    const decoded = decode(Connection, raw, path)
    if (Array.isArray(decoded)) issues.push(...decoded)
    if (isObject(raw)) {
      connectorIssues("source", raw["source"], `${path}.source`, issues)
      connectorIssues("destination", raw["destination"], `${path}.destination`, issues)
      mapperIssues(raw["mappers"], `${path}.mappers`, issues)
    }
    if (!Array.isArray(decoded)) {
      transportIssues(decoded.value, path, issues)
      Object.defineProperty(connections, name, {
        value: withAbsolutePaths(decoded.value, options.baseDir),
        enumerable: true,
        writable: true,
        configurable: true
      })
    }
  }
  return issues.length > 0 ? { issues: dedupe(issues) } : { config: { connections } }
}

/** validateConfig as an Effect failing with ConfigInvalid. */
export const decodeConfig = (input: unknown, options: ValidateOptions): Effect.Effect<Config, ConfigInvalid> =>
  Effect.suspend(() => {
    const result = validateConfig(input, options)
    return "config" in result
      ? Effect.succeed(result.config)
      : Effect.fail(new ConfigInvalid({ path: options.file, issues: result.issues }))
  })
