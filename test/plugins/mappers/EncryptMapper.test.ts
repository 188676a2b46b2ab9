/**
 * The "encrypt" mapper: the v1 format, decryptValue round trips (strings and JSON values, hex and
 * base64 keys), fresh IVs per value, tamper and wrong-key detection, and key errors that never quote
 * the key.
 */
import * as Crypto from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { DecryptError, decryptValue } from "../../../src/plugins/mappers/Mappers.ts"
import * as F from "../MiddlewareFixtures.ts"

const keyBytes = Crypto.createHash("sha256").update("test key").digest()
const base64Key = keyBytes.toString("base64")
const hexKey = keyBytes.toString("hex")
const format = /^v1:[A-Za-z0-9+/]{16}:[A-Za-z0-9+/=]*:[A-Za-z0-9+/]{22}==$/

const encrypted = (key: string, field: string, data: Record<string, unknown>) =>
  Effect.gen(function*() {
    const m = yield* F.one({ type: "encrypt", stream: "users", field, key })
    return F.dataOf(m.process(F.deepFreeze([F.record("users", data)])))[0]?.[field]
  })

describe("encrypt mapper", () => {
  it.effect("encrypts to v1:iv:ciphertext:tag and decryptValue reads it back", () =>
    Effect.gen(function*() {
      const text = yield* encrypted(base64Key, "email", F.alice)
      assert.isString(text)
      if (typeof text !== "string") return
      assert.match(text, format)
      assert.strictEqual(decryptValue(base64Key, text), "alice@example.com")
      assert.strictEqual(decryptValue(hexKey, text), "alice@example.com")
    }))

  it.effect("accepts a 64-hex-character key, and encrypts non-strings as JSON text", () =>
    Effect.gen(function*() {
      const age = yield* encrypted(hexKey, "age", F.alice)
      assert.strictEqual(typeof age === "string" ? decryptValue(hexKey, age) : undefined, "31")
      const tags = yield* encrypted(hexKey, "tags", F.alice)
      assert.strictEqual(typeof tags === "string" ? decryptValue(hexKey, tags) : undefined, "[\"a\",\"vip\"]")
    }))

  it.effect("uses a fresh IV per value: two encryptions of the same value differ", () =>
    Effect.gen(function*() {
      const m = yield* F.one({ type: "encrypt", stream: "users", field: "email", key: base64Key })
      const out = F.dataOf(m.process(Array.from({ length: 2000 }, () => F.record("users", F.alice))))
      const texts = out.map((d) => String(d["email"]))
      assert.strictEqual(new Set(texts).size, 2000)
      assert.strictEqual(new Set(texts.map((t) => t.split(":")[1])).size, 2000)
      for (const t of [texts[0]!, texts[1999]!]) assert.strictEqual(decryptValue(base64Key, t), "alice@example.com")
    }))

  it.effect("keeps null and absent values; rewrites the schema to a nullable string", () =>
    Effect.gen(function*() {
      const m = yield* F.one({ type: "encrypt", stream: "users", field: "name", key: base64Key })
      const batch = [F.record("users", F.bob)]
      assert.strictEqual(m.process(batch)[0], batch[0])
      assert.deepStrictEqual(F.propertiesOf(m.catalog, "users")["name"], { type: ["null", "string"] })
    }))

  it.effect("decryptValue rejects a wrong key, a tampered value and garbage", () =>
    Effect.gen(function*() {
      const text = yield* encrypted(base64Key, "email", F.alice)
      if (typeof text !== "string") return assert.fail("not encrypted")
      const other = Crypto.randomBytes(32).toString("base64")
      assert.throws(() => decryptValue(other, text), DecryptError)
      const [v, iv, ciphertext, tag] = text.split(":")
      const flipped = Buffer.from(ciphertext!, "base64")
      flipped[0] = flipped[0]! ^ 1
      assert.throws(() => decryptValue(base64Key, [v, iv, flipped.toString("base64"), tag].join(":")), /does not verify/)
      assert.throws(() => decryptValue(base64Key, "plain text"), /not an encrypted value/)
    }))

  it.effect("rejects a key of the wrong length or encoding without quoting it", () =>
    Effect.gen(function*() {
      for (const key of [Crypto.randomBytes(16).toString("base64"), "0123456789abcdef".repeat(3), "not a key!"]) {
        const error = yield* F.rejected([{ type: "encrypt", stream: "users", field: "email", key }])
        assert.strictEqual(error.middleware, "encrypt")
        assert.strictEqual(error.path, "mappers[0].key")
        assert.include(error.message, "32 bytes")
        assert.notInclude(error.message, key)
      }
      const secret = 1234567890
      const notString = yield* F.rejected([{ type: "encrypt", stream: "users", field: "email", key: secret }])
      assert.strictEqual(notString.path, "mappers[0].key")
      assert.notInclude(notString.message, String(secret))
    }))

  it.effect("rejects encrypting the primary key or cursor of a deduplicated stream", () =>
    Effect.gen(function*() {
      const pk = yield* F.rejected([{ type: "encrypt", stream: "users", field: "id", key: base64Key }])
      assert.strictEqual(pk.path, "mappers[0].field")
      assert.include(pk.message, "primary key")
      const cursor = yield* F.rejected([{ type: "encrypt", stream: "users", field: "updated_at", key: base64Key }])
      assert.include(cursor.message, "cursor")
      const appendOnly = yield* F.one({ type: "encrypt", stream: "shop.orders", field: "order_id", key: base64Key })
      assert.strictEqual(appendOnly.id, "encrypt")
    }))
})
