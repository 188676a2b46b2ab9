/**
 * The jsonl destination in process (line format, append vs overwrite, echo only after the data is on
 * disk, stats, big and multi-byte lines, file naming, errors and closing files) and as a real process
 * fed by a real `faker read`, every stdout line checked against the official Airbyte schema.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Stream } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { ConnectorError } from "../../../src/engine/kit/Connector.ts"
import type * as M from "../../../src/engine/protocol/AirbyteMessage.ts"
import { jsonl } from "../../../src/plugins/jsonl/JsonlDestination.ts"
import * as Official from "../../support/OfficialSchema.ts"

const sluice = fileURLToPath(new URL("../../../bin/sluice.js", import.meta.url))
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

const withTempDir = <A, E>(f: (dir: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.promise(() => mkdtemp(join(tmpdir(), "sluice-jsonl-"))),
    f,
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  )

const catalogOf = (
  streams: ReadonlyArray<{ readonly name: string; readonly namespace?: string; readonly mode?: M.DestinationSyncMode }>
): M.ConfiguredAirbyteCatalog => ({
  streams: streams.map(({ mode, name, namespace }) => ({
    stream: { name, ...(namespace === undefined ? {} : { namespace }), json_schema: {}, supported_sync_modes: ["full_refresh"] },
    sync_mode: "full_refresh",
    destination_sync_mode: mode ?? "append"
  }))
})

const record = (stream: string, id: number, extra: Partial<M.AirbyteRecordMessage> = {}): M.AirbyteMessage => ({
  type: "RECORD",
  record: { stream, data: { id }, emitted_at: 1_700_000_000_000 + id, ...extra }
})
const state = (stream: string, n: number): M.AirbyteMessage => ({
  type: "STATE",
  state: { type: "STREAM", stream: { stream_descriptor: { name: stream }, stream_state: { n } }, sourceStats: { recordCount: 2 }, id: n }
})

const write = (dir: string, catalog: M.ConfiguredAirbyteCatalog, messages: Stream.Stream<M.AirbyteMessage>) =>
  jsonl.write({ config: { path: dir }, catalog, messages, context: { jobId: undefined, attempt: undefined } })

const writeAll = (dir: string, catalog: M.ConfiguredAirbyteCatalog, messages: ReadonlyArray<M.AirbyteMessage>, chunkSize = 4) =>
  Stream.runCollect(write(dir, catalog, Stream.fromIterable(messages).pipe(Stream.rechunk(chunkSize))))

const linesOf = (path: string) =>
  Effect.promise(async () => (await readFile(path, "utf8")).split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, unknown>))

const dataIds = (lines: ReadonlyArray<Record<string, unknown>>) => lines.map((l) => (l["_sluice_data"] as Record<string, unknown>)["id"])

const failure = <A>(effect: Effect.Effect<A, ConnectorError>) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(effect)
    assert.isTrue(Exit.isFailure(exit), "expected a failure")
    const error = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
    assert.instanceOf(error, ConnectorError)
    return error as ConnectorError
  })

describe("jsonl in process", () => {
  it.effect("writes one wrapped line per record and echoes states with destinationStats", () =>
    withTempDir((dir) =>
      Effect.gen(function*() {
        const meta = { changes: [{ field: "id", change: "NULLED" as const, reason: "SOURCE_FIELD_SIZE_LIMITATION" as const }] }
        const echoes = yield* writeAll(dir, catalogOf([{ name: "users" }, { name: "orders", namespace: "shop" }]), [
          record("users", 1),
          record("orders", 1, { namespace: "shop" }),
          state("users", 1),
          { type: "TRACE", trace: { type: "STREAM_STATUS", emitted_at: 1, stream_status: { stream_descriptor: { name: "users" }, status: "COMPLETE" } } },
          record("users", 2, { meta }),
          state("users", 2),
          state("users", 3)
        ])
        assert.deepStrictEqual(echoes.map((m) => (m.type === "STATE" ? [m.state["id"], m.state.destinationStats?.recordCount] : m.type)), [
          [1, 2],
          [2, 1],
          [3, 0]
        ])
        for (const echo of echoes) {
          assert.deepStrictEqual(Official.validateAirbyteMessage(echo), [])
          assert.deepStrictEqual(echo.type === "STATE" ? echo.state.sourceStats : undefined, { recordCount: 2 })
        }
        assert.deepStrictEqual((yield* Effect.promise(() => readdir(dir))).sort(), ["shop.orders.jsonl", "users.jsonl"])
        const users = yield* linesOf(join(dir, "users.jsonl"))
        assert.deepStrictEqual(users.map((l) => Object.keys(l)), [0, 1].map(() => ["_sluice_raw_id", "_sluice_extracted_at", "_sluice_meta", "_sluice_data"]))
        assert.match(users[0]!["_sluice_raw_id"] as string, UUID_V4)
        assert.notStrictEqual(users[0]!["_sluice_raw_id"], users[1]!["_sluice_raw_id"])
        assert.deepStrictEqual(users.map((l) => [l["_sluice_extracted_at"], l["_sluice_meta"], l["_sluice_data"]]), [
          [1_700_000_000_001, { changes: [] }, { id: 1 }],
          [1_700_000_000_002, meta, { id: 2 }]
        ])
        assert.deepStrictEqual(dataIds(yield* linesOf(join(dir, "shop.orders.jsonl"))), [1])
      })
    ))

  it.effect("append adds to the file; overwrite truncates it when the write starts", () =>
    withTempDir((dir) =>
      Effect.gen(function*() {
        const twice = (mode: M.DestinationSyncMode) =>
          Effect.gen(function*() {
            const catalog = catalogOf([{ name: mode, mode }])
            yield* writeAll(dir, catalog, [record(mode, 1), record(mode, 2), state(mode, 1)])
            yield* writeAll(dir, catalog, [record(mode, 3), state(mode, 2)])
            const afterTwo = dataIds(yield* linesOf(join(dir, `${mode}.jsonl`)))
            yield* writeAll(dir, catalog, [])
            return [afterTwo, dataIds(yield* linesOf(join(dir, `${mode}.jsonl`)))]
          })
        assert.deepStrictEqual(yield* twice("append"), [[1, 2, 3], [1, 2, 3]])
        assert.deepStrictEqual(yield* twice("append_dedup"), [[1, 2, 3], [1, 2, 3]])
        assert.deepStrictEqual(yield* twice("overwrite"), [[3], []])
      })
    ))

  it.effect("echoes a state only once every record before it is on disk", () =>
    withTempDir((dir) =>
      Effect.gen(function*() {
        const streams = ["a", "b", "c"]
        const input: Array<M.AirbyteMessage> = []
        const expected: Array<Record<string, number>> = []
        const sent: Record<string, number> = { a: 0, b: 0, c: 0 }
        for (let i = 1; i <= 3000; i++) {
          const stream = streams[i % 3 === 0 ? 0 : i % 7 === 0 ? 1 : 2]!
          input.push(record(stream, ++sent[stream]!))
          if (i % 97 === 0) {
            input.push(state(stream, expected.length))
            expected.push({ ...sent })
          }
        }
        let checked = 0
        const echoes = write(dir, catalogOf(streams.map((name) => ({ name }))), Stream.fromIterable(input).pipe(Stream.rechunk(250)))
        yield* Stream.runForEach(echoes, (echo) =>
          Effect.sync(() => {
            // Read the files the moment the echo arrives: every record before the state is there.
            const n = echo.type === "STATE" ? echo.state["id"] as number : -1
            for (const stream of streams) {
              const ids = readFileSync(join(dir, `${stream}.jsonl`), "utf8").split("\n").filter((l) => l.length > 0)
                .map((l) => (JSON.parse(l) as { _sluice_data: { id: number } })._sluice_data.id)
              assert.isAtLeast(ids.length, expected[n]![stream]!)
              assert.deepStrictEqual(ids.slice(0, expected[n]![stream]!), Array.from({ length: expected[n]![stream]! }, (_, k) => k + 1))
            }
            assert.strictEqual(n, checked++)
          }))
        assert.strictEqual(checked, expected.length)
        for (const stream of streams) assert.lengthOf(yield* linesOf(join(dir, `${stream}.jsonl`)), sent[stream]!)
      })
    ))

  it.effect("keeps big and multi-byte lines intact across buffer flushes", () =>
    withTempDir((dir) =>
      Effect.gen(function*() {
        const text = "héllo wörld € 😀 ".repeat(60)
        const huge = "x".repeat(3 * 1024 * 1024)
        const input: Array<M.AirbyteMessage> = []
        for (let i = 1; i <= 3000; i++) input.push({ type: "RECORD", record: { stream: "s", data: { id: i, text }, emitted_at: i } })
        input.push({ type: "RECORD", record: { stream: "s", data: { id: 3001, huge }, emitted_at: 0 } })
        input.push({ type: "RECORD", record: { stream: "s", data: { id: 3002, text }, emitted_at: 0 } })
        // overwrite: successive writes of one file handle opened with 'w' must follow each other.
        yield* writeAll(dir, catalogOf([{ name: "s", mode: "overwrite" }]), input, 100)
        const lines = yield* linesOf(join(dir, "s.jsonl"))
        assert.deepStrictEqual(dataIds(lines), Array.from({ length: 3002 }, (_, k) => k + 1))
        assert.isTrue(lines.every((l, i) => (l["_sluice_data"] as Record<string, unknown>)[i === 3000 ? "huge" : "text"] === (i === 3000 ? huge : text)))
      })
    ))

  it.effect("keeps file names inside the directory and rejects clashes and unsupported modes", () =>
    withTempDir((dir) =>
      Effect.gen(function*() {
        const evil = catalogOf([{ name: "../../evil" }, { name: "x\u0000y/z", namespace: "../ns" }])
        yield* writeAll(dir, evil, [record("../../evil", 1), record("x\u0000y/z", 2, { namespace: "../ns" })])
        assert.deepStrictEqual(readdirSync(dir).sort(), [".._.._evil.jsonl", ".._ns.x_y_z.jsonl"])
        assert.isFalse(existsSync(join(dir, "..", "evil.jsonl")))

        const clash = yield* failure(Stream.runDrain(write(dir, catalogOf([{ name: "a/b" }, { name: "a_b" }]), Stream.empty)))
        assert.strictEqual(clash.failureType, "config_error")
        const mode = yield* failure(Stream.runDrain(write(dir, catalogOf([{ name: "s", mode: "soft_delete" }]), Stream.empty)))
        assert.match(mode.message, /soft_delete/)
      })
    ))

  it.effect("a record of a stream outside the catalog fails with config_error, closing the files", () =>
    withTempDir((dir) =>
      Effect.gen(function*() {
        const openFds = () => (existsSync("/proc/self/fd") ? readdirSync("/proc/self/fd").length : 0)
        const before = openFds()
        const error = yield* failure(Stream.runDrain(write(dir, catalogOf([{ name: "users" }, { name: "more" }]), Stream.make(record("users", 1), record("orders", 1)))))
        assert.strictEqual(error.failureType, "config_error")
        assert.include(error.message, "'orders'")
        assert.strictEqual(openFds(), before)
      })
    ))

  it.effect("check creates the directory, and fails for a path it cannot create", () =>
    withTempDir((dir) =>
      Effect.gen(function*() {
        const context = { jobId: undefined, attempt: undefined }
        assert.strictEqual((yield* jsonl.check({ path: join(dir, "new", "sub") }, context)).status, "SUCCEEDED")
        assert.isTrue(existsSync(join(dir, "new", "sub")))
        yield* Effect.promise(() => writeFile(join(dir, "file"), ""))
        const failed = yield* jsonl.check({ path: join(dir, "file", "sub") }, context)
        assert.strictEqual(failed.status, "FAILED")
      })
    ))
})

// -------------------------------------------------------------------------------------------- process

describe("jsonl as a process", () => {
  it.effect("faker read | jsonl write writes 3 files of 1000 lines and echoes the final states", () =>
    withTempDir((dir) =>
      Effect.gen(function*() {
        const out = join(dir, "out")
        const catalog = {
          streams: ["users", "products", "purchases"].map((name) => ({
            stream: { name, json_schema: {}, supported_sync_modes: ["full_refresh", "incremental"] },
            sync_mode: "incremental",
            destination_sync_mode: "overwrite"
          }))
        }
        yield* Effect.promise(() =>
          Promise.all([
            writeFile(join(dir, "source.json"), JSON.stringify({ count: 1000, records_per_state: 400 })),
            writeFile(join(dir, "destination.json"), JSON.stringify({ path: out })),
            writeFile(join(dir, "catalog.json"), JSON.stringify(catalog))
          ])
        )
        const result = yield* Effect.promise(() =>
          new Promise<{ readonly codes: ReadonlyArray<number | null>; readonly stdout: string; readonly stderr: string }>((resolve, reject) => {
            const args = (id: string, command: string, config: string) =>
              [sluice, "connector", id, command, "--config", join(dir, config), "--catalog", join(dir, "catalog.json")]
            const source = spawn(process.execPath, args("faker", "read", "source.json"), { stdio: ["ignore", "pipe", "pipe"] })
            const destination = spawn(process.execPath, args("jsonl", "write", "destination.json"), { stdio: ["pipe", "pipe", "pipe"] })
            source.stdout.pipe(destination.stdin)
            let stdout = ""
            let stderr = ""
            destination.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
            for (const child of [source, destination]) child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
            const exited = (child: ChildProcess) =>
              new Promise<number | null>((done) => child.on("close", (code) => done(code)))
            source.on("error", reject)
            destination.on("error", reject)
            Promise.all([exited(source), exited(destination)]).then((codes) => resolve({ codes, stdout, stderr }), reject)
          })
        )
        assert.deepStrictEqual(result.codes, [0, 0], result.stderr)
        Official.assertValidLines(result.stdout)
        const echoes = result.stdout.split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l) as M.AirbyteMessage)
        assert.isTrue(echoes.every((m) => m.type === "STATE"))
        assert.lengthOf(echoes, 9)
        const finals = new Map<string, M.AirbyteStateMessage>()
        for (const echo of echoes) if (echo.type === "STATE") finals.set(echo.state.stream!.stream_descriptor.name, echo.state)
        for (const stream of ["users", "products", "purchases"]) {
          const lines = yield* linesOf(join(out, `${stream}.jsonl`))
          assert.lengthOf(lines, 1000)
          const final = finals.get(stream)!
          assert.deepStrictEqual(final.stream?.stream_state, { updated_at: (lines[999]!["_sluice_data"] as Record<string, unknown>)["updated_at"] })
          assert.deepStrictEqual([final.sourceStats?.recordCount, final.destinationStats?.recordCount], [200, 200])
        }
      })
    ))
})
