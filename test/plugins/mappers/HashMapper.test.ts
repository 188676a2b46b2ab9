/**
 * The "hash" mapper: digests per method, salting, null/absent values, non-string values, the
 * rewritten catalog, records of other streams and non-record messages untouched, and config errors.
 */
import * as Crypto from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as F from "../MiddlewareFixtures.ts"

const sha256 = (text: string) => Crypto.hash("sha256", text, "hex")

describe("hash mapper", () => {
  it.effect("replaces the field with the sha256 hex of its value by default", () =>
    Effect.gen(function*() {
      const m = yield* F.one({ type: "hash", stream: "users", field: "email" })
      const [a, b] = F.dataOf(m.process([F.record("users", F.alice), F.record("users", F.bob)]))
      assert.strictEqual(a?.["email"], sha256("alice@example.com"))
      assert.strictEqual(b?.["email"], sha256("bob@example.com"))
      assert.match(String(a?.["email"]), /^[0-9a-f]{64}$/)
      assert.strictEqual(a?.["name"], "Alice")
    }))

  it.effect("supports sha512 and md5, and salts as salt:value", () =>
    Effect.gen(function*() {
      for (const method of ["sha512", "md5"] as const) {
        const m = yield* F.one({ type: "hash", stream: "users", field: "email", method })
        assert.strictEqual(F.dataOf(m.process([F.record("users", F.alice)]))[0]?.["email"], Crypto.hash(method, "alice@example.com", "hex"))
      }
      const salted = yield* F.one({ type: "hash", stream: "users", field: "email", salt: "pepper" })
      assert.strictEqual(F.dataOf(salted.process([F.record("users", F.alice)]))[0]?.["email"], sha256("pepper:alice@example.com"))
    }))

  it.effect("keeps null and absent values, and hashes other values from their JSON text", () =>
    Effect.gen(function*() {
      const name = yield* F.one({ type: "hash", stream: "users", field: "name" })
      const nullName = F.record("users", F.bob)
      assert.strictEqual(name.process([nullName])[0], nullName)
      const age = yield* F.one({ type: "hash", stream: "users", field: "age" })
      const noAge = F.record("users", F.bob)
      assert.strictEqual(age.process([noAge])[0], noAge)
      assert.strictEqual(F.dataOf(age.process([F.record("users", F.alice)]))[0]?.["age"], sha256("31"))
      const profile = yield* F.one({ type: "hash", stream: "users", field: "profile" })
      const [x, y] = F.dataOf(profile.process([
        F.record("users", { ...F.alice, profile: { b: 1, a: [true, null] } }),
        F.record("users", { ...F.alice, profile: { a: [true, null], b: 1 } })
      ]))
      assert.strictEqual(x?.["profile"], sha256("{\"a\":[true,null],\"b\":1}"))
      assert.strictEqual(y?.["profile"], x?.["profile"])
    }))

  it.effect("rewrites the field's schema to a nullable string and leaves the rest of the catalog", () =>
    Effect.gen(function*() {
      const m = yield* F.one({ type: "hash", stream: "users", field: "email" })
      const properties = F.propertiesOf(m.catalog, "users")
      assert.deepStrictEqual(properties["email"], { type: ["null", "string"] })
      assert.deepStrictEqual(properties["id"], { type: "integer" })
      assert.deepStrictEqual(m.catalog.streams[0]?.primary_key, [["id"]])
      assert.strictEqual(m.catalog.streams[1], F.catalog.streams[1])
      assert.deepStrictEqual(F.propertiesOf(F.catalog, "users")["email"], { type: "string" })
    }))

  it.effect("touches only records of its stream (and namespace); other messages keep identity and order", () =>
    Effect.gen(function*() {
      const m = yield* F.one({ type: "hash", stream: "orders", field: "user_email" })
      const input = F.deepFreeze([
        F.log("start"),
        F.record("orders", { order_id: "o1", user_email: "a@x" }, "shop"),
        F.state(1),
        F.record("orders", { order_id: "o2", user_email: "b@x" }, "other"),
        F.record("orders", { order_id: "o3", user_email: "c@x" }),
        F.record("users", F.alice),
        F.state(2)
      ])
      const snapshot = structuredClone(input)
      const out = m.process(input)
      assert.strictEqual(out.length, input.length)
      for (const i of [0, 2, 3, 4, 5, 6]) assert.strictEqual(out[i], input[i])
      assert.strictEqual(F.dataOf([out[1]!])[0]?.["user_email"], sha256("a@x"))
      assert.deepStrictEqual(input, snapshot)
    }))

  it.effect("returns the batch itself when no record of the stream is in it", () =>
    Effect.gen(function*() {
      const m = yield* F.one({ type: "hash", stream: "users", field: "email" })
      const batch = [F.state(1), F.log("x")]
      assert.strictEqual(m.process(batch), batch)
    }))

  it.effect("rejects an unknown stream, naming the available ones", () =>
    Effect.gen(function*() {
      const error = yield* F.rejected([{ type: "hash", stream: "userz", field: "email" }])
      assert.strictEqual(error._tag, "MiddlewareConfigError")
      assert.strictEqual(error.middleware, "hash")
      assert.strictEqual(error.path, "mappers[0].stream")
      assert.include(error.message, "'userz'")
      assert.include(error.message, "users, shop.orders, events")
    }))

  it.effect("rejects an unknown field, naming the stream's fields", () =>
    Effect.gen(function*() {
      const error = yield* F.rejected([{ type: "hash", stream: "users", field: "emial" }])
      assert.strictEqual(error.path, "mappers[0].field")
      assert.include(error.message, "'emial'")
      assert.include(error.message, "id, email, name")
    }))

  it.effect("rejects hashing the cursor of a deduplicated stream", () =>
    Effect.gen(function*() {
      const error = yield* F.rejected([{ type: "hash", stream: "users", field: "updated_at" }])
      assert.strictEqual(error.path, "mappers[0].field")
      assert.include(error.message, "cursor")
      assert.include(error.message, "append_dedup")
    }))

  it.effect("rejects a bad method and a misspelt option with the path of each", () =>
    Effect.gen(function*() {
      const method = yield* F.rejected([{ type: "hash", stream: "users", field: "email", method: "sha1" }])
      assert.strictEqual(method.path, "mappers[0].method")
      assert.include(method.message, "sha256")
      const typo = yield* F.rejected([{ type: "hash", stream: "users", field: "email", slat: "x" }])
      assert.strictEqual(typo.path, "mappers[0].slat")
      assert.include(typo.message, "excess")
    }))
})
