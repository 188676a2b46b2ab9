/**
 * The config Schemas of the postgres source and destination (the exact keys config-as-code uses; the
 * `password` a connector receives is the resolved string). The one definition: src/config imports it.
 * Imports only `effect`.
 */
import * as Schema from "effect/Schema"

const NonEmptyString = Schema.String.check(Schema.isNonEmpty())
const Port = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 65535 }, { expected: "a port number between 1 and 65535" }))

/** libpq's `sslmode` values. */
export const SslMode = Schema.Literals(["disable", "allow", "prefer", "require", "verify-ca", "verify-full"])
export type SslMode = typeof SslMode.Type

/** The connection keys both connectors share. */
export const connectionFields = {
  host: NonEmptyString.annotate({ description: "Host name or IP address of the server" }),
  port: Port.annotate({ description: "TCP port of the server (usually 5432)" }),
  database: NonEmptyString.annotate({ description: "Database name" }),
  user: NonEmptyString.annotate({ description: "User name" }),
  password: Schema.optionalKey(Schema.String).annotate({ description: "Password; write secret(\"PGPASSWORD\")" }),
  ssl_mode: Schema.optionalKey(SslMode).annotate({ description: "libpq sslmode (default prefer)" })
}

const schemasField = Schema.Array(NonEmptyString).check(Schema.isMinLength(1)).annotate({ description: "Schemas whose tables are streams" })
const schemaField = NonEmptyString.annotate({ description: "Schema the tables are written to (created if missing)" })

/** Config of the postgres source. */
export const PostgresSourceConfig = Schema.Struct({ ...connectionFields, schemas: schemasField })
export type PostgresSourceConfig = typeof PostgresSourceConfig.Type

/** Config of the postgres destination. */
export const PostgresDestinationConfig = Schema.Struct({ ...connectionFields, schema: schemaField })
export type PostgresDestinationConfig = typeof PostgresDestinationConfig.Type

/** What both connectors need to open a connection. */
export type ConnectionConfig = Pick<PostgresSourceConfig, "host" | "port" | "database" | "user" | "password" | "ssl_mode">
