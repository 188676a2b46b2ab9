/**
 * resolveConnector: built-ins run as `node bin/sluice.js connector <id>` with their IPC options,
 * commands as their argv in the config's directory, secrets resolved from the env only here; the
 * resolved faker definition passes a real `check`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { destinations, secret, sources } from "sluice"
import { resolveConnector } from "../../src/config/ConnectorResolver.ts"
import { builtinConnectorCommand } from "../../src/plugins/builtin.ts"
import { MissingSecret } from "../../src/config/Secret.ts"
import * as Runtime from "../../src/engine/ConnectorRuntime.ts"
import { fullIpc } from "../../src/engine/IpcOptions.ts"
import { faker } from "../../src/plugins/faker/Faker.ts"

describe("resolveConnector", () => {
  it.effect("a built-in runs through the sluice executable and passes a real check", () =>
    Effect.gen(function*() {
      const resolved = yield* resolveConnector(sources.faker({ count: 3, seed: 1 }), { env: {} })
      assert.deepStrictEqual(resolved.definition, { command: builtinConnectorCommand("faker"), ipc: faker.ipc })
      assert.deepStrictEqual(resolved.config, { count: 3, seed: 1 })
      const status = yield* Runtime.check({ role: "source", connector: resolved.definition }, resolved.config)
      assert.strictEqual(status.status, "SUCCEEDED")
    }))

  it.effect("a relative jsonl path resolves against baseDir (the loader already made it absolute)", () =>
    Effect.gen(function*() {
      const resolved = yield* resolveConnector(destinations.jsonl({ path: "out/q" }), { baseDir: "/srv/p" })
      assert.deepStrictEqual(resolved.config, { path: "/srv/p/out/q" })
      const absolute = yield* resolveConnector(destinations.jsonl({ path: "/data/q" }), { baseDir: "/srv/p" })
      assert.deepStrictEqual(absolute.config, { path: "/data/q" })
    }))

  it.effect("a command runs its argv in the config's directory with its ipc and resolved env", () =>
    Effect.gen(function*() {
      const spec = sources.command({
        command: ["./bin/source", "--verbose"],
        config: { api_key: secret("API_KEY"), pages: 2 },
        ipc: fullIpc,
        env: { TOKEN: secret("TOKEN"), MODE: "fast" }
      })
      const resolved = yield* resolveConnector(spec, { env: { API_KEY: "k-1", TOKEN: "t-2" }, baseDir: "/srv/p" })
      assert.deepStrictEqual(resolved.definition, {
        command: ["/srv/p/bin/source", "--verbose"],
        ipc: fullIpc,
        env: { TOKEN: "t-2", MODE: "fast" },
        cwd: "/srv/p"
      })
      assert.deepStrictEqual(resolved.config, { api_key: "k-1", pages: 2 })
      assert.deepStrictEqual(resolved.secretValues, ["k-1", "t-2"])
      const onPath = yield* resolveConnector(sources.command({ command: ["python3", "s.py"], config: {} }), { env: {} })
      assert.deepStrictEqual(onPath.definition, { command: ["python3", "s.py"] })
    }))

  it.effect("a missing secret names the variable and its path", () =>
    Effect.gen(function*() {
      const spec = destinations.command({ command: ["d"], config: {}, env: { TOKEN: secret("TOKEN") } })
      const error = yield* Effect.flip(resolveConnector(spec, { env: {}, path: "connections.x.destination" }))
      assert.instanceOf(error, MissingSecret)
      assert.strictEqual(error.message, "secret TOKEN (referenced at connections.x.destination.env.TOKEN) is not set: set the environment variable TOKEN")
      const pg = sources.postgres({ host: "h", port: 5432, database: "d", user: "u", password: secret("PGPASSWORD"), schemas: ["s"] })
      const missing = yield* Effect.flip(resolveConnector(pg, { env: {}, path: "connections.pg.source" }))
      assert.strictEqual(missing._tag === "MissingSecret" ? missing.path : "", "connections.pg.source.config.password")
    }))

  it.effect("secrets come from process.env by default, read when the Effect runs", () =>
    Effect.gen(function*() {
      const spec = sources.command({ command: ["s"], config: { password: secret("SLUICE_TEST_RESOLVER_SECRET") } })
      const effect = resolveConnector(spec)
      process.env["SLUICE_TEST_RESOLVER_SECRET"] = "late"
      const resolved = yield* Effect.ensuring(effect, Effect.sync(() => delete process.env["SLUICE_TEST_RESOLVER_SECRET"]))
      assert.deepStrictEqual(resolved.config, { password: "late" })
    }))

  it.effect("postgres configs resolve to the postgres connector processes", () =>
    Effect.gen(function*() {
      const spec = destinations.postgres({ host: "h", port: 5432, database: "d", user: "u", schema: "s" })
      const resolved = yield* resolveConnector(spec, { path: "connections.pg.destination" })
      assert.deepStrictEqual(resolved.definition.command, builtinConnectorCommand("postgres-destination"))
    }))
})
