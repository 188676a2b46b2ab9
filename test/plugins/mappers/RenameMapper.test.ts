/**
 * The "rename" mapper: records (key order kept), schema, required, primary key and cursor renamed;
 * records without the field untouched; errors for a missing field, a taken name and a no-op rename.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as F from "../MiddlewareFixtures.ts"

describe("rename mapper", () => {
  it.effect("renames the field in records, keeping key order and the input intact", () =>
    Effect.gen(function*() {
      const m = yield* F.one({ type: "rename", stream: "users", field: "email", to: "contact" })
      const input = F.deepFreeze([F.state(0), F.record("users", F.alice), F.log("x")])
      const out = m.process(input)
      const data = F.dataOf(out)[0]!
      assert.deepStrictEqual(Object.keys(data), ["id", "contact", "name", "age", "score", "active", "tags", "updated_at"])
      assert.strictEqual(data["contact"], "alice@example.com")
      assert.isFalse(Object.hasOwn(data, "email"))
      assert.strictEqual(out[0], input[0])
      assert.strictEqual(out[2], input[2])
      assert.strictEqual(F.dataOf(input)[0]?.["email"], "alice@example.com")
    }))

  it.effect("renames the schema property, required entry, primary key and cursor", () =>
    Effect.gen(function*() {
      const id = yield* F.one({ type: "rename", stream: "users", field: "id", to: "user_id" })
      const s = id.catalog.streams[0]!
      assert.deepStrictEqual(Object.keys(F.propertiesOf(id.catalog, "users"))[0], "user_id")
      assert.deepStrictEqual(s.stream.json_schema["required"], ["user_id", "email"])
      assert.deepStrictEqual(s.primary_key, [["user_id"]])
      assert.deepStrictEqual(s.stream.source_defined_primary_key, [["user_id"]])
      const cursor = yield* F.one({ type: "rename", stream: "users", field: "updated_at", to: "modified" })
      assert.deepStrictEqual(cursor.catalog.streams[0]?.cursor_field, ["modified"])
      assert.deepStrictEqual(cursor.catalog.streams[0]?.stream.default_cursor_field, ["modified"])
      assert.deepStrictEqual(F.catalog.streams[0]?.primary_key, [["id"]])
    }))

  it.effect("forwards records without the field as they are", () =>
    Effect.gen(function*() {
      const m = yield* F.one({ type: "rename", stream: "users", field: "age", to: "years" })
      const batch = [F.record("users", F.bob)]
      assert.strictEqual(m.process(batch), batch)
    }))

  it.effect("rejects a field the stream does not have", () =>
    Effect.gen(function*() {
      const error = yield* F.rejected([{ type: "rename", stream: "users", field: "mail", to: "contact" }])
      assert.strictEqual(error.middleware, "rename")
      assert.strictEqual(error.path, "mappers[0].field")
      assert.include(error.message, "no top-level field 'mail'")
    }))

  it.effect("rejects a target name the stream already has", () =>
    Effect.gen(function*() {
      const error = yield* F.rejected([{ type: "rename", stream: "users", field: "email", to: "name" }])
      assert.strictEqual(error.path, "mappers[0].to")
      assert.include(error.message, "already has a field 'name'")
    }))

  it.effect("rejects renaming a field to itself and a missing `to`", () =>
    Effect.gen(function*() {
      const same = yield* F.rejected([{ type: "rename", stream: "users", field: "email", to: "email" }])
      assert.strictEqual(same.path, "mappers[0].to")
      const missing = yield* F.rejected([{ type: "rename", stream: "users", field: "email" }])
      assert.strictEqual(missing.path, "mappers[0].to")
      assert.include(missing.message, "missing")
    }))
})
