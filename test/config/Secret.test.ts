/**
 * secret(): plain-data references, resolution from an env (missing ones named with their path),
 * and redaction that keeps references and never lets a secret value through.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { secret } from "sluice"
import { isSecret, MissingSecret, REDACTED, redactSecrets, resolveSecrets, secretNames } from "../../src/config/Secret.ts"

const spec = {
  connections: {
    pg: {
      source: {
        kind: "source",
        connector: "postgres",
        config: { host: "db", port: 5432, user: "u", password: secret("PGPASSWORD"), schemas: ["public"] }
      },
      mappers: [{ type: "encrypt", stream: "users", field: "email", key: secret("EMAIL_KEY") }]
    }
  }
}

describe("secret()", () => {
  it("is a plain, serializable reference", () => {
    const ref = secret("PGPASSWORD")
    assert.deepStrictEqual<unknown>(ref, { $secret: "PGPASSWORD" })
    assert.strictEqual(Object.getPrototypeOf(ref), Object.prototype)
    assert.deepStrictEqual(JSON.parse(JSON.stringify(ref)), ref)
    assert.isTrue(isSecret(ref))
    assert.isFalse(isSecret({ $secret: "A", other: 1 }))
    assert.isFalse(isSecret({ $secret: 1 }))
    assert.deepStrictEqual(secretNames(spec), ["PGPASSWORD", "EMAIL_KEY"])
  })
})

describe("resolveSecrets", () => {
  it.effect("replaces every reference, deep, without touching the input", () =>
    Effect.gen(function*() {
      const before = JSON.stringify(spec)
      const resolved = yield* resolveSecrets(spec, { PGPASSWORD: "hunter2", EMAIL_KEY: "k".repeat(44) })
      assert.strictEqual(resolved.connections.pg.source.config.password, "hunter2")
      assert.strictEqual(resolved.connections.pg.mappers[0]?.key, "k".repeat(44))
      assert.deepStrictEqual(resolved.connections.pg.source.config.schemas, ["public"])
      assert.strictEqual(JSON.stringify(spec), before)
    }))

  it.effect("an empty value counts as set", () =>
    Effect.gen(function*() {
      const resolved = yield* resolveSecrets({ password: secret("EMPTY") }, { EMPTY: "" })
      assert.strictEqual(resolved.password, "")
    }))

  it.effect("a missing variable fails naming it and where it is referenced", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(resolveSecrets(spec, { EMAIL_KEY: "x" }))
      assert.instanceOf(error, MissingSecret)
      assert.strictEqual(error.name, "PGPASSWORD")
      assert.strictEqual(error.path, "connections.pg.source.config.password")
      assert.include(error.message, "PGPASSWORD")
      assert.include(error.message, "connections.pg.source.config.password")
      const inMapper = yield* Effect.flip(resolveSecrets(spec.connections.pg.mappers, { PGPASSWORD: "x" }, "connections.pg.mappers"))
      assert.strictEqual(inMapper.path, "connections.pg.mappers[0].key")
    }))

  it.effect("does not take inherited properties for variables", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(resolveSecrets({ a: secret("toString") }, {}))
      assert.strictEqual(error.name, "toString")
    }))
})

describe("redactSecrets", () => {
  it("keeps references as they are: the stored spec is the one that ran", () => {
    assert.deepStrictEqual(redactSecrets(spec), spec)
  })

  it.effect("masks resolved values at secret positions and never leaks them", () =>
    Effect.gen(function*() {
      const resolved = yield* resolveSecrets(spec, { PGPASSWORD: "hunter2", EMAIL_KEY: "s3cr3t-key" })
      const redacted = redactSecrets(resolved)
      assert.strictEqual(redacted.connections.pg.source.config.password, REDACTED)
      assert.strictEqual(redacted.connections.pg.mappers[0]?.key, REDACTED)
      assert.strictEqual(redacted.connections.pg.source.config.host, "db")
      assert.strictEqual(redacted.connections.pg.source.config.port, 5432)
      const text = JSON.stringify(redacted)
      assert.notInclude(text, "hunter2")
      assert.notInclude(text, "s3cr3t-key")
    }))

  it("masks inline secrets, whole credential objects, and known values anywhere", () => {
    const command = {
      connector: "command",
      config: {
        api_key: "k-123",
        credentials: { client_id: "id-1", refresh: "r-456", nested: [{ value: "v-789" }] },
        auth: { bearer: "tok-000" },
        port: 1
      },
      env: { API_TOKEN: "t-111", REGION: "eu" }
    }
    const redacted = redactSecrets(command, { values: ["tok-000", ""] })
    const text = JSON.stringify(redacted)
    for (const leaked of ["k-123", "id-1", "r-456", "v-789", "tok-000", "t-111"]) assert.notInclude(text, leaked)
    assert.strictEqual(redacted.env.REGION, "eu")
    assert.strictEqual(redacted.config.port, 1)
    assert.strictEqual(redacted.connector, "command")
  })
})
