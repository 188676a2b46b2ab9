/**
 * validateConfig on in-memory values: every problem reported once with its full path (shape,
 * connector configs by their own Schemas, mappers by their plugins, names, schedules, retry,
 * resources, forced socket transport), and relative jsonl paths made absolute.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { destinations, mappers, secret, sources } from "sluice"
import { fullIpc } from "../../src/engine/IpcOptions.ts"
import type { ConfigIssue } from "../../src/config/ConfigErrors.ts"
import { decodeConfig, validateConfig } from "../../src/config/Validation.ts"

const baseDir = "/srv/pipelines"
const faker = sources.faker({ count: 10 })
const devNull = destinations.devNull()

const issuesOf = (input: unknown): ReadonlyArray<ConfigIssue> => {
  const result = validateConfig(input, { baseDir })
  return "issues" in result ? result.issues : []
}
const connection = (extra: Record<string, unknown>) => ({ connections: { a: { source: faker, destination: devNull, ...extra } } })
const lines = (input: unknown) => issuesOf(input).map((i) => `${i.path}: ${i.message}`)

describe("validateConfig", () => {
  it("accepts a full config and resolves relative jsonl paths against the config's directory", () => {
    const result = validateConfig({
      connections: {
        rel: { source: faker, destination: destinations.jsonl({ path: "./out/q" }) },
        abs: { source: faker, destination: destinations.jsonl({ path: "/data/q" }), transport: "socket" },
        pg: {
          source: sources.postgres({ host: "h", port: 5432, database: "d", user: "u", password: secret("PGPASSWORD"), schemas: ["s"] }),
          destination: devNull,
          mappers: [mappers.encrypt({ stream: "users", field: "email", key: secret("KEY") }), mappers.piiHash({ fields: ["x"] })],
          schedule: { cron: "*/15 9-17 * * MON-FRI", timezone: "Europe/Berlin" }
        }
      }
    }, { baseDir })
    assert.isTrue("config" in result, JSON.stringify(result))
    if (!("config" in result)) return
    assert.strictEqual(result.config.connections["rel"]?.destination.config["path"], "/srv/pipelines/out/q")
    assert.strictEqual(result.config.connections["abs"]?.destination.config["path"], "/data/q")
    assert.deepStrictEqual<unknown>(result.config.connections["pg"]?.source.config["password"], { $secret: "PGPASSWORD" })
  })

  it("reports every problem in one pass, each with its full path", () => {
    assert.deepStrictEqual(lines({
      connections: {
        quickstart: {
          source: { kind: "source", connector: "faker", config: { count: "ten", seed: 1.5, extra: true } },
          destination: { kind: "destination", connector: "jsonl", config: { path: "" } },
          schedule: { every: "5 seconds" },
          streams: { users: { syncMode: "sometimes" } },
          shedule: {}
        },
        "Bad Name": { source: faker, destination: devNull }
      }
    }), [
      "connections.quickstart.shedule: unexpected key with value {}",
      "connections.quickstart.streams.users.syncMode: expected \"full_refresh\" | \"incremental\", got \"sometimes\"",
      "connections.quickstart.schedule.every: expected an interval of at least 1 minute, got \"5 seconds\"",
      "connections.quickstart.source.config.extra: unexpected key with value true",
      "connections.quickstart.source.config.count: expected a positive integer, got \"ten\"",
      "connections.quickstart.source.config.seed: expected an integer, got 1.5",
      "connections.quickstart.destination.config.path: expected a value with a length of at least 1, got \"\"",
      "connections.Bad Name: connection names are 1–63 characters of a-z, 0-9, _ and -; got \"Bad Name\""
    ])
  })

  it("names unknown connectors, connectors of the other kind, and unknown mapper types", () => {
    const found = lines(connection({
      source: { kind: "source", connector: "mysql", config: {} },
      destination: { kind: "destination", connector: "faker", config: {} },
      mappers: [{ type: "uppercase", stream: "users" }, mappers.hash({ stream: "users", field: "email" }), { type: "hash", stream: "users" }]
    }))
    assert.deepStrictEqual(found, [
      "connections.a.source.connector: unknown source connector \"mysql\"; known sources: faker, postgres; or run any Airbyte-protocol executable with sources.command({ command: [...], config })",
      "connections.a.destination.connector: \"faker\" is a source connector; it cannot be the destination",
      "connections.a.mappers[0].type: unknown mapper type \"uppercase\"; known types: pii-hash, hash, rename, drop, filter, encrypt",
      "connections.a.mappers[2].field: missing key"
    ])
  })

  it("checks schedules: one of every or cron, a minute at least, 5 cron fields, a real time zone", () => {
    const schedule = (s: unknown) => lines(connection({ schedule: s }))
    assert.deepStrictEqual(schedule({ every: "1 minute" }), [])
    assert.deepStrictEqual(schedule({ every: "2.5 hours" }), [])
    assert.deepStrictEqual(schedule({ every: "hourly" }), [
      "connections.a.schedule.every: expected an interval like \"1 hour\", \"30 minutes\" or \"2 days\", got \"hourly\""
    ])
    assert.deepStrictEqual(schedule({ every: "1 hour", cron: "0 * * * *" }), ["connections.a.schedule: expected exactly one of every (an interval) or cron"])
    assert.deepStrictEqual(schedule({}), ["connections.a.schedule: expected exactly one of every (an interval) or cron"])
    assert.deepStrictEqual(schedule({ cron: "0 0 * * * *" }), [
      "connections.a.schedule.cron: expected a cron expression of 5 fields (minute hour day-of-month month day-of-week), got \"0 0 * * * *\""
    ])
    assert.deepStrictEqual(schedule({ cron: "61 * * * *" }), ["connections.a.schedule.cron: invalid cron expression \"61 * * * *\": Expected a value between 0 and 59"])
    assert.deepStrictEqual(schedule({ cron: "0 * * * *", timezone: "Mars/Olympus" }), [
      "connections.a.schedule.timezone: expected an IANA time zone like \"Europe/Berlin\", got \"Mars/Olympus\""
    ])
    assert.deepStrictEqual(schedule({ every: "1 hour", timezone: "UTC" }), ["connections.a.schedule.timezone: timezone applies to cron schedules only"])
  })

  it("checks retry limits and resources", () => {
    assert.deepStrictEqual(lines(connection({
      retry: { backoff: { minSeconds: 60, maxSeconds: 10, base: 0.5 }, maxSuccessiveCompleteFailures: 0 },
      resources: { source: { cpu: "lots", memory: "1Gi" }, destination: { cpu: 0, memory: "512Mb" } }
    })), [
      "connections.a.retry.backoff.base: expected a number ≥ 1, got 0.5",
      "connections.a.retry.maxSuccessiveCompleteFailures: expected a positive integer, got 0",
      "connections.a.resources.source.cpu: expected a CPU quantity like 2, 0.5 or \"500m\", got \"lots\"",
      "connections.a.resources.destination.cpu: expected a CPU quantity like 2, 0.5 or \"500m\", got 0",
      "connections.a.resources.destination.memory: expected a memory quantity like \"512Mi\", \"2Gi\" or a number of bytes, got \"512Mb\""
    ])
    assert.deepStrictEqual(lines(connection({ retry: { backoff: { minSeconds: 60, maxSeconds: 10 } } })), [
      "connections.a.retry.backoff.maxSeconds: expected maxSeconds ≥ minSeconds (60), got 10"
    ])
  })

  it("checks command specs, secret names and env names", () => {
    assert.deepStrictEqual(lines(connection({
      source: { kind: "source", connector: "command", config: { token: secret("bad-name") } },
      destination: { ...destinations.command({ command: ["./d"], config: {}, env: { "NOT OK": "x" } }) }
    })), [
      "connections.a.source.command: a command connector needs its argv, e.g. command: [\"python\", \"source.py\"]",
      "connections.a.destination.env.NOT OK: expected an environment variable name (letters, digits and _)"
    ])
    assert.deepStrictEqual(lines(connection({ source: { ...faker, command: ["x"] } })), [
      "connections.a.source.command: only connector: \"command\" takes command; built-in connectors declare their own"
    ])
    assert.deepStrictEqual(lines(connection({ destination: { kind: "destination", connector: "command", command: ["./d"], config: {}, env: { K: secret("1BAD") } } })), [
      "connections.a.destination.env.K.$secret: expected an environment variable name (letters, digits and _), got \"1BAD\""
    ])
  })

  it("never quotes the value found at a secret position", () => {
    const source = { kind: "source", connector: "postgres", config: { host: "h", port: 5432, database: "d", user: "u", password: 424242, schemas: ["s"] } }
    const found = lines(connection({ source }))
    assert.lengthOf(found, 1)
    assert.match(found[0]!, /^connections\.a\.source\.config\.password: expected .* \(the value is not shown\)$/)
    assert.notInclude(found[0]!, "424242")
  })

  it("rejects a source in the destination slot and non-data values", () => {
    assert.deepStrictEqual(lines(connection({ destination: faker })), [
      "connections.a.destination.kind: expected \"destination\", got \"source\"",
      "connections.a.destination.connector: \"faker\" is a source connector; it cannot be the destination"
    ])
    assert.deepStrictEqual(lines(connection({ source: { ...faker, config: { count: () => 3 } } })), [
      "connections.a.source.config.count: expected plain data (config files hold data), got a function"
    ])
    assert.deepStrictEqual(lines(connection({ destination: { ...devNull, config: { when: new Date(0) } } })), [
      "connections.a.destination.config.when: expected plain data (config files hold data), got a Date"
    ])
    assert.deepStrictEqual(lines({ connections: {} }), ["connections: define at least one connection"])
    assert.deepStrictEqual(lines(null), ["(default export): expected defineConfig({ connections: { ... } }), got null"])
    assert.deepStrictEqual(lines({ connection: {} }), ["connection: unexpected key with value {}", "connections: missing key"])
  })

  it("rejects transport: socket where socket mode cannot work", () => {
    assert.deepStrictEqual(lines(connection({ transport: "socket" })), [])
    assert.deepStrictEqual(lines(connection({ transport: "socket", mappers: [mappers.drop({ stream: "users", field: "age" })] })), [
      "connections.a.transport: transport: socket was configured, but mappers or hashed fields run in the stdio relay; use transport: auto or stdio"
    ])
    assert.deepStrictEqual(lines(connection({ transport: "socket", source: sources.command({ command: ["./s"], config: {} }) })), [
      "connections.a.transport: transport: socket was configured, but the source declares no IPC options (socket support); use transport: auto or stdio"
    ])
    assert.deepStrictEqual(lines(connection({ transport: "socket", source: sources.command({ command: ["./s"], config: {}, ipc: fullIpc }) })), [])
  })

  it.effect("decodeConfig fails with ConfigInvalid carrying the issues", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(decodeConfig(connection({ transport: "carrier-pigeon" }), { baseDir, file: "/x/sluice.config.ts" }))
      assert.strictEqual(error._tag, "ConfigInvalid")
      assert.strictEqual(error.path, "/x/sluice.config.ts")
      assert.include(error.message, "connections.a.transport: expected \"auto\" | \"stdio\" | \"socket\", got \"carrier-pigeon\"")
    }))
})
