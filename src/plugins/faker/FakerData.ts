/**
 * The faker source's data: a seeded PRNG and the `users`, `products` and `purchases` generators with
 * their JSON Schemas. Record `i` of a stream is a pure function of (seed, stream, i): no Math.random,
 * no clock. Plugins import only from `src/engine`, `effect` and `node:`; this file imports only the
 * engine's calendar arithmetic.
 */
import { formatDate } from "../../engine/protocol/ProtobufTemporals.ts"

/** The epoch `updated_at` is counted from: record id `n` is updated at BASE + n seconds + jitter (< 1 s). */
export const BASE_EPOCH_MS = Date.UTC(2024, 0, 1)

const TWO_32 = 4294967296

/** A 32-bit avalanche mix (murmur3's finalizer). */
const mix32 = (value: number): number => {
  let x = value | 0
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b)
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35)
  return (x ^ (x >>> 16)) >>> 0
}

/** Low and high 32-bit words of a safe integer (negative values included). */
const low32 = (n: number): number => n >>> 0
const high32 = (n: number): number => Math.floor(n / TWO_32) | 0

/** The hash every value of one record derives from. */
export const recordHash = (seed: number, salt: number, index: number): number => {
  let h = mix32(salt)
  h = mix32(h ^ low32(seed))
  h = mix32(h ^ high32(seed))
  h = mix32(h ^ low32(index))
  return mix32(h + high32(index))
}

/** Every 16-bit value as 4 lowercase hex digits, so tokens cost two lookups per 32 bits. */
const HEX4: ReadonlyArray<string> = Array.from({ length: 65536 }, (_, i) => i.toString(16).padStart(4, "0"))

/** mulberry32: a small, fast PRNG; good enough for fake data, fully determined by its seed. */
export class Rng {
  private state: number
  constructor(seed: number) {
    this.state = seed | 0
  }
  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0
    let t = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / TWO_32
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }
  pick<A>(values: ReadonlyArray<A>): A {
    return values[Math.floor(this.next() * values.length)]!
  }
  chance(p: number): boolean {
    return this.next() < p
  }
  /** A number with two decimals in [min, max). */
  money(min: number, max: number): number {
    return Math.round((min + this.next() * (max - min)) * 100) / 100
  }
  hex(words: number): string {
    let out = ""
    for (let i = 0; i < words; i++) {
      const word = Math.floor(this.next() * TWO_32)
      out += HEX4[word >>> 16]! + HEX4[word & 0xffff]!
    }
    return out
  }
}

/** `updated_at` of record `index` (id `index + 1`) in epoch ms; strictly increasing with the index. */
export const updatedAtMs = (hash: number, index: number): number => BASE_EPOCH_MS + (index + 1) * 1000 + (hash % 1000)

const FIRST_NAMES = [
  "Alexander", "Amelia", "Benjamin", "Charlotte", "Daniel", "Eleanor", "Elijah", "Evelyn", "Gabriel", "Hannah",
  "Isabella", "Jackson", "Josephine", "Liam", "Lucas", "Madeline", "Mateo", "Nathaniel", "Olivia", "Penelope",
  "Sebastian", "Sofia", "Theodore", "Valentina", "William", "Zoe"
] as const
const LAST_NAMES = [
  "Anderson", "Brown", "Castillo", "Dubois", "Fernandez", "Garcia", "Hernandez", "Ivanova", "Johnson", "Kowalski",
  "Lefebvre", "Martinez", "Nakamura", "Okafor", "Patel", "Richardson", "Schneider", "Thompson", "Van der Berg",
  "Williams", "Yamamoto", "Zimmermann"
] as const
/** The lower-case forms the e-mail addresses use, computed once. */
const EMAIL_FIRST: ReadonlyMap<string, string> = new Map(FIRST_NAMES.map((n) => [n, n.toLowerCase()]))
const EMAIL_LAST: ReadonlyMap<string, string> = new Map(LAST_NAMES.map((n) => [n, n.replaceAll(" ", "").toLowerCase()]))
const STREETS = ["Maple Avenue", "Oak Street", "Cedar Lane", "Elm Drive", "Harbor Road", "Sunset Boulevard", "Mill Street"] as const
const CITIES = [
  { city: "Springfield", state: "IL", country: "US" },
  { city: "Portland", state: "OR", country: "US" },
  { city: "Austin", state: "TX", country: "US" },
  { city: "Toronto", state: "ON", country: "CA" },
  { city: "Manchester", state: "ENG", country: "GB" },
  { city: "Lyon", state: "ARA", country: "FR" },
  { city: "Hamburg", state: "HH", country: "DE" }
] as const
const DOMAINS = ["example.com", "example.org", "mail.example.net", "inbox.example.io"] as const
const LANGUAGES = ["en", "fr", "de", "es", "ja", "pt"] as const
const TIERS = ["bronze", "silver", "gold", "platinum"] as const
const SIGNUP_SOURCES = ["organic_search", "referral", "paid_social", "newsletter", "partner"] as const
const ADJECTIVES = ["Ergonomic", "Rustic", "Sleek", "Durable", "Compact", "Heavy-Duty", "Smart", "Vintage"] as const
const NOUNS = ["Chair", "Lamp", "Backpack", "Keyboard", "Kettle", "Bicycle", "Headphones", "Desk", "Watch"] as const
const CATEGORIES = ["home", "office", "outdoor", "electronics", "kitchen", "sports"] as const
const TAGS = ["new", "sale", "eco", "bestseller", "limited", "imported", "handmade"] as const
const STATUSES = ["pending", "paid", "shipped", "delivered", "refunded"] as const
const PAYMENT_METHODS = ["card", "paypal", "bank_transfer", "gift_card"] as const

const DAY_MS = 86_400_000
const pad2 = (n: number) => (n < 10 ? "0" : "") + n
const pad3 = (n: number) => (n < 10 ? "00" : n < 100 ? "0" : "") + n
/** `YYYY-MM-DDT` of a day number since the epoch; records cluster on few days (updated_at advances a
 * second per record), so the prefixes are cached. */
const DAY_PREFIXES = new Map<number, string>()
const dayPrefix = (day: number): string => {
  let prefix = DAY_PREFIXES.get(day)
  if (prefix === undefined) {
    if (DAY_PREFIXES.size >= 4096) DAY_PREFIXES.clear()
    prefix = `${formatDate(day)}T`
    DAY_PREFIXES.set(day, prefix)
  }
  return prefix
}
/** `Date#toISOString` for years 1000–9999, without a Date per call. */
const iso = (ms: number): string => {
  const day = Math.floor(ms / DAY_MS)
  let rest = ms - day * DAY_MS
  const hours = Math.floor(rest / 3_600_000)
  rest -= hours * 3_600_000
  const minutes = Math.floor(rest / 60_000)
  rest -= minutes * 60_000
  const seconds = Math.floor(rest / 1000)
  return `${dayPrefix(day)}${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}.${pad3(rest - seconds * 1000)}Z`
}

// ------------------------------------------------------------------------------------------ JSON Schemas

type JsonSchema = { readonly [key: string]: unknown }

const timestamp: JsonSchema = { type: "string", format: "date-time", airbyte_type: "timestamp_with_timezone" }
const nullableTimestamp: JsonSchema = { type: ["string", "null"], format: "date-time", airbyte_type: "timestamp_with_timezone" }
const integer: JsonSchema = { type: "integer" }
const number: JsonSchema = { type: "number" }
const string: JsonSchema = { type: "string" }
const nullableString: JsonSchema = { type: ["string", "null"] }
const boolean: JsonSchema = { type: "boolean" }

const objectSchema = (properties: Record<string, JsonSchema>, required: ReadonlyArray<string>): JsonSchema => ({
  $schema: "http://json-schema.org/draft-07/schema#",
  type: "object",
  additionalProperties: true,
  required,
  properties
})

// ---------------------------------------------------------------------------------------------- Streams

/** The data of one generated record; `updated_at` is its cursor (ISO 8601, UTC). */
export type FakeRecord = Record<string, unknown> & { readonly updated_at: string }

/** One generated stream: its name, hash salt, JSON Schema and record generator. */
export interface FakeStream {
  readonly name: string
  readonly salt: number
  readonly jsonSchema: JsonSchema
  /** The data of record `index`; `count` bounds the ids other streams are referenced by. */
  readonly record: (rng: Rng, index: number, updatedAt: number, count: number) => FakeRecord
}

const users: FakeStream = {
  name: "users",
  salt: 0x75736572,
  jsonSchema: objectSchema({
    id: integer,
    first_name: string,
    last_name: string,
    email: string,
    phone: nullableString,
    age: integer,
    address: {
      type: "object",
      properties: { street: string, city: string, state: string, postal_code: string, country: string }
    },
    is_active: boolean,
    account_balance: number,
    loyalty_tier: string,
    preferred_language: string,
    signup_source: string,
    api_token: string,
    created_at: timestamp,
    updated_at: timestamp
  }, ["id", "email", "created_at", "updated_at"]),
  record: (rng, index, updatedAt) => {
    const id = index + 1
    const first = rng.pick(FIRST_NAMES)
    const last = rng.pick(LAST_NAMES)
    const place = rng.pick(CITIES)
    return {
      id,
      first_name: first,
      last_name: last,
      email: `${EMAIL_FIRST.get(first)!}.${EMAIL_LAST.get(last)!}${id}@${rng.pick(DOMAINS)}`,
      phone: rng.chance(0.15) ? null : `+1-555-${rng.int(100, 999)}-${rng.int(1000, 9999)}`,
      age: rng.int(18, 90),
      address: {
        street: `${rng.int(1, 9999)} ${rng.pick(STREETS)}`,
        city: place.city,
        state: place.state,
        postal_code: String(rng.int(10000, 99999)),
        country: place.country
      },
      is_active: rng.chance(0.8),
      account_balance: rng.money(0, 10_000),
      loyalty_tier: rng.pick(TIERS),
      preferred_language: rng.pick(LANGUAGES),
      signup_source: rng.pick(SIGNUP_SOURCES),
      api_token: rng.hex(5),
      created_at: iso(updatedAt - rng.int(0, 365) * DAY_MS),
      updated_at: iso(updatedAt)
    }
  }
}

const products: FakeStream = {
  name: "products",
  salt: 0x70726f64,
  jsonSchema: objectSchema({
    id: integer,
    sku: string,
    name: string,
    category: string,
    price: number,
    currency: string,
    in_stock: boolean,
    stock_quantity: integer,
    weight_kg: { type: ["number", "null"] },
    description: nullableString,
    tags: { type: "array", items: string },
    created_at: timestamp,
    updated_at: timestamp
  }, ["id", "sku", "created_at", "updated_at"]),
  record: (rng, index, updatedAt) => {
    const id = index + 1
    const adjective = rng.pick(ADJECTIVES)
    const noun = rng.pick(NOUNS)
    const stock = rng.chance(0.2) ? 0 : rng.int(1, 500)
    const tags: Array<string> = []
    for (let n = rng.int(0, 3); n > 0; n--) tags.push(rng.pick(TAGS))
    return {
      id,
      sku: `SKU-${id.toString(36).toUpperCase().padStart(6, "0")}-${rng.hex(1)}`,
      name: `${adjective} ${noun}`,
      category: rng.pick(CATEGORIES),
      price: rng.money(1, 2_000),
      currency: "USD",
      in_stock: stock > 0,
      stock_quantity: stock,
      weight_kg: rng.chance(0.1) ? null : rng.money(0.1, 40),
      description: rng.chance(0.3) ? null : `${adjective} ${noun.toLowerCase()} for everyday use.`,
      tags,
      created_at: iso(updatedAt - rng.int(0, 730) * DAY_MS),
      updated_at: iso(updatedAt)
    }
  }
}

const purchases: FakeStream = {
  name: "purchases",
  salt: 0x70757263,
  jsonSchema: objectSchema({
    id: integer,
    user_id: integer,
    product_id: integer,
    quantity: integer,
    unit_price: number,
    total_amount: number,
    currency: string,
    status: { type: "string", enum: [...STATUSES] },
    payment_method: string,
    is_gift: boolean,
    purchased_at: timestamp,
    delivered_at: nullableTimestamp,
    created_at: timestamp,
    updated_at: timestamp
  }, ["id", "user_id", "product_id", "created_at", "updated_at"]),
  record: (rng, index, updatedAt, count) => {
    const quantity = rng.int(1, 5)
    const unitPrice = rng.money(1, 2_000)
    const status = rng.pick(STATUSES)
    const purchasedAt = updatedAt - rng.int(0, 30) * DAY_MS - rng.int(0, 86_399) * 1000
    return {
      id: index + 1,
      user_id: rng.int(1, count),
      product_id: rng.int(1, count),
      quantity,
      unit_price: unitPrice,
      total_amount: Math.round(unitPrice * quantity * 100) / 100,
      currency: "USD",
      status,
      payment_method: rng.pick(PAYMENT_METHODS),
      is_gift: rng.chance(0.1),
      purchased_at: iso(purchasedAt),
      delivered_at: status === "delivered" ? iso(Math.min(updatedAt, purchasedAt + rng.int(1, 10) * DAY_MS)) : null,
      created_at: iso(purchasedAt),
      updated_at: iso(updatedAt)
    }
  }
}

/** The streams in discover order. */
export const STREAMS: ReadonlyArray<FakeStream> = [users, products, purchases]

export const streamNamed = (name: string): FakeStream | undefined => STREAMS.find((s) => s.name === name)

/** The data of record `index` (id `index + 1`) of `stream`. */
export const generate = (stream: FakeStream, seed: number, index: number, count: number): FakeRecord => {
  const hash = recordHash(seed, stream.salt, index)
  return stream.record(new Rng(hash), index, updatedAtMs(hash, index), count)
}

/** The first index whose `updated_at` is strictly after `cursorMs` (or `count` when none is). */
export const firstIndexAfter = (stream: FakeStream, seed: number, cursorMs: number, count: number): number => {
  // updated_at(i) lies in [BASE + (i+1) s, BASE + (i+1) s + 999 ms], so the answer is within two of this guess.
  let index = Math.max(0, Math.floor((cursorMs - BASE_EPOCH_MS) / 1000) - 1)
  while (index < count && updatedAtMs(recordHash(seed, stream.salt, index), index) <= cursorMs) index++
  return Math.min(index, count)
}
