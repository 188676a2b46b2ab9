/**
 * The faker source in process (determinism, counts, state cadence and stats, incremental resume, the
 * fault-injection knobs, catalog errors) and as a real `sluice connector faker` process, every stdout
 * line checked against the official Airbyte schema.
 */
import { assert, describe, it } from "@effect/vitest"
import { Ajv } from "ajv"
import addFormatsModule from "ajv-formats"
import { Cause, Effect, Exit, Stream } from "effect"
import { spawn } from "node:child_process"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { ConnectorError, type ConnectorContext, type InputState } from "../../../src/engine/kit/Connector.ts"
import { protocolMessages } from "../../../src/engine/kit/SourceMessages.ts"
import type * as M from "../../../src/engine/protocol/AirbyteMessage.ts"
import * as SchemaErrors from "../../../src/engine/SchemaErrors.ts"
import { faker, type FakerConfig } from "../../../src/plugins/faker/Faker.ts"
import * as FakerData from "../../../src/plugins/faker/FakerData.ts"
import * as Official from "../../support/OfficialSchema.ts"

const sluice = fileURLToPath(new URL("../../../bin/sluice.js", import.meta.url))

const context = (attempt?: number): ConnectorContext => ({ jobId: undefined, attempt })

const configured = (
  syncMode: M.SyncMode,
  names: ReadonlyArray<string> = ["users", "products", "purchases"]
): M.ConfiguredAirbyteCatalog => ({
  streams: names.map((name) => ({
    stream: { name, json_schema: {}, supported_sync_modes: ["full_refresh", "incremental"] },
    sync_mode: syncMode,
    destination_sync_mode: "append"
  }))
})

interface ReadOptions {
  readonly catalog?: M.ConfiguredAirbyteCatalog
  readonly state?: InputState
  readonly attempt?: number
  /** Records as JSONL bytes (the kit's writer, parsed back here) or as objects; JSONL unless told. */
  readonly jsonLines?: boolean
}

const readStream = (config: FakerConfig, options: ReadOptions) =>
  protocolMessages(faker.read({
    config,
    catalog: options.catalog ?? configured("incremental"),
    state: options.state ?? { _tag: "None" },
    context: context(options.attempt),
    jsonLines: options.jsonLines ?? true
  }))

const read = (config: FakerConfig, options: ReadOptions = {}) => Stream.runCollect(readStream(config, options))

/** Runs a read that must fail: the messages it emitted first, and the error. */
const readFailing = (config: FakerConfig, options: Parameters<typeof read>[1] = {}) =>
  Effect.gen(function*() {
    const emitted: Array<M.AirbyteMessage> = []
    const stream = readStream(config, options)
    const exit = yield* Effect.exit(Stream.runForEach(stream, (m) => Effect.sync(() => emitted.push(m))))
    assert.isTrue(Exit.isFailure(exit), "the read should fail")
    const error = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
    assert.instanceOf(error, ConnectorError)
    return { emitted, error: error as ConnectorError }
  })

const records = (messages: ReadonlyArray<M.AirbyteMessage>, stream?: string) =>
  messages.flatMap((m) => (m.type === "RECORD" && (stream === undefined || m.record.stream === stream) ? [m.record] : []))
const states = (messages: ReadonlyArray<M.AirbyteMessage>, stream?: string) =>
  messages.flatMap((m) =>
    m.type === "STATE" && m.state.stream !== undefined && (stream === undefined || m.state.stream.stream_descriptor.name === stream)
      ? [m.state]
      : []
  )
const statuses = (messages: ReadonlyArray<M.AirbyteMessage>) =>
  messages.flatMap((m) =>
    m.type === "TRACE" && m.trace.stream_status !== undefined
      ? [`${m.trace.stream_status.stream_descriptor.name}:${m.trace.stream_status.status}`]
      : []
  )
const ids = (messages: ReadonlyArray<M.AirbyteMessage>, stream: string) => records(messages, stream).map((r) => r.data["id"])
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

/** The last STATE of every stream, as a `--state` file holds them. */
const lastStates = (messages: ReadonlyArray<M.AirbyteMessage>): Array<M.AirbyteStateMessage> => {
  const last = new Map<string, M.AirbyteStateMessage>()
  for (const state of states(messages)) last.set(state.stream!.stream_descriptor.name, state)
  return [...last.values()]
}
const perStream = (states: ReadonlyArray<M.AirbyteStateMessage>): InputState => ({ _tag: "PerStream", states })

describe("faker in process", () => {
  it.effect("spec and discover describe the config and three incremental streams", () =>
    Effect.gen(function*() {
      const properties = faker.spec.connectionSpecification["properties"] as Record<string, Record<string, unknown>>
      for (const key of ["count", "seed", "records_per_state", "fail_until_attempt", "fail_after_records"]) {
        assert.isString(properties[key]?.["description"], key)
      }
      assert.deepStrictEqual(faker.spec.connectionSpecification["required"], ["count"])
      const catalog = yield* faker.discover({ count: 1 }, context())
      assert.deepStrictEqual(catalog.streams.map((s) => s.name), ["users", "products", "purchases"])
      for (const stream of catalog.streams) {
        assert.deepStrictEqual(stream.supported_sync_modes, ["full_refresh", "incremental"])
        assert.isTrue(stream.source_defined_cursor)
        assert.deepStrictEqual(stream.default_cursor_field, ["updated_at"])
        assert.deepStrictEqual(stream.source_defined_primary_key, [["id"]])
        const updatedAt = (stream.json_schema["properties"] as Record<string, Record<string, unknown>>)["updated_at"]
        assert.deepStrictEqual(updatedAt, { type: "string", format: "date-time", airbyte_type: "timestamp_with_timezone" })
      }
      assert.deepStrictEqual(Official.validateAirbyteMessage({ type: "CATALOG", catalog }), [])
    }))

  it.effect("records written as JSON lines and as objects are the same messages, states and failures included", () =>
    Effect.gen(function*() {
      const withoutEmittedAt = (messages: ReadonlyArray<M.AirbyteMessage>) =>
        messages.map((m) => (m.type === "RECORD" ? { ...m, record: { ...m.record, emitted_at: 0 } } : m.type === "TRACE" ? { ...m, trace: { ...m.trace, emitted_at: 0 } } : m))
      const config = { count: 250, seed: 3, records_per_state: 40 }
      const lines = yield* read(config, { jsonLines: true })
      const objects = yield* read(config, { jsonLines: false })
      assert.strictEqual(records(lines).length, 750)
      assert.deepStrictEqual(withoutEmittedAt(lines), withoutEmittedAt(objects))
      const failing = { ...config, fail_after_records: 333 }
      const linesFailed = yield* readFailing(failing, { jsonLines: true })
      const objectsFailed = yield* readFailing(failing, { jsonLines: false })
      assert.deepStrictEqual(withoutEmittedAt(linesFailed.emitted), withoutEmittedAt(objectsFailed.emitted))
      assert.strictEqual(records(linesFailed.emitted).length, 333)
    }))

  it.effect("a bad config names the field", () =>
    Effect.sync(() => {
      const exit = SchemaErrors.decodeAll(faker.config)({ count: "ten" })
      assert.isTrue(Exit.isFailure(exit))
      assert.match(String(Exit.isFailure(exit) ? Cause.squash(exit.cause) : ""), /^count: /)
      assert.isTrue(Exit.isFailure(SchemaErrors.decodeAll(faker.config)({ count: 0 })))
      assert.isTrue(Exit.isSuccess(SchemaErrors.decodeAll(faker.config)({ count: 3, seed: -7 })))
    }))

  it.effect("every record matches its stream's JSON Schema; every message the official schema", () =>
    Effect.gen(function*() {
      const catalog = yield* faker.discover({ count: 1 }, context())
      const ajv = new Ajv({ strict: false, allErrors: true })
      addFormatsModule.default(ajv)
      ajv.addVocabulary(["airbyte_type"])
      const validators = new Map(catalog.streams.map((s) => [s.name, ajv.compile(s.json_schema)]))
      const messages = yield* read({ count: 300, seed: 9 })
      for (const message of messages) assert.deepStrictEqual(Official.validateAirbyteMessage(message), [])
      for (const record of records(messages)) {
        const validate = validators.get(record.stream)!
        assert.isTrue(validate(record.data), JSON.stringify(validate.errors))
      }
      const user = records(messages, "users")[0]!.data
      const size = JSON.stringify(user).length
      assert.isTrue(size > 400 && size < 600, `a users record is ${size} bytes`)
      assert.match(user["api_token"] as string, /^[0-9a-f]{40}$/)
      for (const purchase of records(messages, "purchases")) {
        assert.isTrue((purchase.data["user_id"] as number) >= 1 && (purchase.data["user_id"] as number) <= 300)
        assert.isTrue((purchase.data["product_id"] as number) >= 1 && (purchase.data["product_id"] as number) <= 300)
      }
    }))

  it.effect("is deterministic for a seed and differs across seeds", () =>
    Effect.gen(function*() {
      const data = (messages: ReadonlyArray<M.AirbyteMessage>) => records(messages).map((r) => JSON.stringify(r.data))
      const a = data(yield* read({ count: 200, seed: 42 }))
      const b = data(yield* read({ count: 200, seed: 42 }))
      const c = data(yield* read({ count: 200, seed: 43 }))
      const d = data(yield* read({ count: 200 }))
      const e = data(yield* read({ count: 200, seed: 0 }))
      assert.deepStrictEqual(a, b)
      assert.notDeepEqual(a, c)
      assert.deepStrictEqual(d, e)
      // Record i of a stream does not depend on how many records are read.
      const products = yield* read({ count: 50, seed: 42 }, { catalog: configured("incremental", ["products"]) })
      assert.deepStrictEqual(data(products), data((yield* read({ count: 200, seed: 42 })).filter((m) => m.type === "RECORD" && m.record.stream === "products")).slice(0, 50))
    }))

  it.effect("emits the configured streams in catalog order, with statuses and a state every records_per_state", () =>
    Effect.gen(function*() {
      const messages = yield* read({ count: 2500, records_per_state: 1000 }, { catalog: configured("incremental", ["purchases", "users"]) })
      assert.deepStrictEqual(statuses(messages), ["purchases:STARTED", "purchases:COMPLETE", "users:STARTED", "users:COMPLETE"])
      assert.deepStrictEqual(ids(messages, "purchases"), range(1, 2500))
      assert.deepStrictEqual(ids(messages, "users"), range(1, 2500))
      assert.lengthOf(records(messages, "products"), 0)
      for (const stream of ["purchases", "users"]) {
        assert.deepStrictEqual(states(messages, stream).map((s) => s.sourceStats?.recordCount), [1000, 1000, 500])
      }
      // Each state's cursor is the updated_at of the record just before it; updated_at strictly increases.
      let previous = ""
      let last: M.AirbyteRecordMessage | undefined
      for (const message of messages) {
        if (message.type === "RECORD") {
          const updatedAt = message.record.data["updated_at"] as string
          if (last?.stream === message.record.stream) assert.isTrue(updatedAt > previous)
          previous = updatedAt
          last = message.record
        } else if (message.type === "STATE") {
          assert.strictEqual(message.state.type, "STREAM")
          assert.deepStrictEqual(message.state.stream?.stream_state, { updated_at: last?.data["updated_at"] })
        }
      }
    }))

  it.effect("recordCount sums to the records of each stream for any records_per_state", () =>
    Effect.gen(function*() {
      for (const perState of [1, 7, 100, 5000]) {
        const messages = yield* read({ count: 321, records_per_state: perState, seed: perState })
        for (const stream of ["users", "products", "purchases"]) {
          const counts = states(messages, stream).map((s) => s.sourceStats?.recordCount ?? 0)
          assert.strictEqual(counts.reduce((a, b) => a + b, 0), 321)
          assert.strictEqual(counts.length, Math.ceil(321 / perState))
        }
      }
    }))

  it.effect("resumes incrementally: nothing after the last state, exactly the remainder after a mid state", () =>
    Effect.gen(function*() {
      const config = { count: 2500, records_per_state: 1000, seed: 5 }
      const full = yield* read(config)
      const again = yield* read(config, { state: perStream(lastStates(full)) })
      assert.lengthOf(records(again), 0)
      // A stream that emits nothing still gets a state (its cursor unchanged) and its statuses.
      assert.deepStrictEqual(states(again).map((s) => s.sourceStats?.recordCount), [0, 0, 0])
      assert.deepStrictEqual(states(again).map((s) => s.stream?.stream_state), lastStates(full).map((s) => s.stream?.stream_state))
      assert.lengthOf(statuses(again), 6)

      const rest = yield* read(config, { state: perStream([states(full, "users")[0]!, states(full, "purchases")[1]!]) })
      assert.deepStrictEqual(ids(rest, "users"), range(1001, 2500))
      assert.deepStrictEqual(ids(rest, "products"), range(1, 2500))
      assert.deepStrictEqual(ids(rest, "purchases"), range(2001, 2500))
      assert.deepStrictEqual(records(rest, "users").map((r) => r.data), records(full, "users").slice(1000).map((r) => r.data))
      assert.deepStrictEqual(states(rest, "users").map((s) => s.sourceStats?.recordCount), [1000, 500])

      // A LEGACY blob { <stream>: { updated_at } } works too; full_refresh ignores state.
      const cursor = states(full, "users")[1]!.stream!.stream_state
      const legacy = yield* read(config, { state: { _tag: "Legacy", data: { users: cursor } }, catalog: configured("incremental", ["users"]) })
      assert.deepStrictEqual(ids(legacy, "users"), range(2001, 2500))
      const refresh = yield* read(config, { state: perStream(lastStates(full)), catalog: configured("full_refresh", ["users"]) })
      assert.deepStrictEqual(ids(refresh, "users"), range(1, 2500))
    }))

  it.effect("fail_until_attempt fails at the start while the attempt is below it", () =>
    Effect.gen(function*() {
      for (const attempt of [undefined, 0, 1]) {
        const { emitted, error } = yield* readFailing({ count: 10, fail_until_attempt: 2 }, attempt === undefined ? {} : { attempt })
        assert.strictEqual(error.failureType, "transient_error")
        assert.match(error.message, /injected test failure/)
        assert.lengthOf(records(emitted), 0)
      }
      assert.lengthOf(records(yield* read({ count: 10, fail_until_attempt: 2 }, { attempt: 2 })), 30)
    }))

  it.effect("fail_after_records fails after N records, having emitted the states due by then", () =>
    Effect.gen(function*() {
      const config = { count: 1000, records_per_state: 500, fail_after_records: 1500 }
      const { emitted, error } = yield* readFailing(config, { attempt: 7 })
      assert.strictEqual(error.failureType, "transient_error")
      assert.match(error.message, /injected test failure after 1500 records/)
      assert.deepStrictEqual([ids(emitted, "users").length, ids(emitted, "products").length], [1000, 500])
      assert.deepStrictEqual(states(emitted).map((s) => `${s.stream?.stream_descriptor.name}:${s.sourceStats?.recordCount}`), [
        "users:500",
        "users:500",
        "products:500"
      ])
      assert.deepStrictEqual(statuses(emitted), ["users:STARTED", "users:COMPLETE", "products:STARTED", "products:INCOMPLETE"])

      // Resuming from those states on a later attempt that no longer fails reads exactly the rest.
      const resumed = yield* read({ ...config, fail_until_attempt: 1 }, { state: perStream(lastStates(emitted)), attempt: 1 })
      assert.deepStrictEqual([ids(resumed, "users").length, ids(resumed, "products"), ids(resumed, "purchases").length], [
        0,
        range(501, 1000),
        1000
      ])

      // With fail_until_attempt the records knob applies only to failing attempts.
      const early = yield* readFailing({ count: 10, fail_until_attempt: 1, fail_after_records: 3 }, { attempt: 0 })
      assert.lengthOf(records(early.emitted), 3)
      assert.lengthOf(records(yield* read({ count: 10, fail_until_attempt: 1, fail_after_records: 3 }, { attempt: 1 })), 30)
      // Failing right after a stream's last record: its final state and COMPLETE come first.
      const boundary = yield* readFailing({ count: 10, records_per_state: 4, fail_after_records: 10 })
      assert.deepStrictEqual(states(boundary.emitted).map((s) => s.sourceStats?.recordCount), [4, 4, 2])
      assert.deepStrictEqual(statuses(boundary.emitted), ["users:STARTED", "users:COMPLETE"])
      // Alone, the records knob always fails; with fewer records than N, at the end.
      const short = yield* readFailing({ count: 10, fail_after_records: 100 })
      assert.lengthOf(records(short.emitted), 30)
      assert.strictEqual(states(short.emitted).length, 3)
    }))

  it.effect("an unknown stream or a bad cursor is a config_error", () =>
    Effect.gen(function*() {
      const unknown = yield* readFailing({ count: 1 }, { catalog: configured("incremental", ["users", "orders"]) })
      assert.strictEqual(unknown.error.failureType, "config_error")
      assert.match(unknown.error.message, /orders/)
      const badCursor = yield* readFailing({ count: 1 }, { state: { _tag: "Legacy", data: { users: { updated_at: "yesterday" } } } })
      assert.strictEqual(badCursor.error.failureType, "config_error")
    }))
})

// -------------------------------------------------------------------------------------------- process

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs the faker CLI; `slow` pauses its stdout now and then, so its writes wait on a full pipe. */
const run = (args: ReadonlyArray<string>, slow = false) =>
  Effect.promise(() =>
    new Promise<Run>((resolve, reject) => {
      const child = spawn(process.execPath, [sluice, "connector", "faker", ...args], { stdio: ["ignore", "pipe", "pipe"] })
      let stdout = ""
      let stderr = ""
      let chunks = 0
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        stdout += chunk
        if (slow && ++chunks % 50 === 0) {
          child.stdout.pause()
          setTimeout(() => child.stdout.resume(), 5)
        }
      })
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
      child.on("error", reject)
      child.on("close", (code) => resolve({ code, stdout, stderr }))
    })
  )

const parseLines = (text: string): Array<M.AirbyteMessage> => {
  Official.assertValidLines(text)
  return text.split("\n").filter((line) => line.length > 0).map((line) => JSON.parse(line) as M.AirbyteMessage)
}

const withTempDir = <A, E>(f: (dir: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.promise(() => mkdtemp(join(tmpdir(), "sluice-faker-"))),
    f,
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  )

describe("faker as a process", () => {
  it.effect("spec, check, discover, read, resume and an injected failure through the CLI", () =>
    withTempDir((dir) =>
      Effect.gen(function*() {
        const file = (name: string, value: unknown) =>
          Effect.promise(async () => {
            const path = join(dir, name)
            await writeFile(path, JSON.stringify(value))
            return path
          })

        const spec = yield* run(["spec"])
        assert.strictEqual(spec.code, 0)
        const specLines = parseLines(spec.stdout)
        assert.deepStrictEqual(specLines.map((m) => m.type), ["SPEC"])

        const bad = yield* run(["check", "--config", yield* file("bad.json", { count: "ten" })])
        assert.strictEqual(bad.code, 0)
        const [status] = parseLines(bad.stdout)
        assert.strictEqual(status?.type, "CONNECTION_STATUS")
        if (status?.type === "CONNECTION_STATUS") {
          assert.strictEqual(status.connectionStatus.status, "FAILED")
          assert.include(status.connectionStatus.message, "count")
        }

        const config = yield* file("config.json", { count: 1000, seed: 3 })
        const discovered = parseLines((yield* run(["discover", "--config", config])).stdout)
        const catalogMessage = discovered.find((m) => m.type === "CATALOG")
        assert.isDefined(catalogMessage)
        const catalog = {
          streams: catalogMessage?.type === "CATALOG"
            ? catalogMessage.catalog.streams.map((stream) => ({ stream, sync_mode: "incremental", destination_sync_mode: "append" }))
            : []
        }
        assert.deepStrictEqual(Official.validateConfiguredCatalog(catalog), [])
        const catalogPath = yield* file("catalog.json", catalog)

        const first = yield* run(["read", "--config", config, "--catalog", catalogPath])
        assert.strictEqual(first.code, 0, first.stderr)
        const messages = parseLines(first.stdout)
        for (const stream of ["users", "products", "purchases"]) assert.lengthOf(records(messages, stream), 1000)
        const statePath = yield* file("state.json", lastStates(messages))

        const second = yield* run(["read", "--config", config, "--catalog", catalogPath, "--state", statePath])
        assert.strictEqual(second.code, 0, second.stderr)
        const resumed = parseLines(second.stdout)
        assert.lengthOf(records(resumed), 0)
        assert.lengthOf(states(resumed), 3)

        const failing = yield* file("failing.json", { count: 1000, fail_after_records: 10 })
        const failed = yield* run(["read", "--config", failing, "--catalog", catalogPath])
        assert.strictEqual(failed.code, 1)
        const failedMessages = parseLines(failed.stdout)
        assert.lengthOf(records(failedMessages), 10)
        const last = failedMessages[failedMessages.length - 1]
        assert.strictEqual(last?.type === "TRACE" ? last.trace.error?.failure_type : undefined, "transient_error")

        // Many batches through a pipe read slowly: the writer reuses its buffers, and every record is
        // still the one faker generates for its index.
        const count = 15_000
        const big = yield* run(["read", "--config", yield* file("big.json", { count, seed: 9 }), "--catalog", catalogPath], true)
        assert.strictEqual(big.code, 0, big.stderr)
        const bigMessages = parseLines(big.stdout)
        for (const stream of FakerData.STREAMS) {
          const data = records(bigMessages, stream.name).map((r) => r.data)
          assert.lengthOf(data, count)
          data.forEach((d, i) => assert.deepStrictEqual(d, FakerData.generate(stream, 9, i, count), `${stream.name} #${i}`))
        }
      })
    ), 60_000)
})
