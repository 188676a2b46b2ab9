/**
 * One PostgreSQL connection for the postgres connectors (node-postgres): libpq-style `ssl_mode`, a
 * UTC/ISO session, every value as text, queries as Effects, and driver errors classified into
 * ConnectorErrors that say which problem it is (unreachable, credentials, database, permission).
 * Imports `pg`, `effect` and the connector kit only.
 */
import * as Effect from "effect/Effect"
import type { ConnectionOptions } from "node:tls"
import type pg from "pg"
import { ConnectorError } from "../../engine/kit/Connector.ts"
import type { ConnectionConfig } from "./PostgresConfig.ts"

export type Client = pg.Client
/** A result row: every value is the server's text output (or null). */
export type Row = Readonly<Record<string, string | null>>

const CONNECT_TIMEOUT_MS = 15_000

/** Every type parses to its text form: the connectors convert values themselves. */
const textTypes: pg.CustomTypesConfig = { getTypeParser: () => (value: string) => value }

/** Session settings both connectors rely on: UTC timestamps in ISO form, hex bytea, no idle-transaction kill. */
const SESSION_SQL = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET bytea_output = 'hex'; " +
  "SET extra_float_digits = 3; SET idle_in_transaction_session_timeout = 0; SET client_min_messages = 'warning'"

/** The ways to try a connection for an ssl_mode, in order (libpq: prefer tries TLS first, allow plaintext first). */
const sslAttempts = (mode: ConnectionConfig["ssl_mode"]): ReadonlyArray<boolean | ConnectionOptions> => {
  const unverified: ConnectionOptions = { rejectUnauthorized: false }
  switch (mode) {
    case "disable":
      return [false]
    case "allow":
      return [false, unverified]
    case "require":
      return [unverified]
    case "verify-ca":
      return [{ rejectUnauthorized: true, checkServerIdentity: () => undefined }]
    case "verify-full":
      return [{ rejectUnauthorized: true }]
    case "prefer":
    case undefined:
      return [unverified, false]
  }
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "ECONNRESET", "EAI_AGAIN", "EPIPE"])

const describe = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))
const codeOf = (cause: unknown): string | undefined => {
  const code = typeof cause === "object" && cause !== null ? (cause as { readonly code?: unknown }).code : undefined
  return typeof code === "string" ? code : undefined
}

/** A driver error as a ConnectorError whose message names the kind of problem. */
export const classify = (config: ConnectionConfig, what: string) => (cause: unknown): ConnectorError => {
  const code = codeOf(cause)
  const detail = describe(cause)
  const where = `${config.host}:${config.port}`
  if ((code !== undefined && NETWORK_CODES.has(code)) || /timeout|terminated unexpectedly|Connection terminated/i.test(detail)) {
    return new ConnectorError({ failureType: "transient_error", message: `postgres: cannot reach the server at ${where} (${what}): ${detail}` })
  }
  if (code === "28P01" || code === "28000") {
    return new ConnectorError({ failureType: "config_error", message: `postgres: authentication failed for user "${config.user}" at ${where}: ${detail}` })
  }
  if (code === "3D000") {
    return new ConnectorError({ failureType: "config_error", message: `postgres: database "${config.database}" does not exist at ${where}: ${detail}` })
  }
  if (code === "42501") return new ConnectorError({ failureType: "config_error", message: `postgres: permission denied (${what}): ${detail}` })
  if (code === "3F000" || code === "42P01") return new ConnectorError({ failureType: "config_error", message: `postgres: ${what}: ${detail}` })
  if (code?.startsWith("08") === true || code === "57P01" || code === "40001" || code === "40P01") {
    return new ConnectorError({ failureType: "transient_error", message: `postgres: ${what} failed: ${detail} (SQLSTATE ${code})` })
  }
  return new ConnectorError({
    failureType: "system_error",
    message: `postgres: ${what} failed: ${detail}${code === undefined ? "" : ` (SQLSTATE ${code})`}`
  })
}

const noTls = (cause: unknown) => /does not support SSL/i.test(describe(cause))

// Loaded on first use, so that every other built-in connector starts without the driver.
let driver: Promise<typeof import("pg")> | undefined

const connectOnce = (config: ConnectionConfig, ssl: boolean | ConnectionOptions, applicationName: string) =>
  Effect.tryPromise({
    try: async (): Promise<pg.Client> => {
      const { default: Pg } = await (driver ??= import("pg"))
      const client = new Pg.Client({
        host: config.host,
        port: config.port,
        database: config.database,
        user: config.user,
        ...(config.password === undefined ? {} : { password: config.password }),
        ssl,
        application_name: applicationName,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        keepAlive: true,
        types: textTypes
      })
      // A connection lost between queries must not crash the process: the next query fails instead.
      client.on("error", () => undefined)
      await client.connect()
      return client
    },
    catch: (cause) => cause
  })

/** Opens a connection (trying the ssl_mode's ways in order) and sets up the session; closed with the scope. */
export const connect = (config: ConnectionConfig, applicationName: string) =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      const attempts = sslAttempts(config.ssl_mode)
      let client: pg.Client | undefined
      let lastError: unknown = undefined
      for (const [i, ssl] of attempts.entries()) {
        const exit = yield* Effect.result(connectOnce(config, ssl, applicationName))
        if (exit._tag === "Success") {
          client = exit.success
          break
        }
        lastError = exit.failure
        const fallBack = i + 1 < attempts.length && (ssl === false ? !NETWORK_CODES.has(codeOf(lastError) ?? "") : noTls(lastError))
        if (!fallBack) break
      }
      if (client === undefined) return yield* classify(config, "connecting")(lastError)
      const connected = client
      yield* Effect.tryPromise({ try: () => connected.query(SESSION_SQL), catch: classify(config, "setting up the session") }).pipe(
        Effect.tapError(() => Effect.promise(() => connected.end().catch(() => undefined)))
      )
      return connected
    }),
    (client) => Effect.promise(() => client.end().catch(() => undefined))
  )

/** Runs a statement; rows come back as objects of text values. */
export const query = (client: pg.Client, config: ConnectionConfig, what: string, text: string, values?: ReadonlyArray<unknown>) =>
  Effect.tryPromise({
    try: async (): Promise<ReadonlyArray<Row>> => (await client.query<Record<string, string | null>>(text, values === undefined ? undefined : [...values])).rows,
    catch: classify(config, what)
  })

/** A quoted identifier (any name, including quotes and mixed case). */
export const ident = (name: string): string => `"${name.replaceAll("\"", "\"\"")}"`

/** `"schema"."table"`. */
export const qualified = (schema: string, table: string): string => `${ident(schema)}.${ident(table)}`
