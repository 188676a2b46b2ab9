/**
 * End-to-end tests of the connector kit's socket mode with real processes (`bin/sluice.js connector …`
 * under the three DATA_CHANNEL_* variables), compared with the classic stdio pipe; plus the parsing
 * of that environment.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import * as net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { ConnectorError } from "../../../src/engine/kit/Connector.ts"
import * as DataChannel from "../../../src/engine/kit/DataChannel.ts"
import type * as M from "../../../src/engine/protocol/AirbyteMessage.ts"
import * as Jsonl from "../../../src/engine/protocol/Jsonl.ts"
import { catalog as fakerCatalog } from "../../../src/plugins/faker/Faker.ts"

const sluice = fileURLToPath(new URL("../../../bin/sluice.js", import.meta.url))

// ------------------------------------------------------------------------------------- ENVIRONMENT

describe("DataChannel.fromEnv", () => {
  it("reads Airbyte's variables; MEDIUM unset or STDIO is the classic protocol", () => {
    assert.deepStrictEqual(DataChannel.fromEnv({}), { _tag: "Stdio" })
    assert.deepStrictEqual(DataChannel.fromEnv({ DATA_CHANNEL_MEDIUM: "STDIO", DATA_CHANNEL_FORMAT: "PROTOBUF" }), { _tag: "Stdio" })
    assert.deepStrictEqual(
      DataChannel.fromEnv({
        DATA_CHANNEL_MEDIUM: "SOCKET",
        DATA_CHANNEL_FORMAT: "protobuf",
        DATA_CHANNEL_SOCKET_PATHS: "/s/1.sock, /s/2.sock,",
        SLUICE_SOCKET_CONNECT_TIMEOUT_MS: "1500"
      }),
      { _tag: "Socket", format: "PROTOBUF", paths: ["/s/1.sock", "/s/2.sock"], connectTimeoutMs: 1500, probeIntervalMs: 10_000 }
    )
  })

  it("explains what is wrong", () => {
    const message = (env: NodeJS.ProcessEnv) => {
      const result = DataChannel.fromEnv(env)
      return result instanceof ConnectorError ? result.message : "no error"
    }
    const socket = { DATA_CHANNEL_MEDIUM: "SOCKET", DATA_CHANNEL_FORMAT: "JSONL", DATA_CHANNEL_SOCKET_PATHS: "/a.sock" }
    assert.include(message({ DATA_CHANNEL_MEDIUM: "PIGEON" }), "DATA_CHANNEL_MEDIUM must be SOCKET or STDIO, got 'PIGEON'")
    assert.include(message({ ...socket, DATA_CHANNEL_SOCKET_PATHS: " , " }), "needs DATA_CHANNEL_SOCKET_PATHS")
    assert.include(message({ ...socket, DATA_CHANNEL_SOCKET_PATHS: undefined }), "needs DATA_CHANNEL_SOCKET_PATHS")
    assert.include(message({ ...socket, DATA_CHANNEL_FORMAT: "AVRO" }), "DATA_CHANNEL_FORMAT must be PROTOBUF, JSONL or SLUICE_PROTOBUF, got 'AVRO'")
    assert.include(message({ ...socket, DATA_CHANNEL_FORMAT: undefined }), "needs DATA_CHANNEL_FORMAT")
    assert.include(message({ ...socket, DATA_CHANNEL_SOCKET_PATHS: "/a.sock,/a.sock" }), "lists /a.sock twice")
    assert.include(message({ ...socket, SLUICE_SOCKET_CONNECT_TIMEOUT_MS: "soon" }), "must be a positive integer of milliseconds")
  })
})

// --------------------------------------------------------------------------------------- PROCESSES

interface Done {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** The parent's environment without any data-channel variable. */
const baseEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("DATA_CHANNEL_") && !k.startsWith("SLUICE_SOCKET_")))

const start = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv): { child: ChildProcess; done: Promise<Done> } => {
  const child = spawn(process.execPath, [sluice, "connector", ...args], { env, stdio: ["pipe", "pipe", "pipe"] })
  const out: Array<Buffer> = []
  const err: Array<Buffer> = []
  child.stdout!.on("data", (c: Buffer) => out.push(c))
  child.stderr!.on("data", (c: Buffer) => err.push(c))
  const done = new Promise<Done>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }))
  )
  return { child, done }
}

const messagesOf = (stdout: string): Array<M.AirbyteMessage> =>
  stdout.split("\n").flatMap((line, i) => {
    const decoded = Jsonl.decodeLine(line, i + 1)
    return decoded._tag === "Message" ? [decoded.message] : []
  })
const statesOf = (stdout: string) => messagesOf(stdout).flatMap((m) => (m.type === "STATE" ? [m.state] : []))
const traceError = (stdout: string) => {
  const [error] = messagesOf(stdout).flatMap((m) => (m.type === "TRACE" && m.trace.error !== undefined ? [m.trace.error] : []))
  assert.isDefined(error, `a TRACE ERROR on stdout:\n${stdout}`)
  return error!
}

let dir = ""
const file = (name: string) => join(dir, name)
const FAKER = { count: 1500, seed: 11, records_per_state: 200 }
/** Enough records (≈ 40 MB) that the source outruns the jsonl destination and waits on full sockets. */
const LARGE = { count: 25_000, seed: 5, records_per_state: 4000 }

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sluice-sock-"))
  await chmod(dir, 0o700)
  const configured = { streams: fakerCatalog.streams.map((stream) => ({ stream, sync_mode: "incremental", destination_sync_mode: "append" })) }
  await writeFile(file("catalog.json"), JSON.stringify(configured))
  await writeFile(file("faker.json"), JSON.stringify(FAKER))
  await writeFile(file("faker-large.json"), JSON.stringify(LARGE))
  await writeFile(file("empty.json"), "{}")
})
afterAll(() => rm(dir, { recursive: true, force: true }))

let runs = 0
const jsonlConfig = async () => {
  const out = file(`out-${++runs}`)
  await writeFile(`${out}.json`, JSON.stringify({ path: out }))
  return { out, config: `${out}.json` }
}

const readArgs = (config = "faker.json") => ["faker", "read", "--config", file(config), "--catalog", file("catalog.json")]
const writeArgs = (id: string, config: string) => [id, "write", "--config", config, "--catalog", file("catalog.json")]

let channels = 0
const socketEnv = (format: string, sockets: number, timeoutMs = 20_000) => ({
  ...baseEnv(),
  DATA_CHANNEL_MEDIUM: "SOCKET",
  DATA_CHANNEL_FORMAT: format,
  DATA_CHANNEL_SOCKET_PATHS: Array.from({ length: sockets }, (_, i) => file(`c${++channels}-${i}.sock`)).join(","),
  SLUICE_SOCKET_CONNECT_TIMEOUT_MS: String(timeoutMs)
})

/** The classic pipe: the source's stdout is the destination's stdin. */
const stdioRun = async (destination: string, config: string, env: NodeJS.ProcessEnv = baseEnv(), sourceConfig?: string) => {
  const source = start(readArgs(sourceConfig), env)
  const target = start(writeArgs(destination, config), env)
  source.child.stdout!.pipe(target.child.stdin!)
  const [src, dst] = await Promise.all([source.done, target.done])
  return { src, dst }
}

/** Socket mode: the data goes through the sockets; the destination's stdin is closed at once, or never written. */
const socketRun = async (
  destination: string,
  config: string,
  env: NodeJS.ProcessEnv,
  stdin: "closed" | "silent" = "closed",
  sourceConfig?: string
) => {
  const target = start(writeArgs(destination, config), env)
  if (stdin === "closed") target.child.stdin!.end()
  const source = start(readArgs(sourceConfig), env)
  source.child.stdin!.end()
  const [src, dst] = await Promise.all([source.done, target.done])
  target.child.stdin!.destroy()
  return { src, dst }
}

/** Sorted keys, and timestamps as instants (PROTOBUF re-formats `.680Z` as `.68Z`). */
const canonical = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(canonical)
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]))
  }
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(value)) return new Date(value).toISOString()
  return value
}

/** Per file, the sorted canonical `_sluice_data` of every line. */
const dataOf = async (out: string) => {
  const result: Record<string, Array<string>> = {}
  for (const name of (await readdir(out)).sort()) {
    const lines = (await readFile(join(out, name), "utf8")).split("\n").filter((l) => l.length > 0)
    result[name] = lines.map((l) => JSON.stringify(canonical((JSON.parse(l) as { readonly _sluice_data: unknown })._sluice_data))).sort()
  }
  return result
}

let baseline: Promise<Record<string, Array<string>>> | undefined
const stdioData = () =>
  (baseline ??= (async () => {
    const { out, config } = await jsonlConfig()
    const { src, dst } = await stdioRun("jsonl", config)
    assert.strictEqual(src.code, 0, src.stderr)
    assert.strictEqual(dst.code, 0, dst.stderr)
    return dataOf(out)
  })())

/** The bookkeeper's view: both sides' states, checked against each other. */
const checkStates = (src: Done, dst: Done, records: number) => {
  assert.isFalse(messagesOf(src.stdout).some((m) => m.type === "RECORD"), "no record on the source's stdout")
  const sent = statesOf(src.stdout)
  const acked = statesOf(dst.stdout)
  assert.deepStrictEqual(sent.map((s) => s["id"]), sent.map((_, i) => i + 1))
  assert.deepStrictEqual(acked.map((s) => s["id"]), sent.map((_, i) => i + 1), "destination echoes every state in id order")
  for (const [i, s] of acked.entries()) {
    assert.strictEqual(s["partition_id"], sent[i]!["partition_id"])
    assert.strictEqual(s.destinationStats?.recordCount, sent[i]!.sourceStats?.recordCount)
    assert.isNumber(s["committedRecordsCount"])
  }
  assert.strictEqual(sent.reduce((n, s) => n + (s.sourceStats?.recordCount ?? 0), 0), records)
}

describe("socket mode, end to end", () => {
  for (const format of ["SLUICE_PROTOBUF", "PROTOBUF", "JSONL"] as const) {
    for (const sockets of [1, 4]) {
      it.live(`faker → jsonl over ${sockets} ${format} socket(s) writes what stdio writes`, () =>
        Effect.promise(async () => {
          const expected = await stdioData()
          const { out, config } = await jsonlConfig()
          const { src, dst } = await socketRun("jsonl", config, socketEnv(format, sockets))
          assert.strictEqual(src.code, 0, src.stderr)
          assert.strictEqual(dst.code, 0, dst.stderr)
          assert.deepStrictEqual(await dataOf(out), expected)
          checkStates(src, dst, 3 * FAKER.count)
          assert.deepStrictEqual((await readdir(dir)).filter((f) => f.endsWith(".sock")), [], "socket files are removed")
        }))
    }
  }

  it.live("with the source ahead of the destination, its reused buffers still deliver exactly what stdio does", () =>
    Effect.promise(async () => {
      const stdio = await jsonlConfig()
      const viaStdio = await stdioRun("jsonl", stdio.config, baseEnv(), "faker-large.json")
      assert.strictEqual(viaStdio.dst.code, 0, viaStdio.dst.stderr)
      const socket = await jsonlConfig()
      const { src, dst } = await socketRun("jsonl", socket.config, socketEnv("JSONL", 2), "closed", "faker-large.json")
      assert.strictEqual(src.code, 0, src.stderr)
      assert.strictEqual(dst.code, 0, dst.stderr)
      assert.deepStrictEqual(await dataOf(socket.out), await dataOf(stdio.out))
      checkStates(src, dst, 3 * LARGE.count)
    }), 60_000)

  it.live("faker → dev-null over 2 PROTOBUF sockets, with a stdin that stays open and silent", () =>
    Effect.promise(async () => {
      const { src, dst } = await socketRun("dev-null", file("empty.json"), socketEnv("PROTOBUF", 2), "silent")
      assert.strictEqual(src.code, 0, src.stderr)
      assert.strictEqual(dst.code, 0, dst.stderr)
      checkStates(src, dst, 3 * FAKER.count)
    }))

  it.live("MEDIUM=STDIO keeps the classic protocol, whatever the format says", () =>
    Effect.promise(async () => {
      const expected = await stdioData()
      const { out, config } = await jsonlConfig()
      const env = { ...baseEnv(), DATA_CHANNEL_MEDIUM: "STDIO", DATA_CHANNEL_FORMAT: "PROTOBUF" }
      const { src, dst } = await stdioRun("jsonl", config, env)
      assert.strictEqual(dst.code, 0, dst.stderr)
      assert.strictEqual(messagesOf(src.stdout).filter((m) => m.type === "RECORD").length, 3 * FAKER.count)
      assert.deepStrictEqual(await dataOf(out), expected)
    }))

  it.live("a source that lies about recordCount makes the destination fail with a count mismatch", () =>
    Effect.promise(async () => {
      const { config } = await jsonlConfig()
      const env = socketEnv("JSONL", 1)
      const path = env.DATA_CHANNEL_SOCKET_PATHS
      const record = (n: number) => ({ type: "RECORD", record: { stream: "users", data: { id: n }, emitted_at: 1, partition_id: "liar" } })
      const state = {
        type: "STATE",
        state: { type: "STREAM", stream: { stream_descriptor: { name: "users" } }, sourceStats: { recordCount: 5 }, partition_id: "liar", id: 1 }
      }
      const server = net.createServer((socket) => socket.end(Jsonl.encodeBatch([record(1), record(2), record(3), state])))
      await new Promise<void>((resolve) => server.listen(path, resolve))
      const target = start(writeArgs("jsonl", config), env)
      const dst = await target.done
      server.close()
      assert.strictEqual(dst.code, 1)
      const error = traceError(dst.stdout)
      assert.strictEqual(error.failure_type, "system_error")
      assert.include(error.message, "count mismatch for partition liar: expected 5 records, received 3")
      assert.deepStrictEqual(statesOf(dst.stdout), [], "the state is never acknowledged")
    }))

  it.live("a destination that cannot connect fails after the timeout, naming the sockets", () =>
    Effect.promise(async () => {
      const env = socketEnv("PROTOBUF", 2, 300)
      const target = start(writeArgs("dev-null", file("empty.json")), env)
      const dst = await target.done
      assert.strictEqual(dst.code, 1)
      const message = traceError(dst.stdout).message
      assert.include(message, "could not connect to 2 of 2 sockets within 300 ms")
      for (const path of env.DATA_CHANNEL_SOCKET_PATHS.split(",")) assert.include(message, `${path} (ENOENT)`)
    }))

  it.live("a source nobody connects to fails after the timeout; a bad environment fails read but not spec", () =>
    Effect.promise(async () => {
      const env = socketEnv("JSONL", 1, 300)
      const src = await start(readArgs(), env).done
      assert.strictEqual(src.code, 1)
      assert.include(traceError(src.stdout).message, `did not connect to 1 of 1 sockets within 300 ms: ${env.DATA_CHANNEL_SOCKET_PATHS}`)
      const bad = { ...baseEnv(), DATA_CHANNEL_MEDIUM: "SOCKET", DATA_CHANNEL_FORMAT: "JSONL" }
      const read = await start(readArgs(), bad).done
      assert.strictEqual(read.code, 1)
      assert.include(traceError(read.stdout).message, "needs DATA_CHANNEL_SOCKET_PATHS")
      const spec = await start(["faker", "spec"], bad).done
      assert.strictEqual(spec.code, 0)
    }))
})
