/**
 * configureCatalog: the stream defaults of config as code (all streams; incremental + append where
 * supported, else full_refresh + overwrite; the source's cursor and key), selection by `streams`,
 * and every mismatch with the discovered catalog reported with its path.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { configureCatalog } from "../../src/config/Catalog.ts"
import type * as M from "../../src/engine/protocol/AirbyteMessage.ts"
import { catalog as fakerCatalog } from "../../src/plugins/faker/Faker.ts"

const snapshot: M.AirbyteStream = { name: "snapshot", json_schema: { type: "object" }, supported_sync_modes: ["full_refresh"] }
const events: M.AirbyteStream = { name: "events", namespace: "app", json_schema: { type: "object" }, supported_sync_modes: ["full_refresh", "incremental"] }
const discovered: M.AirbyteCatalog = { streams: [...fakerCatalog.streams, snapshot, events] }

const summary = (c: M.ConfiguredAirbyteCatalog) =>
  c.streams.map((s) => [s.stream.name, s.sync_mode, s.destination_sync_mode, s.cursor_field?.join(".") ?? "-", JSON.stringify(s.primary_key ?? null)])

describe("configureCatalog", () => {
  it.effect("without streams: every stream, incremental + append where supported, else full_refresh + overwrite", () =>
    Effect.gen(function*() {
      const configured = yield* configureCatalog({ streams: [...fakerCatalog.streams, snapshot] }, undefined)
      assert.deepStrictEqual(summary(configured), [
        ["users", "incremental", "append", "updated_at", "[[\"id\"]]"],
        ["products", "incremental", "append", "updated_at", "[[\"id\"]]"],
        ["purchases", "incremental", "append", "updated_at", "[[\"id\"]]"],
        ["snapshot", "full_refresh", "overwrite", "-", "null"]
      ])
    }))

  it.effect("with streams: exactly those, settings over the defaults, namespace.name accepted", () =>
    Effect.gen(function*() {
      const configured = yield* configureCatalog(discovered, {
        users: { destinationSyncMode: "append_dedup" },
        purchases: { syncMode: "full_refresh" },
        "app.events": { cursorField: ["ts"], primaryKey: [["id"], ["ts"]] }
      })
      assert.deepStrictEqual(summary(configured), [
        ["users", "incremental", "append_dedup", "updated_at", "[[\"id\"]]"],
        ["purchases", "full_refresh", "overwrite", "updated_at", "[[\"id\"]]"],
        ["events", "incremental", "append", "ts", "[[\"id\"],[\"ts\"]]"]
      ])
    }))

  it.effect("falls back to append when the destination cannot overwrite", () =>
    Effect.gen(function*() {
      const configured = yield* configureCatalog(discovered, { snapshot: {} }, { destinationSyncModes: ["append"] })
      assert.deepStrictEqual(summary(configured), [["snapshot", "full_refresh", "append", "-", "null"]])
    }))

  it.effect("reports every mismatch with its path", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(configureCatalog(discovered, {
        customers: {},
        snapshot: { syncMode: "incremental" },
        users: { cursorField: ["created_at"] },
        events: { destinationSyncMode: "append_dedup", syncMode: "full_refresh" },
        purchases: { destinationSyncMode: "overwrite" }
      }, { path: "connections.q", destinationSyncModes: ["append", "append_dedup"] }))
      assert.strictEqual(error._tag, "StreamsInvalid")
      assert.deepStrictEqual(error.issues.map((i) => `${i.path}: ${i.message}`), [
        "connections.q.streams.customers: the source has no stream \"customers\"; its streams: users, products, purchases, snapshot, app.events",
        "connections.q.streams.snapshot.syncMode: stream snapshot supports full_refresh, not incremental",
        "connections.q.streams.snapshot.cursorField: incremental sync of stream snapshot needs a cursorField",
        "connections.q.streams.users.cursorField: the source defines the cursor of stream users (updated_at); leave cursorField out",
        "connections.q.streams.events.primaryKey: append_dedup of stream app.events needs a primaryKey",
        "connections.q.streams.purchases.destinationSyncMode: the destination supports append, append_dedup, not overwrite"
      ])
    }))
})
