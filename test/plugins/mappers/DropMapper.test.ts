/**
 * The "drop" mapper: the field leaves records, schema and `required`; primary-key and cursor fields
 * cannot be dropped; a schemaless stream accepts any field.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as F from "../MiddlewareFixtures.ts"

describe("drop mapper", () => {
  it.effect("removes the field from records and schema without touching the input", () =>
    Effect.gen(function*() {
      const m = yield* F.one({ type: "drop", stream: "users", field: "email" })
      const input = F.deepFreeze([F.record("users", F.alice), F.state(1), F.record("orders", { order_id: "o", user_email: "e" }, "shop")])
      const out = m.process(input)
      const data = F.dataOf(out)[0]!
      assert.isFalse(Object.hasOwn(data, "email"))
      assert.strictEqual(data["id"], 1)
      assert.strictEqual(out[1], input[1])
      assert.strictEqual(out[2], input[2])
      assert.isFalse(Object.hasOwn(F.propertiesOf(m.catalog, "users"), "email"))
      assert.deepStrictEqual(m.catalog.streams[0]?.stream.json_schema["required"], ["id"])
      assert.isTrue(Object.hasOwn(F.propertiesOf(F.catalog, "users"), "email"))
    }))

  it.effect("rejects dropping a primary-key field", () =>
    Effect.gen(function*() {
      const error = yield* F.rejected([{ type: "drop", stream: "users", field: "id" }])
      assert.strictEqual(error.middleware, "drop")
      assert.strictEqual(error.path, "mappers[0].field")
      assert.include(error.message, "primary key")
      assert.include(error.message, "cannot be dropped")
      const orders = yield* F.rejected([{ type: "drop", stream: "shop.orders", field: "order_id" }])
      assert.include(orders.message, "primary key of stream 'shop.orders'")
    }))

  it.effect("rejects dropping the cursor field", () =>
    Effect.gen(function*() {
      const error = yield* F.rejected([{ type: "drop", stream: "users", field: "updated_at" }])
      assert.strictEqual(error.path, "mappers[0].field")
      assert.include(error.message, "cursor")
    }))

  it.effect("rejects an unknown field; a schemaless stream accepts any field", () =>
    Effect.gen(function*() {
      const error = yield* F.rejected([{ type: "drop", stream: "users", field: "nope" }])
      assert.strictEqual(error.path, "mappers[0].field")
      const m = yield* F.one({ type: "drop", stream: "events", field: "secret" })
      const out = F.dataOf(m.process([F.record("events", { kind: "click", secret: "s" })]))
      assert.deepStrictEqual(out, [{ kind: "click" }])
      assert.deepStrictEqual(m.catalog.streams[2]?.stream.json_schema, { type: "object" })
    }))
})
