/**
 * The "filter" mapper: every op and and/or/not over a fixed set of records, dropped records leaving
 * other messages in order, and the config errors of predicates (fields, value types, regexes, shape).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { hasNestedQuantifier } from "../../../src/plugins/mappers/Predicate.ts"
import * as F from "../MiddlewareFixtures.ts"

const carol = { id: 3, email: "carol@test.org", name: "Carol", age: 45, score: 7, active: true, tags: ["vip"], updated_at: "2024-07-15T00:00:00Z" }
const people = F.deepFreeze([F.alice, F.bob, carol].map((data) => F.record("users", data)))

/** The ids of the users a predicate keeps. */
const kept = (keep: unknown) =>
  Effect.gen(function*() {
    const m = yield* F.one({ type: "filter", stream: "users", keep })
    return F.dataOf(m.process(people)).map((d) => d["id"])
  })

const cases: ReadonlyArray<readonly [string, unknown, ReadonlyArray<number>]> = [
  ["eq string", { field: "email", op: "eq", value: "bob@example.com" }, [2]],
  ["eq boolean", { field: "active", op: "eq", value: true }, [1, 3]],
  ["eq null matches null", { field: "name", op: "eq", value: null }, [2]],
  ["eq null matches absent", { field: "age", op: "eq", value: null }, [2]],
  ["neq", { field: "active", op: "neq", value: true }, [2]],
  ["neq null", { field: "name", op: "neq", value: null }, [1, 3]],
  ["gt number", { field: "age", op: "gt", value: 31 }, [3]],
  ["gte number", { field: "age", op: "gte", value: 31 }, [1, 3]],
  ["lt number", { field: "score", op: "lt", value: 7 }, [2]],
  ["lte number", { field: "score", op: "lte", value: 7 }, [2, 3]],
  ["gt ISO timestamp", { field: "updated_at", op: "gt", value: "2024-05-15T00:00:00Z" }, [2, 3]],
  ["lt ISO timestamp", { field: "updated_at", op: "lt", value: "2024-06-01T10:00:00Z" }, [1]],
  ["in", { field: "id", op: "in", value: [1, 3] }, [1, 3]],
  ["in with null", { field: "name", op: "in", value: ["Carol", null] }, [2, 3]],
  ["not_in", { field: "id", op: "not_in", value: [1] }, [2, 3]],
  ["exists", { field: "age", op: "exists" }, [1, 3]],
  ["exists treats null as absent", { field: "name", op: "exists" }, [1, 3]],
  ["not_exists", { field: "age", op: "not_exists" }, [2]],
  ["contains substring", { field: "email", op: "contains", value: "example" }, [1, 2]],
  ["contains array element", { field: "tags", op: "contains", value: "vip" }, [1, 3]],
  ["starts_with", { field: "email", op: "starts_with", value: "carol" }, [3]],
  ["matches", { field: "email", op: "matches", value: "^[a-z]+@example\\.com$" }, [1, 2]],
  ["and", { and: [{ field: "active", op: "eq", value: true }, { field: "age", op: "gt", value: 40 }] }, [3]],
  ["or", { or: [{ field: "id", op: "eq", value: 1 }, { field: "name", op: "eq", value: null }] }, [1, 2]],
  ["not", { not: { field: "tags", op: "contains", value: "vip" } }, [2]],
  ["nested", {
    or: [
      { and: [{ field: "score", op: "gt", value: 5 }, { not: { field: "email", op: "contains", value: "example" } }] },
      { field: "active", op: "eq", value: false }
    ]
  }, [2, 3]]
]

describe("filter mapper", () => {
  for (const [name, keep, ids] of cases) {
    it.effect(`keeps by ${name}`, () => Effect.map(kept(keep), (got) => assert.deepStrictEqual(got, [...ids])))
  }

  it.effect("drops filtered records only; other messages and streams keep identity and order", () =>
    Effect.gen(function*() {
      const m = yield* F.one({ type: "filter", stream: "users", keep: { field: "id", op: "eq", value: 2 } })
      const input = F.deepFreeze([F.state(1), people[0]!, F.log("x"), people[1]!, F.record("events", { id: 1 }), people[2]!, F.state(2)])
      const out = m.process(input)
      assert.deepStrictEqual(out, [0, 2, 3, 4, 6].map((i) => input[i]!))
      for (const [i, j] of [[0, 0], [1, 2], [2, 3], [3, 4], [4, 6]] as const) assert.strictEqual(out[i], input[j])
      assert.deepStrictEqual(m.catalog, F.catalog)
      const all = [people[1]!, F.state(3)]
      assert.strictEqual(m.process(all), all)
    }))

  const rejects = (keep: unknown, path: string, fragment: string) =>
    Effect.gen(function*() {
      const error = yield* F.rejected([{ type: "filter", stream: "users", keep }])
      assert.strictEqual(error._tag, "MiddlewareConfigError")
      assert.strictEqual(error.middleware, "filter")
      assert.strictEqual(error.path, path)
      assert.include(error.message, fragment)
    })

  it.effect("rejects an invalid regex", () =>
    rejects({ field: "email", op: "matches", value: "(unclosed" }, "mappers[0].keep.value", "invalid regular expression"))
  it.effect("rejects nested unbounded quantifiers and over-long patterns", () =>
    Effect.gen(function*() {
      yield* rejects({ field: "email", op: "matches", value: "^(a+)+$" }, "mappers[0].keep.value", "backtrack")
      yield* rejects({ field: "email", op: "matches", value: "a".repeat(513) }, "mappers[0].keep.value", "at most 512")
      assert.isTrue(hasNestedQuantifier("((ab)*c)+"))
      assert.isTrue(hasNestedQuantifier("(x{2,})*"))
      assert.isFalse(hasNestedQuantifier("(ab)+[(a+)+]\\(a+\\)+"))
      assert.isFalse(hasNestedQuantifier("^(?:[a-z]+)@(example|test)\\.(com|org)$"))
    }))
  it.effect("rejects values that do not fit the op", () =>
    Effect.gen(function*() {
      yield* rejects({ field: "id", op: "in", value: 1 }, "mappers[0].keep.value", "non-empty array")
      yield* rejects({ field: "id", op: "in", value: [] }, "mappers[0].keep.value", "non-empty array")
      yield* rejects({ field: "id", op: "in", value: [1, { a: 1 }] }, "mappers[0].keep.value", "element 1")
      yield* rejects({ field: "id", op: "eq" }, "mappers[0].keep.value", "eq needs a value")
      yield* rejects({ field: "profile", op: "eq", value: { a: 1 } }, "mappers[0].keep.value", "string, number, boolean or null")
      yield* rejects({ field: "age", op: "exists", value: true }, "mappers[0].keep.value", "takes no value")
      yield* rejects({ field: "age", op: "gt", value: true }, "mappers[0].keep.value", "number or a string")
      yield* rejects({ field: "email", op: "starts_with", value: 1 }, "mappers[0].keep.value", "needs a string")
    }))
  it.effect("rejects comparing numbers with strings and the like", () =>
    Effect.gen(function*() {
      yield* rejects({ field: "age", op: "gt", value: "30" }, "mappers[0].keep.value", "declared as null | number")
      yield* rejects({ field: "updated_at", op: "lt", value: 20240101 }, "mappers[0].keep.value", "declared as string")
      yield* rejects({ field: "email", op: "eq", value: 1 }, "mappers[0].keep.value", "never matches")
      yield* rejects({ field: "age", op: "contains", value: "3" }, "mappers[0].keep.value", "contains needs a string field")
    }))
  it.effect("rejects an unknown field, at its path inside the predicate", () =>
    rejects({ and: [{ field: "id", op: "exists" }, { not: { field: "emial", op: "exists" } }] }, "mappers[0].keep.and[1].not.field", "no top-level field 'emial'"))
  it.effect("rejects an empty and/or", () => rejects({ or: [] }, "mappers[0].keep.or", "at least one"))
  it.effect("rejects a bad predicate shape through the Schema", () =>
    Effect.gen(function*() {
      yield* rejects({ field: "id", op: "between", value: [1, 2] }, "mappers[0].keep", "mappers[0].keep.op")
      yield* rejects({ and: "id > 1" }, "mappers[0].keep", "mappers[0].keep.and")
      yield* rejects({ field: "id", op: "eq", value: 1, and: [] }, "mappers[0].keep", "excess")
      yield* rejects({ and: [{ field: "id", op: "exists" }, { fild: "x" }] }, "mappers[0].keep", "mappers[0].keep.and[1].fild")
      const missing = yield* F.rejected([{ type: "filter", stream: "users" }])
      assert.strictEqual(missing.path, "mappers[0].keep")
    }))
  it.effect("rejects an unknown stream", () =>
    Effect.gen(function*() {
      const error = yield* F.rejected([{ type: "filter", stream: "customers", keep: { field: "id", op: "exists" } }])
      assert.strictEqual(error.path, "mappers[0].stream")
      assert.include(error.message, "available streams: users, shop.orders, events")
    }))
})
