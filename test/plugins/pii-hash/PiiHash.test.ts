/**
 * The "pii-hash" middleware: salted sha256 per connection (deterministic within one, different across
 * connections), explicit salts, one stream or every stream, null/absent values, the catalog rewrite
 * and config errors.
 */
import * as Crypto from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { piiHash } from "../../../src/plugins/pii-hash/PiiHash.ts"
import * as F from "../MiddlewareFixtures.ts"

const sha256 = (text: string) => Crypto.hash("sha256", text, "hex")

const hashedEmails = (config: { readonly [key: string]: unknown }, connection = F.connectionId) =>
  Effect.gen(function*() {
    const m = yield* F.one({ type: "pii-hash", ...config }, F.catalog, connection)
    return F.dataOf(m.process(F.deepFreeze([F.record("users", F.alice), F.record("users", F.alice)]))).map((d) => d["email"])
  })

describe("pii-hash", () => {
  it.effect("hashes with the connection id as salt: equal within a connection, different across", () =>
    Effect.gen(function*() {
      const [a, b] = yield* hashedEmails({ stream: "users", fields: ["email"] })
      assert.strictEqual(a, sha256("conn-1:alice@example.com"))
      assert.strictEqual(a, b)
      const [other] = yield* hashedEmails({ stream: "users", fields: ["email"] }, "conn-2")
      assert.strictEqual(other, sha256("conn-2:alice@example.com"))
      assert.notStrictEqual(other, a)
    }))

  it.effect("uses an explicit salt, the same for every connection", () =>
    Effect.gen(function*() {
      const [one] = yield* hashedEmails({ fields: ["email"], salt: "shared" }, "conn-1")
      const [two] = yield* hashedEmails({ fields: ["email"], salt: "shared" }, "conn-2")
      assert.strictEqual(one, sha256("shared:alice@example.com"))
      assert.strictEqual(one, two)
    }))

  it.effect("without a stream hashes the fields of every stream; nulls and absent values stay", () =>
    Effect.gen(function*() {
      const m = yield* F.one({ type: "pii-hash", fields: ["email", "user_email", "name"] })
      const input = F.deepFreeze([
        F.record("users", F.bob),
        F.state(1),
        F.record("orders", { order_id: "o1", user_email: "bob@example.com", total: 3 }, "shop"),
        F.record("events", { email: "e@x", age: 3 })
      ])
      const snapshot = structuredClone(input)
      const out = m.process(input)
      const [users, orders, events] = F.dataOf(out)
      assert.strictEqual(users?.["email"], sha256("conn-1:bob@example.com"))
      assert.strictEqual(users?.["name"], null)
      assert.strictEqual(orders?.["user_email"], users?.["email"])
      assert.strictEqual(events?.["email"], sha256("conn-1:e@x"))
      assert.strictEqual(out[1], input[1])
      assert.deepStrictEqual(input, snapshot)
      assert.deepStrictEqual(F.propertiesOf(m.catalog, "users")["email"], { type: ["null", "string"] })
      assert.deepStrictEqual(F.propertiesOf(m.catalog, "users")["name"], { type: ["null", "string"] })
      assert.deepStrictEqual(F.propertiesOf(m.catalog, "orders")["user_email"], { type: ["null", "string"] })
      assert.deepStrictEqual(F.propertiesOf(m.catalog, "orders")["total"], { type: "number" })
    }))

  it.effect("with a stream leaves other streams alone, and hashes non-strings from their JSON", () =>
    Effect.gen(function*() {
      const m = yield* F.one({ type: "pii-hash", stream: "users", fields: ["email", "age"] })
      const other = F.record("events", { email: "e@x" })
      const out = m.process([other, F.record("users", F.alice)])
      assert.strictEqual(out[0], other)
      assert.strictEqual(F.dataOf(out)[1]?.["age"], sha256("conn-1:31"))
      assert.strictEqual(m.catalog.streams[1], F.catalog.streams[1])
    }))

  it.effect("rejects unknown fields and streams, and an empty field list", () =>
    Effect.gen(function*() {
      const field = yield* F.rejected([{ type: "pii-hash", stream: "users", fields: ["email", "phone"] }])
      assert.strictEqual(field.middleware, "pii-hash")
      assert.strictEqual(field.path, "mappers[0].fields[1]")
      assert.include(field.message, "no top-level field 'phone'")
      const stream = yield* F.rejected([{ type: "pii-hash", stream: "customers", fields: ["email"] }])
      assert.strictEqual(stream.path, "mappers[0].stream")
      assert.include(stream.message, "available streams")
      const empty = yield* F.rejected([{ type: "pii-hash", fields: [] }])
      assert.strictEqual(empty.path, "mappers[0].fields")
      const cursor = yield* F.rejected([{ type: "pii-hash", fields: ["updated_at"] }])
      assert.include(cursor.message, "cursor of stream 'users'")
    }))

  it.effect("without a stream, a field no stream declares is an error unless a stream is schemaless", () =>
    Effect.gen(function*() {
      const typed = { streams: [F.users, F.orders] }
      const error = yield* Effect.flip(F.build([{ type: "pii-hash", fields: ["phone"] }], typed))
      assert.strictEqual(error.path, "mappers[0].fields[0]")
      assert.include(error.message, "no stream of the catalog has a top-level field 'phone'")
      const m = yield* F.one({ type: "pii-hash", fields: ["phone"] })
      assert.strictEqual(F.dataOf(m.process([F.record("events", { phone: "1" })]))[0]?.["phone"], sha256("conn-1:1"))
    }))

  it.effect("is usable on its own: the config decodes without a type", () =>
    Effect.gen(function*() {
      const m = yield* piiHash.make({ fields: ["email"] }, { catalog: F.catalog, connectionId: "c", path: "pii" })
      assert.strictEqual(F.dataOf(m.process([F.record("users", F.alice)]))[0]?.["email"], sha256("c:alice@example.com"))
    }))
})
