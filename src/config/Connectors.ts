/**
 * Connector specs for config as code: `sources.*` / `destinations.*` build plain data
 * (`{ kind, connector, config, command?, ipc?, env? }`), and the table of connectors a config may name
 * (the built-ins of src/plugins/builtin.ts, by the name a config uses) with their config Schemas.
 * Imports src/engine, src/plugins and `effect`; never scheduler, store, api or cli.
 */
import * as Schema from "effect/Schema"
import type { AnyConnector } from "../engine/kit/Connector.ts"
import type { IpcOptions } from "../engine/IpcOptions.ts"
import { builtinConnectors } from "../plugins/builtin.ts"
import type { faker } from "../plugins/faker/Faker.ts"
import type { jsonl } from "../plugins/jsonl/JsonlDestination.ts"
import * as PgConfig from "../plugins/postgres/PostgresConfig.ts"
import type { Secret } from "./Secret.ts"

export type ConnectorKind = "source" | "destination"

/** A JSON value in a connector config, where a `secret("NAME")` may stand for any string. */
export type ConfigValue =
  | string
  | number
  | boolean
  | null
  | Secret
  | ReadonlyArray<ConfigValue>
  | { readonly [key: string]: ConfigValue }

/** The config object of a third-party connector: any JSON object, secrets allowed. */
export type CommandConfig = { readonly [key: string]: ConfigValue }

/** A connector Sluice knows by id (`connector: "faker"`); run as `sluice connector <id>`. */
export type ConnectorSpec<K extends ConnectorKind, Id extends string, C> = {
  readonly kind: K
  readonly connector: Id
  readonly config: C
}

/** Any Airbyte-protocol executable, run by its argv. */
export type CommandConnectorSpec<K extends ConnectorKind> = {
  readonly kind: K
  readonly connector: "command"
  /** argv; the protocol command and its flags are appended (`[...command, "read", "--config", …]`). */
  readonly command: ReadonlyArray<string>
  readonly config: CommandConfig
  /** The IPC options it declares; without them it runs over stdio only. */
  readonly ipc?: IpcOptions
  /** Extra environment for its process; values may be `secret("NAME")`. */
  readonly env?: { readonly [name: string]: string | Secret }
}

// ---------------------------------------------------------------------------------------- Postgres

export { SslMode } from "../plugins/postgres/PostgresConfig.ts"
/** The config Schema of the postgres source (defined by the plugin; secrets are decoded as placeholder strings). */
export const PostgresSourceConfig = PgConfig.PostgresSourceConfig
/** The config Schema of the postgres destination (defined by the plugin). */
export const PostgresDestinationConfig = PgConfig.PostgresDestinationConfig
/** A connector config where `password` may be `secret("NAME")`. */
type WithSecretPassword<C extends { readonly password?: string }> = Omit<C, "password"> & { readonly password?: string | Secret }
export type PostgresSourceConfig = WithSecretPassword<PgConfig.PostgresSourceConfig>
export type PostgresDestinationConfig = WithSecretPassword<PgConfig.PostgresDestinationConfig>

// ---------------------------------------------------------------------------------------- Builders

export type FakerSourceConfig = typeof faker.config.Type
export type JsonlDestinationConfig = typeof jsonl.config.Type

export type FakerSourceSpec = ConnectorSpec<"source", "faker", FakerSourceConfig>
export type PostgresSourceSpec = ConnectorSpec<"source", "postgres", PostgresSourceConfig>
export type JsonlDestinationSpec = ConnectorSpec<"destination", "jsonl", JsonlDestinationConfig>
export type DevNullDestinationSpec = ConnectorSpec<"destination", "dev-null", { readonly [key: string]: never }>
export type PostgresDestinationSpec = ConnectorSpec<"destination", "postgres", PostgresDestinationConfig>

/** What a connection's `source` may be. */
export type SourceSpec = FakerSourceSpec | PostgresSourceSpec | CommandConnectorSpec<"source">
/** What a connection's `destination` may be. */
export type DestinationSpec = JsonlDestinationSpec | DevNullDestinationSpec | PostgresDestinationSpec | CommandConnectorSpec<"destination">

export interface CommandOptions {
  readonly command: ReadonlyArray<string>
  readonly config: CommandConfig
  readonly ipc?: IpcOptions
  readonly env?: { readonly [name: string]: string | Secret }
}

const commandSpec = <K extends ConnectorKind>(kind: K, options: CommandOptions): CommandConnectorSpec<K> => ({
  kind,
  connector: "command",
  command: [...options.command],
  config: options.config,
  ...(options.ipc === undefined ? {} : { ipc: options.ipc }),
  ...(options.env === undefined ? {} : { env: options.env })
})

/** Source specs. Each returns plain data; nothing runs until a sync does. */
export const sources = {
  /** Deterministic fake users, products and purchases (built in). */
  faker: (config: FakerSourceConfig): FakerSourceSpec => ({ kind: "source", connector: "faker", config }),
  /** Tables of a PostgreSQL database. */
  postgres: (config: PostgresSourceConfig): PostgresSourceSpec => ({ kind: "source", connector: "postgres", config }),
  /** Any executable that speaks the Airbyte protocol as a source (must work over stdio). */
  command: (options: CommandOptions): CommandConnectorSpec<"source"> => commandSpec("source", options)
}

/** Destination specs. Each returns plain data; nothing runs until a sync does. */
export const destinations = {
  /**
   * One newline-delimited JSON file per stream under `path` (built in). A relative `path` is resolved
   * against the directory of the config file.
   */
  jsonl: (config: JsonlDestinationConfig): JsonlDestinationSpec => ({ kind: "destination", connector: "jsonl", config }),
  /** Discards records and acknowledges every state (built in; benchmarks). */
  devNull: (): DevNullDestinationSpec => ({ kind: "destination", connector: "dev-null", config: {} }),
  /** Tables in a PostgreSQL schema. */
  postgres: (config: PostgresDestinationConfig): PostgresDestinationSpec => ({ kind: "destination", connector: "postgres", config }),
  /** Any executable that speaks the Airbyte protocol as a destination (must work over stdio). */
  command: (options: CommandOptions): CommandConnectorSpec<"destination"> => commandSpec("destination", options)
}

// ---------------------------------------------------------------------------------- Known connectors

/** A connector a config may name. */
export interface KnownConnector {
  /** The id `sluice connector <id>` runs. */
  readonly id: string
  /** The name a config uses (`connector: "postgres"`): the id unless CONFIG_NAMES says otherwise. */
  readonly name: string
  readonly kind: ConnectorKind
  /** Decodes its config (after secret references are replaced by placeholder strings). */
  readonly config: Schema.Codec<unknown, unknown>
  /** Config keys holding file-system paths: relative ones resolve against the config file's directory. */
  readonly pathKeys: ReadonlyArray<string>
  /** The built-in that runs it. */
  readonly builtin: AnyConnector | undefined
}

const PATH_KEYS: Readonly<Record<string, ReadonlyArray<string>>> = { jsonl: ["path"] }

/** Built-ins a config names otherwise than by their id: `sources.postgres(…)` runs `sluice connector postgres-source`. */
const CONFIG_NAMES: Readonly<Record<string, string>> = { "postgres-source": "postgres", "postgres-destination": "postgres" }

const knownConnectors = (): ReadonlyArray<KnownConnector> =>
  builtinConnectors.map((builtin) => ({
    id: builtin.id,
    name: CONFIG_NAMES[builtin.id] ?? builtin.id,
    kind: builtin.kind,
    config: builtin.config,
    pathKeys: PATH_KEYS[builtin.id] ?? [],
    builtin
  }))

/** The connector a config names `name` for this kind, if there is one. */
export const findKnownConnector = (kind: ConnectorKind, name: string): KnownConnector | undefined =>
  knownConnectors().find((k) => k.kind === kind && k.name === name)

/** The names a config may use for this kind, in the order of src/plugins/builtin.ts. */
export const knownConnectorIds = (kind: ConnectorKind): ReadonlyArray<string> =>
  knownConnectors().filter((k) => k.kind === kind).map((k) => k.name)

/** Whether `id` names a connector of the other kind (`faker` as a destination). */
export const otherKindOf = (kind: ConnectorKind, id: string): ConnectorKind | undefined => {
  const other: ConnectorKind = kind === "source" ? "destination" : "source"
  return findKnownConnector(other, id) === undefined ? undefined : other
}
