/**
 * ConnectionSpecs with the config language: a stored spec is validated as a connection of a config
 * file (every problem with its path), resolved with `resolveConnector` (built-in connector commands,
 * relative paths against the config's directory, secrets from the SERVER's environment at run time),
 * and read for its schedule and retry overrides. Composition-root code: imports src/config.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { Connection } from "../config/Config.ts"
import { resolveConnector } from "../config/ConnectorResolver.ts"
import { redactSecrets } from "../config/Secret.ts"
import { validateConfig } from "../config/Validation.ts"
import type { JsonObject } from "../engine/protocol/AirbyteMessage.ts"
import { type ConnectionSchedule, ConnectionSpecs, type ResolvedConnector, SpecInvalid, SpecUnresolvable } from "../scheduler/ConnectionSpecs.ts"
import * as RetryPolicy from "../scheduler/RetryPolicy.ts"

/** Plain JSON (what the store keeps) of a decoded value. */
const toJson = (value: unknown): JsonObject => JSON.parse(JSON.stringify(value))

export const make = (options: { readonly baseDir: string; readonly env?: Readonly<Record<string, string | undefined>> }) => {
  const env = options.env ?? process.env
  const decode = (name: string, spec: JsonObject): Effect.Effect<Connection, SpecInvalid> =>
    Effect.suspend(() => {
      const result = validateConfig({ connections: { [name]: spec } }, { baseDir: options.baseDir, file: "(api)" })
      if ("issues" in result) return Effect.fail(new SpecInvalid({ issues: result.issues.map((i) => ({ path: i.path.replace(`connections.${name}.`, ""), message: i.message })) }))
      const connection = result.config.connections[name]
      return connection === undefined ? Effect.fail(new SpecInvalid({ issues: [{ path: "(spec)", message: "no connection" }] })) : Effect.succeed(connection)
    })

  const resolveSide = (connection: Connection, side: "source" | "destination", name: string) =>
    resolveConnector(connection[side], { baseDir: options.baseDir, path: `connections.${name}.${side}`, env }).pipe(
      Effect.map((resolved): ResolvedConnector => ({
        command: resolved.definition.command,
        ...(resolved.definition.ipc === undefined ? {} : { ipc: resolved.definition.ipc }),
        ...(resolved.definition.env === undefined ? {} : { env: resolved.definition.env }),
        ...(resolved.definition.cwd === undefined ? {} : { cwd: resolved.definition.cwd }),
        config: toJson(resolved.config)
      })),
      Effect.mapError((error) => new SpecUnresolvable({ message: error.message }))
    )

  return ConnectionSpecs.of({
    validate: (name, spec) => Effect.map(decode(name, spec), (connection) => toJson(redactSecrets(connection))),
    resolve: (name, spec) =>
      Effect.gen(function*() {
        const connection = yield* decode(name, spec)
        const source = yield* resolveSide(connection, "source", name)
        const destination = yield* resolveSide(connection, "destination", name)
        return {
          source,
          destination,
          ...(connection.streams === undefined ? {} : { streams: toJson(connection.streams) }),
          ...(connection.mappers === undefined ? {} : { mappers: connection.mappers.map(toJson) }),
          transport: connection.transport ?? "auto"
        }
      }),
    schedule: (spec): ConnectionSchedule => {
      const schedule = spec["schedule"]
      if (typeof schedule !== "object" || schedule === null) return { _tag: "manual" }
      if ("every" in schedule && typeof schedule.every === "string") {
        const every = Duration.fromInput(schedule.every as Duration.Input)
        return Option.isSome(every) ? { _tag: "interval", everyMs: Duration.toMillis(every.value) } : { _tag: "manual" }
      }
      if ("cron" in schedule && typeof schedule.cron === "string") {
        const timezone = "timezone" in schedule && typeof schedule.timezone === "string" ? schedule.timezone : "UTC"
        return { _tag: "cron", cron: schedule.cron, timezone }
      }
      return { _tag: "manual" }
    },
    policy: (spec) =>
      RetryPolicy.fromEnv(env).pipe(
        Effect.flatMap((policy) => {
          const retry = spec["retry"]
          return typeof retry === "object" && retry !== null ? RetryPolicy.withOverrides(policy, retry) : Effect.succeed(policy)
        }),
        Effect.mapError((error) => new SpecInvalid({ issues: [{ path: "retry", message: error.message }] }))
      )
  })
}

export const layer = (options: { readonly baseDir: string }) => Layer.succeed(ConnectionSpecs, make(options))
