/**
 * The "encrypt" mapper: replaces one field of one stream with its AES-256-GCM ciphertext, and
 * `decryptValue` to read it back. Null and absent values stay as they are. Imports only src/engine,
 * effect and node builtins.
 *
 * Format of an encrypted value (a string): `v1:<iv>:<ciphertext>:<tag>`, each part standard base64;
 * the IV is 12 fresh random bytes per value, the tag 16 bytes, no additional authenticated data. The
 * plaintext is the UTF-8 text of the value: a string as is, anything else as JSON (keys sorted).
 */
import * as Crypto from "node:crypto"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { MiddlewarePlugin } from "../../engine/replication/Middleware.ts"
import * as Target from "./StreamTarget.ts"

export const EncryptMapperConfig = Schema.Struct({
  type: Schema.Literal("encrypt"),
  stream: Schema.String.annotate({ description: "Stream name, or namespace.name" }),
  field: Schema.String.annotate({ description: "Top-level field to encrypt" }),
  key: Schema.String.annotate({
    description: "32-byte AES key as base64 or 64 hex characters; write secret(\"ENV_NAME\")",
    message: "key must be a string: 32 bytes as base64 or 64 hex characters (the value is not shown)"
  })
})
export type EncryptMapperConfig = typeof EncryptMapperConfig.Type

/** A value `decryptValue` cannot read: wrong key, tampered or not in the `v1` format. */
export class DecryptError extends Data.TaggedError("DecryptError")<{ readonly message: string }> {}

const hexKey = /^[0-9a-fA-F]{64}$/
const base64Key = /^[A-Za-z0-9+/_-]+={0,2}$/

/** The 32 key bytes, or why the text is not such a key (never quoting the key). */
export const parseKey = (key: string): Crypto.KeyObject | string => {
  const trimmed = key.trim()
  const bytes = hexKey.test(trimmed)
    ? Buffer.from(trimmed, "hex")
    : base64Key.test(trimmed)
    ? Buffer.from(trimmed, "base64")
    : undefined
  if (bytes === undefined) return `key must be 32 bytes given as base64 or 64 hex characters; the given ${key.length}-character key is neither`
  if (bytes.length !== 32) return `key must be 32 bytes (AES-256), given as base64 or 64 hex characters; the given key decodes to ${bytes.length} bytes`
  return Crypto.createSecretKey(bytes)
}

const ivSize = 12
const ivsPerFill = 1024

/** Encrypts text with fresh IVs drawn from a pool refilled 1024 at a time (one syscall per fill). */
const encryptor = (key: Crypto.KeyObject) => {
  const pool = Buffer.alloc(ivSize * ivsPerFill)
  let next = ivsPerFill
  return (plaintext: string): string => {
    if (next === ivsPerFill) {
      Crypto.randomFillSync(pool)
      next = 0
    }
    const iv = pool.subarray(next * ivSize, (next + 1) * ivSize)
    next++
    const cipher = Crypto.createCipheriv("aes-256-gcm", key, iv)
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()])
    return `v1:${iv.toString("base64")}:${ciphertext.toString("base64")}:${cipher.getAuthTag().toString("base64")}`
  }
}

/**
 * The plaintext of an encrypted value (`v1:<iv>:<ciphertext>:<tag>`) under `key` (32 bytes as base64
 * or hex). Throws DecryptError when the key is malformed, the text is not in this format, or the tag
 * does not verify (wrong key or tampered value).
 */
export const decryptValue = (key: string, text: string): string => {
  const parsed = parseKey(key)
  if (typeof parsed === "string") throw new DecryptError({ message: parsed })
  const parts = text.split(":")
  if (parts.length !== 4 || parts[0] !== "v1") throw new DecryptError({ message: "not an encrypted value: expected v1:<iv>:<ciphertext>:<tag>" })
  const iv = Buffer.from(parts[1]!, "base64")
  const tag = Buffer.from(parts[3]!, "base64")
  if (iv.length !== ivSize || tag.length !== 16) throw new DecryptError({ message: "not an encrypted value: the IV must be 12 bytes and the tag 16" })
  const decipher = Crypto.createDecipheriv("aes-256-gcm", parsed, iv, { authTagLength: 16 })
  decipher.setAuthTag(tag)
  const ciphertext = Buffer.from(parts[2]!, "base64")
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("utf8")
  } catch {
    throw new DecryptError({ message: "the value does not verify under this key (wrong key or tampered value)" })
  }
}

export const encryptMapper: MiddlewarePlugin<EncryptMapperConfig> = {
  id: "encrypt",
  description: "Replaces a field with its AES-256-GCM ciphertext (v1:iv:ciphertext:tag, base64); null stays null.",
  config: EncryptMapperConfig,
  make: Effect.fn("mappers.encrypt.make")(function*(config, context) {
    const target = yield* Target.resolveStream("encrypt", context, config.stream)
    yield* Target.requireField("encrypt", target, config.field, `${context.path}.field`)
    const key = parseKey(config.key)
    if (typeof key === "string") return yield* Target.configError("encrypt", `${context.path}.key`, key)
    yield* Target.forbidDedupKey("encrypt", `${context.path}.field`, target.configured, config.field, ["primary key", "cursor"], "encrypting (random IVs)")
    const { field } = config
    const encrypt = encryptor(key)
    return {
      id: "encrypt",
      catalog: Target.rewriteStream(context.catalog, target.index, (s) => Target.replaceFieldSchema(s, field, Target.nullableString)),
      process: Target.mapRecords(target, (data) => {
        const value = data[field]
        if (value === undefined || value === null) return data
        return { ...data, [field]: encrypt(Target.canonicalText(value)) }
      })
    }
  })
}
