/**
 * The faker source's data: a seeded PRNG and the `users`, `products` and `purchases` generators with
 * their JSON Schemas. Record `i` of a stream is a pure function of (seed, stream, i): no Math.random,
 * no clock. A stream writes a record through the kit's RecordWriter: the same calls build the data
 * object or its JSONL line. Plugins import only from `src/engine`, `effect` and `node:`; this file
 * imports only the kit's RecordWriter.
 */
import { fieldKey, type FieldKey, ObjectRecordWriter, type RecordWriter } from "../../engine/kit/RecordWriter.ts"

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
  /** An unsigned 32-bit integer. */
  word(): number {
    return Math.floor(this.next() * TWO_32)
  }
  /** Starts over from a new seed (one Rng serves every record). */
  reset(seed: number): void {
    this.state = seed | 0
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
const NOUNS_LOWER: ReadonlyMap<string, string> = new Map(NOUNS.map((n) => [n, n.toLowerCase()]))
const CATEGORIES = ["home", "office", "outdoor", "electronics", "kitchen", "sports"] as const
const TAGS = ["new", "sale", "eco", "bestseller", "limited", "imported", "handmade"] as const
const STATUSES = ["pending", "paid", "shipped", "delivered", "refunded"] as const
const PAYMENT_METHODS = ["card", "paypal", "bank_transfer", "gift_card"] as const

const DAY_MS = 86_400_000

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

/** One generated stream: its name, hash salt, JSON Schema and record writer. */
export interface FakeStream {
  readonly name: string
  readonly salt: number
  readonly jsonSchema: JsonSchema
  /**
   * Writes the data of record `index` (its `updated_at` is `updatedAt`, the stream's cursor); `count`
   * bounds the ids other streams are referenced by.
   */
  readonly write: (w: RecordWriter, rng: Rng, index: number, updatedAt: number, count: number) => void
}

/** The keys of a stream's fields, encoded once. */
const keys = <const K extends string>(names: ReadonlyArray<K>): { readonly [N in K]: FieldKey } =>
  Object.fromEntries(names.map((n) => [n, fieldKey(n)])) as { readonly [N in K]: FieldKey }

const U = keys([
  "id", "first_name", "last_name", "email", "phone", "age", "address", "street", "city", "state", "postal_code", "country",
  "is_active", "account_balance", "loyalty_tier", "preferred_language", "signup_source", "api_token", "created_at", "updated_at"
])

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
  write: (w, rng, index, updatedAt) => {
    const id = index + 1
    const first = rng.pick(FIRST_NAMES)
    const last = rng.pick(LAST_NAMES)
    const place = rng.pick(CITIES)
    w.int(U.id, id)
    w.string(U.first_name, first)
    w.string(U.last_name, last)
    // Strings of several parts are written part by part (no string is built for the JSON lines).
    w.openString(U.email)
    w.part(EMAIL_FIRST.get(first)!)
    w.part(".")
    w.part(EMAIL_LAST.get(last)!)
    w.partInt(id)
    w.part("@")
    w.part(rng.pick(DOMAINS))
    w.closeString()
    if (rng.chance(0.15)) w.null(U.phone)
    else {
      w.openString(U.phone)
      w.part("+1-555-")
      w.partInt(rng.int(100, 999))
      w.part("-")
      w.partInt(rng.int(1000, 9999))
      w.closeString()
    }
    w.int(U.age, rng.int(18, 90))
    w.openObject(U.address)
    w.openString(U.street)
    w.partInt(rng.int(1, 9999))
    w.part(" ")
    w.part(rng.pick(STREETS))
    w.closeString()
    w.string(U.city, place.city)
    w.string(U.state, place.state)
    w.openString(U.postal_code)
    w.partInt(rng.int(10000, 99999))
    w.closeString()
    w.string(U.country, place.country)
    w.closeObject()
    w.boolean(U.is_active, rng.chance(0.8))
    w.number(U.account_balance, rng.money(0, 10_000))
    w.string(U.loyalty_tier, rng.pick(TIERS))
    w.string(U.preferred_language, rng.pick(LANGUAGES))
    w.string(U.signup_source, rng.pick(SIGNUP_SOURCES))
    w.openString(U.api_token)
    for (let i = 0; i < 5; i++) w.partHex32(rng.word())
    w.closeString()
    w.timestamp(U.created_at, updatedAt - rng.int(0, 365) * DAY_MS)
    w.timestamp(U.updated_at, updatedAt)
  }
}

const P = keys([
  "id", "sku", "name", "category", "price", "currency", "in_stock", "stock_quantity", "weight_kg", "description", "tags",
  "created_at", "updated_at"
])

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
  write: (w, rng, index, updatedAt) => {
    const id = index + 1
    const adjective = rng.pick(ADJECTIVES)
    const noun = rng.pick(NOUNS)
    const stock = rng.chance(0.2) ? 0 : rng.int(1, 500)
    const tags: Array<string> = []
    for (let n = rng.int(0, 3); n > 0; n--) tags.push(rng.pick(TAGS))
    w.int(P.id, id)
    w.openString(P.sku)
    w.part("SKU-")
    w.part(id.toString(36).toUpperCase().padStart(6, "0"))
    w.part("-")
    w.partHex32(rng.word())
    w.closeString()
    w.openString(P.name)
    w.part(adjective)
    w.part(" ")
    w.part(noun)
    w.closeString()
    w.string(P.category, rng.pick(CATEGORIES))
    w.number(P.price, rng.money(1, 2_000))
    w.string(P.currency, "USD")
    w.boolean(P.in_stock, stock > 0)
    w.int(P.stock_quantity, stock)
    if (rng.chance(0.1)) w.null(P.weight_kg)
    else w.number(P.weight_kg, rng.money(0.1, 40))
    if (rng.chance(0.3)) w.null(P.description)
    else {
      w.openString(P.description)
      w.part(adjective)
      w.part(" ")
      w.part(NOUNS_LOWER.get(noun)!)
      w.part(" for everyday use.")
      w.closeString()
    }
    w.stringArray(P.tags, tags)
    w.timestamp(P.created_at, updatedAt - rng.int(0, 730) * DAY_MS)
    w.timestamp(P.updated_at, updatedAt)
  }
}

const C = keys([
  "id", "user_id", "product_id", "quantity", "unit_price", "total_amount", "currency", "status", "payment_method", "is_gift",
  "purchased_at", "delivered_at", "created_at", "updated_at"
])

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
  write: (w, rng, index, updatedAt, count) => {
    const quantity = rng.int(1, 5)
    const unitPrice = rng.money(1, 2_000)
    const status = rng.pick(STATUSES)
    const purchasedAt = updatedAt - rng.int(0, 30) * DAY_MS - rng.int(0, 86_399) * 1000
    w.int(C.id, index + 1)
    w.int(C.user_id, rng.int(1, count))
    w.int(C.product_id, rng.int(1, count))
    w.int(C.quantity, quantity)
    w.number(C.unit_price, unitPrice)
    w.number(C.total_amount, Math.round(unitPrice * quantity * 100) / 100)
    w.string(C.currency, "USD")
    w.string(C.status, status)
    w.string(C.payment_method, rng.pick(PAYMENT_METHODS))
    w.boolean(C.is_gift, rng.chance(0.1))
    w.timestamp(C.purchased_at, purchasedAt)
    if (status === "delivered") w.timestamp(C.delivered_at, Math.min(updatedAt, purchasedAt + rng.int(1, 10) * DAY_MS))
    else w.null(C.delivered_at)
    w.timestamp(C.created_at, purchasedAt)
    w.timestamp(C.updated_at, updatedAt)
  }
}

/** The streams in discover order. */
export const STREAMS: ReadonlyArray<FakeStream> = [users, products, purchases]

export const streamNamed = (name: string): FakeStream | undefined => STREAMS.find((s) => s.name === name)

/** The generator of the record being written (reset per record: a record depends on its index only). */
const rng = new Rng(0)

/** Writes the data of record `index` (id `index + 1`) of `stream`; returns its `updated_at` in epoch ms. */
export const writeRecord = (w: RecordWriter, stream: FakeStream, seed: number, index: number, count: number): number => {
  const hash = recordHash(seed, stream.salt, index)
  const updatedAt = updatedAtMs(hash, index)
  rng.reset(hash)
  stream.write(w, rng, index, updatedAt, count)
  return updatedAt
}

const objects = new ObjectRecordWriter()

/** The data of record `index` (id `index + 1`) of `stream`, as an object. */
export const generate = (stream: FakeStream, seed: number, index: number, count: number): Record<string, unknown> => {
  objects.begin()
  writeRecord(objects, stream, seed, index, count)
  return objects.end()
}

/** The first index whose `updated_at` is strictly after `cursorMs` (or `count` when none is). */
export const firstIndexAfter = (stream: FakeStream, seed: number, cursorMs: number, count: number): number => {
  // updated_at(i) lies in [BASE + (i+1) s, BASE + (i+1) s + 999 ms], so the answer is within two of this guess.
  let index = Math.max(0, Math.floor((cursorMs - BASE_EPOCH_MS) / 1000) - 1)
  while (index < count && updatedAtMs(recordHash(seed, stream.salt, index), index) <= cursorMs) index++
  return Math.min(index, count)
}
