/**
 * The middleware registry and `makeMiddlewares`: the explicit plugin list, unknown types, decode
 * errors under `mappers[i]`, the catalog threaded from one middleware to the next, and a chained run
 * over a Stream of 10 000 messages in batches.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import type * as M from "../../src/engine/protocol/AirbyteMessage.ts"
import { chain, type Middleware } from "../../src/engine/replication/Middleware.ts"
import * as Mappers from "../../src/plugins/mappers/Mappers.ts"
import { findMiddlewarePlugin, middlewarePluginIds, middlewarePlugins } from "../../src/plugins/middleware.ts"
import * as F from "./MiddlewareFixtures.ts"

const key = Buffer.alloc(32, 7).toString("base64")

describe("middleware registry", () => {
  it("lists every plugin once, found by id", () => {
    assert.deepStrictEqual(middlewarePluginIds(), ["pii-hash", "hash", "rename", "drop", "filter", "encrypt"])
    assert.strictEqual(new Set(middlewarePlugins.map((p) => p.id)).size, middlewarePlugins.length)
    assert.strictEqual(findMiddlewarePlugin("hash"), Mappers.hashMapper)
    assert.isUndefined(findMiddlewarePlugin("nope"))
    for (const plugin of middlewarePlugins) assert.isAbove(plugin.description.length, 10)
  })

  it.effect("rejects an unknown type, naming the known ones", () =>
    Effect.gen(function*() {
      const error = yield* F.rejected([{ type: "hash", stream: "users", field: "email" }, { type: "uppercase", stream: "users" }])
      assert.strictEqual(error._tag, "MiddlewareConfigError")
      assert.strictEqual(error.path, "mappers[1].type")
      assert.include(error.message, "\"uppercase\"")
      assert.include(error.message, "pii-hash, hash, rename, drop, filter, encrypt")
    }))

  it.effect("reports decode errors under mappers[i]", () =>
    Effect.gen(function*() {
      const error = yield* F.rejected([
        { type: "drop", stream: "users", field: "tags" },
        { type: "drop", stream: "users", field: "age" },
        { type: "rename", stream: "users", field: 3, to: "x" }
      ])
      assert.strictEqual(error.middleware, "rename")
      assert.strictEqual(error.path, "mappers[2].field")
      assert.include(error.message, "mappers[2].field: expected string")
    }))

  it.effect("returns no middlewares and the same catalog for an empty list", () =>
    Effect.gen(function*() {
      const { catalog, middlewares } = yield* F.build([])
      assert.strictEqual(middlewares.length, 0)
      assert.strictEqual(catalog, F.catalog)
    }))

  it.effect("threads the catalog: a later mapper sees the earlier one's rewrite", () =>
    Effect.gen(function*() {
      const renamed = { type: "rename", stream: "users", field: "email", to: "contact" }
      const stale = yield* F.rejected([renamed, { type: "hash", stream: "users", field: "email" }])
      assert.strictEqual(stale.path, "mappers[1].field")
      assert.include(stale.message, "no top-level field 'email'")
      assert.include(stale.message, "contact")
      const { catalog, middlewares } = yield* F.build([renamed, { type: "hash", stream: "users", field: "contact" }])
      assert.strictEqual(middlewares.length, 2)
      assert.strictEqual(catalog, middlewares[1]!.catalog)
      const properties = F.propertiesOf(catalog, "users")
      assert.deepStrictEqual(properties["contact"], { type: ["null", "string"] })
      assert.isFalse(Object.hasOwn(properties, "email"))
      assert.isTrue(Object.hasOwn(F.propertiesOf(F.catalog, "users"), "email"))
    }))
})

describe("chain over a stream", () => {
  const total = 10_000
  /** Every 10th message a STATE, every 25th a LOG, the rest records of the three streams. */
  const messages: ReadonlyArray<M.AirbyteMessage> = F.deepFreeze(Array.from({ length: total }, (_, i): M.AirbyteMessage => {
    if (i % 10 === 0) return F.state(i)
    if (i % 25 === 1) return F.log(`log ${i}`)
    if (i % 3 === 0) return F.record("orders", { order_id: `o${i}`, user_email: `u${i}@x`, total: i }, "shop")
    if (i % 3 === 1) return F.record("events", { kind: "click", seq: i, payload: { at: i } })
    return F.record("users", { id: i, email: `u${i}@example.com`, name: `User ${i}`, active: i % 2 === 0, tags: ["t"], updated_at: "2024-01-01T00:00:00Z" })
  }))

  it.effect("applies every middleware in order, batch by batch, keeping non-records in place", () =>
    Effect.gen(function*() {
      const { catalog, middlewares } = yield* F.build([
        { type: "filter", stream: "users", keep: { field: "active", op: "eq", value: true } },
        { type: "pii-hash", stream: "users", fields: ["email"] },
        { type: "rename", stream: "users", field: "name", to: "full_name" },
        { type: "drop", stream: "users", field: "tags" },
        { type: "hash", stream: "shop.orders", field: "user_email", method: "sha512" },
        { type: "encrypt", stream: "events", field: "payload", key }
      ])
      const batches: Array<ReadonlyArray<M.AirbyteMessage>> = []
      for (let i = 0; i < total; i += 256) batches.push(messages.slice(i, i + 256))
      let calls = 0
      const counter: Middleware = { id: "counter", catalog, process: (batch) => (calls++, batch) }
      const out = yield* Stream.fromArrays(...batches).pipe(chain([...middlewares, counter]), Stream.runCollect)
      assert.strictEqual(calls, batches.length)

      const isDropped = (m: M.AirbyteMessage) => m.type === "RECORD" && m.record.stream === "users" && m.record.data["active"] !== true
      const expected = messages.filter((m) => !isDropped(m))
      assert.isBelow(expected.length, total)
      assert.strictEqual(out.length, expected.length)
      for (let i = 0; i < out.length; i++) {
        const got = out[i]!
        const want = expected[i]!
        assert.strictEqual(got.type, want.type)
        if (got.type !== "RECORD" || want.type !== "RECORD") {
          assert.strictEqual(got, want)
          continue
        }
        const data = got.record.data
        switch (got.record.stream) {
          case "users":
            assert.strictEqual(data["id"], want.record.data["id"])
            assert.match(String(data["email"]), /^[0-9a-f]{64}$/)
            assert.strictEqual(data["full_name"], want.record.data["name"])
            assert.isFalse(Object.hasOwn(data, "tags") || Object.hasOwn(data, "name"))
            break
          case "orders":
            assert.match(String(data["user_email"]), /^[0-9a-f]{128}$/)
            break
          default:
            assert.strictEqual(Mappers.decryptValue(key, String(data["payload"])), JSON.stringify(want.record.data["payload"]))
        }
      }
      const users = F.propertiesOf(catalog, "users")
      assert.deepStrictEqual(Object.keys(users), ["id", "email", "full_name", "age", "score", "active", "profile", "updated_at"])
      assert.deepStrictEqual(F.propertiesOf(catalog, "orders")["user_email"], { type: ["null", "string"] })
    }))
})
