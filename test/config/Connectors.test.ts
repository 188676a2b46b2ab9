/**
 * The authoring surface exported by "sluice": builders return plain data (a JSON round trip gives the
 * same value), defineConfig is the identity, and what it accepts is what the Config Schema decodes.
 */
import { assert, describe, it } from "@effect/vitest"
import { defineConfig, destinations, mappers, secret, type SluiceConfig, sources } from "sluice"
import type { Config } from "../../src/config/Config.ts"
import { findKnownConnector, knownConnectorIds } from "../../src/config/Connectors.ts"
import { fullIpc } from "../../src/engine/IpcOptions.ts"

const isPlain = (value: unknown): boolean => {
  if (value === null || typeof value !== "object") return ["string", "number", "boolean"].includes(typeof value) || value === null
  const proto: unknown = Object.getPrototypeOf(value)
  if (!Array.isArray(value) && proto !== Object.prototype) return false
  return Object.values(value).every(isPlain)
}

const roundTrips = (value: unknown) => {
  assert.isTrue(isPlain(value), JSON.stringify(value))
  assert.deepStrictEqual(JSON.parse(JSON.stringify(value)), value)
}

describe("connector builders", () => {
  it("build plain data specs", () => {
    const faker = sources.faker({ count: 10, seed: 1, records_per_state: 5, fail_until_attempt: 1, fail_after_records: 3 })
    assert.deepStrictEqual(faker, {
      kind: "source",
      connector: "faker",
      config: { count: 10, seed: 1, records_per_state: 5, fail_until_attempt: 1, fail_after_records: 3 }
    })
    assert.deepStrictEqual(destinations.jsonl({ path: "./out" }), { kind: "destination", connector: "jsonl", config: { path: "./out" } })
    assert.deepStrictEqual(destinations.devNull(), { kind: "destination", connector: "dev-null", config: {} })
    const pgSource = sources.postgres({ host: "h", port: 5432, database: "d", user: "u", password: secret("PGPASSWORD"), schemas: ["public"], ssl_mode: "require" })
    assert.deepStrictEqual(Object.keys(pgSource.config), ["host", "port", "database", "user", "password", "schemas", "ssl_mode"])
    const pgDestination = destinations.postgres({ host: "h", port: 5432, database: "d", user: "u", schema: "raw" })
    assert.deepStrictEqual(pgDestination, { kind: "destination", connector: "postgres", config: { host: "h", port: 5432, database: "d", user: "u", schema: "raw" } })
    for (const spec of [faker, pgSource, pgDestination, destinations.devNull()]) roundTrips(spec)
  })

  it("command connectors carry argv, config, and ipc and env only when given", () => {
    const bare = sources.command({ command: ["python", "source.py"], config: { token: secret("API_TOKEN"), pages: [1, 2] } })
    assert.deepStrictEqual<unknown>(bare, {
      kind: "source",
      connector: "command",
      command: ["python", "source.py"],
      config: { token: { $secret: "API_TOKEN" }, pages: [1, 2] }
    })
    const full = destinations.command({ command: ["./dest"], config: {}, ipc: fullIpc, env: { KEY: secret("KEY"), MODE: "fast" } })
    assert.deepStrictEqual(full.ipc, fullIpc)
    assert.deepStrictEqual<unknown>(full.env, { KEY: { $secret: "KEY" }, MODE: "fast" })
    roundTrips(bare)
    roundTrips(full)
  })

  it("knows the built-ins, postgres included", () => {
    assert.deepStrictEqual(knownConnectorIds("source"), ["faker", "postgres"])
    assert.deepStrictEqual(knownConnectorIds("destination"), ["jsonl", "dev-null", "postgres"])
    assert.isDefined(findKnownConnector("source", "faker")?.builtin)
    assert.strictEqual(findKnownConnector("source", "postgres")?.builtin?.id, "postgres-source")
    assert.strictEqual(findKnownConnector("destination", "postgres")?.builtin?.id, "postgres-destination")
    assert.deepStrictEqual(findKnownConnector("destination", "jsonl")?.pathKeys, ["path"])
    assert.isUndefined(findKnownConnector("destination", "faker"))
  })
})

describe("mapper builders", () => {
  it("build the middleware configs as plain data", () => {
    const all = [
      mappers.hash({ stream: "users", field: "email", method: "sha512", salt: secret("SALT") }),
      mappers.rename({ stream: "users", field: "email", to: "mail" }),
      mappers.drop({ stream: "users", field: "age" }),
      mappers.filter({ stream: "purchases", keep: { and: [{ field: "amount", op: "gt", value: 10 }, { not: { field: "x", op: "exists" } }] } }),
      mappers.encrypt({ stream: "users", field: "phone", key: secret("KEY") }),
      mappers.piiHash({ fields: ["email"] })
    ]
    assert.deepStrictEqual(all.map((m) => m.type), ["hash", "rename", "drop", "filter", "encrypt", "pii-hash"])
    assert.deepStrictEqual<unknown>(all[0], { type: "hash", stream: "users", field: "email", method: "sha512", salt: { $secret: "SALT" } })
    assert.deepStrictEqual(all[5], { type: "pii-hash", fields: ["email"] })
    for (const m of all) roundTrips(m)
  })
})

describe("defineConfig", () => {
  it("is the identity, and its input type is what the Config Schema decodes", () => {
    const config = defineConfig({
      connections: {
        quickstart: {
          source: sources.faker({ count: 1000, seed: 1 }),
          destination: destinations.jsonl({ path: "./out/quickstart" }),
          streams: { users: { syncMode: "incremental", cursorField: ["updated_at"], primaryKey: [["id"]] } },
          mappers: [mappers.drop({ stream: "users", field: "age" })],
          transport: "stdio",
          schedule: { every: "1 hour" },
          retry: { backoff: { minSeconds: 10, maxSeconds: 1800, base: 3 }, maxTotalPartialFailures: 20 },
          resources: { source: { cpu: "500m", memory: "1Gi" }, destination: { cpu: 1 } }
        },
        nightly: {
          source: sources.command({ command: ["./source"], config: { api_key: secret("API_KEY") } }),
          destination: destinations.devNull(),
          schedule: { cron: "0 3 * * *", timezone: "UTC" }
        }
      }
    })
    assert.strictEqual(config.connections.quickstart.source.config.count, 1000)
    roundTrips(config)
    // Compile-time: what defineConfig accepts is a Config as encoded in a file.
    const encoded: typeof Config.Encoded = config
    const widened: SluiceConfig = config
    assert.strictEqual(encoded, widened)
  })
})
