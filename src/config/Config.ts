/**
 * The config file's model: the Schema of `{ connections: { <name>: Connection } }` (shape, schedules,
 * retry limits, resources) and the authoring types behind `defineConfig`. Connector and mapper configs
 * are checked against their own Schemas by Validation.ts. Imports src/engine, src/plugins and `effect`.
 */
import * as Cron from "effect/Cron"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { IpcOptions } from "../engine/IpcOptions.ts"
import type { TransportPreference } from "../engine/replication/Architecture.ts"
import { PodOverrides } from "../scheduler/kubernetes/PodOverrides.ts"
import type { DestinationSpec, SourceSpec } from "./Connectors.ts"
import type { MapperSpec } from "./Mappers.ts"
import { ENV_NAME, SecretOrString } from "./Secret.ts"

const NonEmptyString = Schema.String.check(Schema.isNonEmpty())
const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0, { expected: "a non-negative integer" }))
const PositiveInt = Schema.Int.check(Schema.isGreaterThan(0, { expected: "a positive integer" }))

/** Connection names: 1–63 characters of a-z, 0-9, `_` and `-` (usable in ids, labels and file names). */
export const CONNECTION_NAME = /^[a-z0-9_-]{1,63}$/
export const connectionNameProblem = (name: string): string | undefined =>
  CONNECTION_NAME.test(name)
    ? undefined
    : `connection names are 1–63 characters of a-z, 0-9, _ and -; got ${JSON.stringify(name)}`
export const ConnectionName = Schema.String.check(Schema.makeFilter((name: string) => connectionNameProblem(name)))

// ----------------------------------------------------------------------------------------- Connectors

const connectorSpec = <K extends "source" | "destination">(kind: K) =>
  Schema.Struct({
    kind: Schema.Literal(kind),
    connector: NonEmptyString,
    config: Schema.Record(Schema.String, Schema.Unknown),
    command: Schema.optionalKey(Schema.Array(NonEmptyString).check(Schema.isMinLength(1))),
    ipc: Schema.optionalKey(IpcOptions),
    env: Schema.optionalKey(Schema.Record(Schema.String, SecretOrString))
  }).check(Schema.makeFilter((spec) => {
    const issues: Array<Schema.FilterIssue> = []
    const isCommand = spec.connector === "command"
    if (isCommand && spec.command === undefined) {
      issues.push({ path: ["command"], issue: "a command connector needs its argv, e.g. command: [\"python\", \"source.py\"]" })
    }
    if (!isCommand) {
      for (const key of ["command", "ipc", "env"] as const) {
        if (spec[key] !== undefined) issues.push({ path: [key], issue: `only connector: "command" takes ${key}; built-in connectors declare their own` })
      }
    }
    for (const name of Object.keys(spec.env ?? {})) {
      if (!ENV_NAME.test(name)) issues.push({ path: ["env", name], issue: "expected an environment variable name (letters, digits and _)" })
    }
    return issues
  }))

export const SourceSpecSchema = connectorSpec("source")
export const DestinationSpecSchema = connectorSpec("destination")
/** A source or destination spec as decoded: the connector's own config is checked apart. */
export type ConnectorSpecData = typeof SourceSpecSchema.Type | typeof DestinationSpecSchema.Type

// -------------------------------------------------------------------------------------------- Streams

const FieldPath = Schema.Array(NonEmptyString).check(Schema.isMinLength(1))

/**
 * Per-stream settings. A connection that lists `streams` syncs only those; without `streams` it syncs
 * every stream the source discovers. Defaults (see Catalog.ts): incremental + append where the stream
 * supports incremental, else full_refresh + overwrite; the source's cursor and primary key.
 */
export const StreamConfig = Schema.Struct({
  syncMode: Schema.optionalKey(Schema.Literals(["full_refresh", "incremental"])),
  destinationSyncMode: Schema.optionalKey(Schema.Literals(["append", "overwrite", "append_dedup"])),
  cursorField: Schema.optionalKey(FieldPath),
  primaryKey: Schema.optionalKey(Schema.Array(FieldPath).check(Schema.isMinLength(1)))
})
export type StreamConfig = typeof StreamConfig.Type

// ------------------------------------------------------------------------------------------- Schedule

/** The shortest interval between scheduled syncs. */
export const MIN_INTERVAL = Duration.minutes(1)

/** Why `every` is not an interval of at least a minute, or undefined when it is. */
export const intervalProblem = (every: string): string | undefined => {
  const parsed = /^\d+(\.\d+)? [a-z]+$/.test(every) ? Duration.fromInput(every as Duration.Input) : Option.none()
  if (Option.isNone(parsed) || !Duration.isFinite(parsed.value)) {
    return `expected an interval like "1 hour", "30 minutes" or "2 days", got ${JSON.stringify(every)}`
  }
  if (Duration.isLessThan(parsed.value, MIN_INTERVAL)) return `expected an interval of at least 1 minute, got ${JSON.stringify(every)}`
  return undefined
}

/** Why `cron` (in `timezone`, default UTC) is not a standard 5-field cron expression, or undefined. */
export const cronProblem = (cron: string, timezone: string | undefined): { readonly path: "cron" | "timezone"; readonly message: string } | undefined => {
  const fields = cron.trim().split(/\s+/).filter((f) => f.length > 0)
  if (fields.length !== 5) {
    return { path: "cron", message: `expected a cron expression of 5 fields (minute hour day-of-month month day-of-week), got ${JSON.stringify(cron)}` }
  }
  const parsed = Cron.parse(cron, timezone ?? "UTC")
  if (Result.isSuccess(parsed)) return undefined
  return parsed.failure.message === "Invalid time zone in cron expression"
    ? { path: "timezone", message: `expected an IANA time zone like "Europe/Berlin", got ${JSON.stringify(timezone)}` }
    : { path: "cron", message: `invalid cron expression ${JSON.stringify(cron)}: ${parsed.failure.message}` }
}

/**
 * When the connection syncs by itself: `{ every: "1 hour" }` (an interval of at least a minute) or
 * `{ cron: "0 * * * *", timezone?: "UTC" }` (5 fields). Without a schedule it syncs only on demand.
 */
export const ScheduleConfig = Schema.Struct({
  every: Schema.optionalKey(Schema.String),
  cron: Schema.optionalKey(Schema.String),
  timezone: Schema.optionalKey(Schema.String)
}).check(Schema.makeFilter((s) => {
  if ((s.every === undefined) === (s.cron === undefined)) return "expected exactly one of every (an interval) or cron"
  if (s.every !== undefined) {
    if (s.timezone !== undefined) return { path: ["timezone"], issue: "timezone applies to cron schedules only" }
    const problem = intervalProblem(s.every)
    return problem === undefined ? undefined : { path: ["every"], issue: problem }
  }
  const problem = cronProblem(s.cron ?? "", s.timezone)
  return problem === undefined ? undefined : { path: [problem.path], issue: problem.message }
}))

/** A duration string such as `"1 hour"` or `"30 minutes"`. */
export type IntervalText = `${number} ${Duration.Unit}`
export type Schedule = { readonly every: IntervalText } | { readonly cron: string; readonly timezone?: string }

// ---------------------------------------------------------------------------------------------- Retry

/**
 * Retry limits and backoff of this connection's jobs; anything unset takes the server's default
 * (Airbyte's: 5 successive / 10 total complete failures, 1000 successive / 20 total partial failures,
 * backoff min(10 s × 3^(n−1), 1800 s) after complete failures only).
 */
export const RetryConfig = Schema.Struct({
  backoff: Schema.optionalKey(
    Schema.Struct({
      minSeconds: Schema.optionalKey(NonNegativeInt),
      maxSeconds: Schema.optionalKey(NonNegativeInt),
      base: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(1, { expected: "a number ≥ 1" })))
    }).check(Schema.makeFilter((b) =>
      b.minSeconds !== undefined && b.maxSeconds !== undefined && b.maxSeconds < b.minSeconds
        ? { path: ["maxSeconds"], issue: `expected maxSeconds ≥ minSeconds (${b.minSeconds}), got ${b.maxSeconds}` }
        : undefined
    ))
  ),
  maxSuccessiveCompleteFailures: Schema.optionalKey(PositiveInt),
  maxTotalCompleteFailures: Schema.optionalKey(PositiveInt),
  maxSuccessivePartialFailures: Schema.optionalKey(PositiveInt),
  maxTotalPartialFailures: Schema.optionalKey(PositiveInt)
})
export type RetryConfig = typeof RetryConfig.Type

// ------------------------------------------------------------------------------------------ Resources

const CPU = /^(\d+(\.\d+)?|\d+m)$/
const MEMORY = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/

const quantity = (expected: string, pattern: RegExp) =>
  Schema.Union([Schema.Finite, Schema.String]).annotate({ expected }).check(Schema.makeFilter((q: number | string) =>
    (typeof q === "number" ? q > 0 : pattern.test(q) && !/^0+(\.0+)?[a-zA-Z]*$/.test(q))
      ? undefined
      : `expected ${expected}, got ${JSON.stringify(q)}`
  ))

/** Kubernetes-style quantities; the process launcher ignores them, the Kubernetes launcher requests and limits them. */
export const ResourceSpec = Schema.Struct({
  cpu: Schema.optionalKey(quantity("a CPU quantity like 2, 0.5 or \"500m\"", CPU)),
  memory: Schema.optionalKey(quantity("a memory quantity like \"512Mi\", \"2Gi\" or a number of bytes", MEMORY))
})
export const ResourcesConfig = Schema.Struct({
  source: Schema.optionalKey(ResourceSpec),
  destination: Schema.optionalKey(ResourceSpec)
})
export type ResourcesConfig = typeof ResourcesConfig.Type

// ----------------------------------------------------------------------------------------- Connection

export const Transport = Schema.Literals(["auto", "stdio", "socket"])

/** A mapper as the file holds it: its `type` names a middleware plugin, which decodes the rest. */
export const MapperData = Schema.Record(Schema.String, Schema.Unknown).check(Schema.makeFilter((m) =>
  typeof m["type"] === "string" ? undefined : { path: ["type"], issue: "expected the mapper type, e.g. \"hash\" (build mappers with mappers.*)" }
))

export const Connection = Schema.Struct({
  source: SourceSpecSchema,
  destination: DestinationSpecSchema,
  streams: Schema.optionalKey(
    Schema.Record(NonEmptyString, StreamConfig).check(Schema.makeFilter((streams) =>
      Object.keys(streams).length > 0 ? undefined : "list at least one stream, or leave streams out to sync every stream"
    ))
  ),
  mappers: Schema.optionalKey(Schema.Array(MapperData)),
  transport: Schema.optionalKey(Transport),
  schedule: Schema.optionalKey(ScheduleConfig),
  retry: Schema.optionalKey(RetryConfig),
  resources: Schema.optionalKey(ResourcesConfig),
  /** Pod settings of this connection's workloads under the Kubernetes launcher (docs/kubernetes.md). */
  kubernetes: Schema.optionalKey(PodOverrides)
})
export type Connection = typeof Connection.Type

/** The whole config file, as decoded (connector and mapper configs are checked by Validation.ts). */
export const Config = Schema.Struct({
  connections: Schema.Record(ConnectionName, Connection).check(Schema.makeFilter((connections) =>
    Object.keys(connections).length > 0 ? undefined : "define at least one connection"
  ))
})
export type Config = typeof Config.Type

// ------------------------------------------------------------------------------------ Authoring types

/** One connection as written in `sluice.config.ts`. */
export type ConnectionConfig = {
  readonly source: SourceSpec
  readonly destination: DestinationSpec
  /** Streams to sync and how; leave out to sync every stream with defaults. */
  readonly streams?: { readonly [stream: string]: StreamConfig }
  /** Applied in order to every record (stdio transport only). */
  readonly mappers?: ReadonlyArray<MapperSpec>
  /** Default "auto": socket when both connectors support it and no mappers are configured. */
  readonly transport?: TransportPreference
  /** Leave out for manual syncs only. */
  readonly schedule?: Schedule
  readonly retry?: RetryConfig
  readonly resources?: ResourcesConfig
  /**
   * Pod settings under the Kubernetes launcher: `resources` (every connector container), `source` and
   * `destination` (sync pods), `nodeSelectors`, `tolerations`, `annotations`, `labels`; each falls back
   * to the job type's settings from the environment.
   */
  readonly kubernetes?: PodOverrides
}

/** What `sluice.config.ts` default-exports. */
export type SluiceConfig = {
  readonly connections: { readonly [name: string]: ConnectionConfig }
}

/** The identity: gives a config file full types and inference. Does nothing at run time. */
export const defineConfig = <const C extends SluiceConfig>(config: C): C => config
