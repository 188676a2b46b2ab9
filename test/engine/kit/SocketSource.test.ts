/**
 * Tests of the source side of socket mode: the pure partition/state router, and `serve` over real Unix
 * sockets in process (waiting for connections, backpressure from a slow socket, probes, timeouts).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Stream } from "effect"
import { mkdtemp, rm } from "node:fs/promises"
import * as net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ConnectorError } from "../../../src/engine/kit/Connector.ts"
import type { SocketChannel } from "../../../src/engine/kit/DataChannel.ts"
import * as SocketSource from "../../../src/engine/kit/SocketSource.ts"
import type * as M from "../../../src/engine/protocol/AirbyteMessage.ts"
import * as Jsonl from "../../../src/engine/protocol/Jsonl.ts"
import * as Protobuf from "../../../src/engine/protocol/Protobuf.ts"
import { fieldKey, JsonLinesWriter } from "../../../src/engine/kit/RecordWriter.ts"
import type { SourceMessage } from "../../../src/engine/protocol/RecordLines.ts"

const record = (stream: string, n: number, namespace?: string): M.AirbyteMessage => ({
  type: "RECORD",
  record: { stream, data: { n }, emitted_at: 1, ...(namespace === undefined ? {} : { namespace }) }
})
const streamState = (stream: string, recordCount = 999, namespace?: string): M.AirbyteMessage => ({
  type: "STATE",
  state: {
    type: "STREAM",
    stream: { stream_descriptor: { name: stream, ...(namespace === undefined ? {} : { namespace }) }, stream_state: { at: stream } },
    sourceStats: { recordCount }
  }
})
const globalState: M.AirbyteMessage = {
  type: "STATE",
  state: { type: "GLOBAL", global: { shared_state: { lsn: 7 }, stream_states: [] } }
}
const log: M.AirbyteMessage = { type: "LOG", log: { level: "INFO", message: "hello" } }

type Json = Record<string, unknown>
const lines = (bytes: Uint8Array | undefined): Array<Json> =>
  bytes === undefined ? [] : new TextDecoder().decode(bytes).split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l) as Json)
const payload = (message: Json, key: "record" | "state") => message[key] as Json

const counter = () => {
  let n = 0
  return () => `p${++n}`
}

const jsonlRouter = (sockets: number) => SocketSource.makeRouter({ sockets, encode: Jsonl.encodeBatch, partitionId: counter() })

const routeOk = (router: SocketSource.Router, batch: ReadonlyArray<M.AirbyteMessage>) => {
  const routed = router.route(batch)
  if (routed instanceof ConnectorError) throw routed
  return routed
}

describe("SocketSource.makeRouter", () => {
  it("routes records a source wrote as JSON lines exactly like the same records as objects, in every format", () => {
    const data = (n: number) => ({ n, name: `r${n} "é"` })
    const asObject = (stream: string, n: number, namespace?: string): M.AirbyteMessage => ({
      type: "RECORD",
      record: { stream, ...(namespace === undefined ? {} : { namespace }), data: data(n), emitted_at: 1 }
    })
    const asLines = (stream: string, from: number, to: number, namespace?: string): SourceMessage => {
      const w = new JsonLinesWriter(stream, namespace)
      for (let n = from; n < to; n++) {
        w.begin()
        w.int(fieldKey("n"), n)
        w.string(fieldKey("name"), `r${n} "é"`)
        w.end(1)
      }
      return w.take()!
    }
    const objects: Array<M.AirbyteMessage> = [
      asObject("a", 0), asObject("a", 1), asObject("b", 0, "ns"), streamState("a", 2), asObject("a", 2), asObject("b", 1, "ns"), globalState
    ]
    const written: Array<SourceMessage> = [asLines("a", 0, 2), asLines("b", 0, 1, "ns"), streamState("a", 2), asLines("a", 2, 3), asLines("b", 1, 2, "ns"), globalState]
    const stream = (name: string, namespace?: string): M.ConfiguredAirbyteStream => ({
      stream: { name, ...(namespace === undefined ? {} : { namespace }), json_schema: { type: "object", properties: { n: { type: "integer" }, name: { type: "string" } } }, supported_sync_modes: ["full_refresh"] },
      sync_mode: "full_refresh",
      destination_sync_mode: "append"
    })
    const catalog: M.ConfiguredAirbyteCatalog = { streams: [stream("a"), stream("b", "ns")] }
    for (const format of ["JSONL", "PROTOBUF", "SLUICE_PROTOBUF"] as const) {
      const route = (batch: ReadonlyArray<SourceMessage>) => {
        const router = SocketSource.makeRouter({ sockets: 2, encode: SocketSource.encoderFor(format, catalog), partitionId: counter() })
        const routed = router.route(batch)
        if (routed instanceof ConnectorError) throw routed
        return routed
      }
      const fromObjects = route(objects)
      const fromLines = route(written)
      assert.deepStrictEqual(fromLines.stdout, fromObjects.stdout, format)
      assert.deepStrictEqual(fromLines.sockets.map((b) => b === undefined ? undefined : Buffer.from(b).toString("hex")), fromObjects.sockets.map((b) => b === undefined ? undefined : Buffer.from(b).toString("hex")), format)
    }
  })

  it("tags records with their stream's partition, closes it with the stream's state on the same socket, and dual-emits", () => {
    const router = jsonlRouter(2)
    const routed = routeOk(router, [log, record("a", 1), record("b", 1), record("a", 2), streamState("a", 999), record("a", 3)])
    const s0 = lines(routed.sockets[0])
    const s1 = lines(routed.sockets[1])
    // a → p1 on socket 0, b → p2 on socket 1, a's next partition p3 on socket 0 again.
    assert.deepStrictEqual(s0.map((m) => [m["type"], payload(m, m["type"] === "RECORD" ? "record" : "state")["partition_id"]]), [
      ["RECORD", "p1"],
      ["RECORD", "p1"],
      ["STATE", "p1"],
      ["RECORD", "p3"]
    ])
    assert.deepStrictEqual(s1.map((m) => payload(m, "record")["partition_id"]), ["p2"])
    const state = payload(s0[2]!, "state")
    assert.strictEqual(state["id"], 1)
    assert.deepStrictEqual(state["sourceStats"], { recordCount: 2 })
    const recordBytes = Jsonl.encodeBatch(s0.slice(0, 2) as unknown as Array<M.AirbyteMessage>).length
    assert.strictEqual(state["sluice_bytes"], recordBytes)
    assert.deepStrictEqual(routed.stdout.map((m) => m.type), ["LOG", "STATE"])
    assert.deepStrictEqual(routed.stdout[1], s0[2] as unknown as M.AirbyteMessage)
  })

  it("counts a partition across batches and gives a stream without records a fresh, empty partition", () => {
    const router = jsonlRouter(3)
    const first = routeOk(router, [record("a", 1), record("a", 2)])
    const second = routeOk(router, [record("a", 3), streamState("a"), streamState("b"), streamState("a")])
    const bytes = first.sockets[0]!.length + Jsonl.encodeBatch(lines(second.sockets[0]).slice(0, 1) as unknown as Array<M.AirbyteMessage>).length
    const states = second.stdout.map((m) => (m.type === "STATE" ? m.state : undefined))
    assert.deepStrictEqual(states.map((s) => [s?.["partition_id"], s?.["id"], s?.sourceStats?.recordCount]), [["p1", 1, 3], ["p2", 2, 0], ["p3", 3, 0]])
    assert.strictEqual(states[0]?.["sluice_bytes"], bytes)
    assert.strictEqual(states[1]?.["sluice_bytes"], 0)
    // The empty partitions take the next sockets round-robin.
    assert.deepStrictEqual([lines(second.sockets[1]).length, lines(second.sockets[2]).length], [1, 1])
  })

  it("a GLOBAL state closes every partition and lists them with per-stream counts", () => {
    const router = jsonlRouter(2)
    routeOk(router, [record("a", 1), record("b", 1), record("b", 2), record("c", 1, "ns"), streamState("c", 1, "ns")])
    const routed = routeOk(router, [record("c", 2, "ns"), globalState, record("a", 2)])
    const state = routed.stdout.find((m) => m.type === "STATE")
    assert.isDefined(state)
    const s = state!.type === "STATE" ? state!.state : {}
    assert.strictEqual(s["id"], 2)
    assert.strictEqual(s["partition_id"], "p5")
    assert.deepStrictEqual(s.sourceStats, { recordCount: 4 })
    assert.deepStrictEqual(s["sluice_partitions"], { p1: 1, p2: 2, p4: 1 })
    const streams = (s["sluice_stream_counts"] as Array<Json>).map(({ bytes: _bytes, ...rest }) => rest)
    assert.deepStrictEqual(streams, [{ name: "a", count: 1 }, { name: "b", count: 2 }, { name: "c", namespace: "ns", count: 1 }])
    // After the GLOBAL state, the next record opens a new partition.
    const after = [...lines(routed.sockets[0]), ...lines(routed.sockets[1])].filter((m) => m["type"] === "RECORD").map((m) => payload(m, "record"))
    assert.deepStrictEqual(after.map((r) => [r["stream"], r["partition_id"]]), [["c", "p4"], ["a", "p6"]])
  })

  it("PROTOBUF: records carry partition_id in their frame, states travel as protocol JSON", () => {
    const catalog: M.ConfiguredAirbyteCatalog = {
      streams: [{
        stream: { name: "a", json_schema: { type: "object", properties: { n: { type: "integer" } } }, supported_sync_modes: ["full_refresh"] },
        sync_mode: "full_refresh",
        destination_sync_mode: "append"
      }]
    }
    const router = SocketSource.makeRouter({ sockets: 1, encode: SocketSource.encoderFor("PROTOBUF", catalog), partitionId: counter() })
    const routed = routeOk(router, [record("a", 1), record("a", 2), streamState("a")])
    const decoder = Protobuf.makeFrameDecoder({ catalog })
    const out: Array<M.AirbyteMessage> = []
    assert.isUndefined(decoder.push(routed.sockets[0]!, out))
    assert.deepStrictEqual(out.map((m) => (m.type === "RECORD" ? m.record["partition_id"] : m.type === "STATE" ? m.state["id"] : m.type)), ["p1", "p1", 1])
    const unknown = router.route([record("zzz", 1)])
    assert.instanceOf(unknown, ConnectorError)
    assert.include((unknown as ConnectorError).message, "zzz")
  })

  it("random partition ids are alphanumeric and distinct", () => {
    const ids = new Set(Array.from({ length: 1000 }, SocketSource.randomPartitionId))
    assert.strictEqual(ids.size, 1000)
    for (const id of ids) assert.match(id, /^[A-Za-z0-9]{20}$/)
  })
})

// ------------------------------------------------------------------------------------ REAL SOCKETS

const withDir = <A, E>(f: (dir: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.promise(() => mkdtemp(join(tmpdir(), "sluice-src-"))),
    f,
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  )

const channelOf = (paths: SocketChannel["paths"], extra: Partial<SocketChannel> = {}): SocketChannel => ({
  _tag: "Socket",
  format: "JSONL",
  paths,
  connectTimeoutMs: 5000,
  probeIntervalMs: 10_000,
  ...extra
})

const catalog: M.ConfiguredAirbyteCatalog = { streams: [] }

/** Connects (retrying until the source listens) and collects everything; `paused` reads nothing until resumed. */
const client = (path: string, paused = false) => {
  const chunks: Array<Buffer> = []
  let socket: net.Socket | undefined
  const ended = new Promise<void>((resolve, reject) => {
    const attempt = () => {
      const s = net.createConnection({ path })
      s.once("error", (error: NodeJS.ErrnoException) => {
        if (socket === undefined && (error.code === "ENOENT" || error.code === "ECONNREFUSED")) setTimeout(attempt, 10)
        else reject(error)
      })
      s.once("connect", () => {
        socket = s
        if (paused) s.pause()
        s.on("data", (chunk: Buffer) => chunks.push(chunk))
        s.on("end", () => resolve())
      })
    }
    attempt()
  })
  return {
    ended,
    resume: () => socket?.resume(),
    bytes: () => chunks.reduce((n, c) => n + c.length, 0),
    text: () => Buffer.concat(chunks).toString("utf8")
  }
}

describe("SocketSource.serve", () => {
  it.live("waits for every socket, then sends records there and states both there and to the output", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        const paths = [join(dir, "a.sock"), join(dir, "b.sock")] as const
        const clients = paths.map((p) => client(p))
        const messages = Stream.fromIterable([record("a", 1), record("b", 1), streamState("a"), log, streamState("b")])
        const out = yield* Stream.runCollect(SocketSource.serve(channelOf(paths), catalog)(messages))
        yield* Effect.promise(() => Promise.all(clients.map((c) => c.ended)))
        assert.deepStrictEqual(out.map((m) => m.type), ["STATE", "LOG", "STATE"])
        const received = clients.map((c) => lines(new TextEncoder().encode(c.text())).map((m) => m["type"]))
        assert.deepStrictEqual(received, [["RECORD", "STATE"], ["RECORD", "STATE"]])
      })))

  it.live("a slow socket holds the producer back instead of buffering", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        const path = join(dir, "slow.sock")
        const slow = client(path, true)
        let pulled = 0
        const big = "x".repeat(1000)
        const messages = Stream.range(1, 50_000).pipe(
          Stream.map((n): M.AirbyteMessage => ({ type: "RECORD", record: { stream: "a", data: { n, big }, emitted_at: 1 } })),
          Stream.rechunk(500),
          Stream.mapArray((batch) => {
            pulled += batch.length
            return batch
          })
        )
        const fiber = yield* Effect.forkChild(Stream.runDrain(SocketSource.serve(channelOf([path]), catalog)(messages)))
        yield* Effect.sleep("500 millis")
        // 50 MB would be produced without backpressure; only a few batches (~0.5 MB each) may be in flight.
        assert.isBelow(pulled, 10_000)
        slow.resume()
        yield* Effect.promise(() => slow.ended)
        const exit = yield* Effect.exit(Fiber.join(fiber))
        assert.isTrue(Exit.isSuccess(exit))
        assert.strictEqual(pulled, 50_000)
        assert.strictEqual(slow.text().split("\n").length - 1, 50_000)
      })))

  it.live("waiting for room does not miss a drain emitted before the wait began", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        // The writer saw a full buffer, then yielded; the buffer drained (and `drain` fired) before it
        // registered its wait. Waiting for a second `drain` would hang the source.
        const path = join(dir, "race.sock")
        const server = net.createServer()
        const accepted = new Promise<net.Socket>((resolve) => server.once("connection", resolve))
        yield* Effect.promise(() => new Promise<void>((resolve) => server.listen(path, resolve)))
        const reader = net.createConnection({ path }).pause()
        yield* Effect.promise(() => new Promise((resolve) => reader.once("connect", resolve)))
        const outlet = SocketSource.outletOf(path, yield* Effect.promise(() => accepted))
        server.close()
        reader.on("data", () => undefined)
        while (outlet.socket.write(new Uint8Array(64 * 1024))) {}
        assert.isTrue(outlet.socket.writableNeedDrain)
        const drained = new Promise<void>((resolve) => outlet.socket.once("drain", () => resolve()))
        reader.resume()
        yield* Effect.promise(() => drained)
        reader.destroy()
        assert.isFalse(outlet.socket.writableNeedDrain)
        const waited = yield* Effect.exit(SocketSource.awaitDrain(outlet).pipe(Effect.timeout("2 seconds")))
        assert.isTrue(Exit.isSuccess(waited), "returns at once: the buffer has room")
        outlet.socket.destroy()
        const closed = yield* Effect.exit(SocketSource.awaitDrain(outlet).pipe(Effect.timeout("2 seconds")))
        assert.isTrue(Exit.isFailure(closed) && String(closed.cause).includes("closed the connection"), String(closed))
      })))

  it.live("probes idle sockets", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        const path = join(dir, "idle.sock")
        const c = client(path)
        const messages = Stream.concat(Stream.fromEffectDrain(Effect.sleep("400 millis")), Stream.make(record("a", 1)))
        yield* Stream.runDrain(SocketSource.serve(channelOf([path], { probeIntervalMs: 50 }), catalog)(messages))
        yield* Effect.promise(() => c.ended)
        const text = c.text()
        assert.isAbove(text.indexOf("{"), 2, "several bare newlines (probes) come before the record")
        assert.strictEqual(text.trim().split("\n").length, 1)
      })))

  it.live("fails naming the paths the destination did not connect to", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        const paths = [join(dir, "a.sock"), join(dir, "b.sock")] as const
        const c = client(paths[0])
        const exit = yield* Effect.exit(Stream.runDrain(SocketSource.serve(channelOf(paths, { connectTimeoutMs: 300 }), catalog)(Stream.make(log))))
        assert.isTrue(Exit.isFailure(exit))
        const error = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
        const message = error?._tag === "Fail" ? (error.error as ConnectorError).message : ""
        assert.include(message, "did not connect to 1 of 2 sockets within 300 ms")
        assert.include(message, paths[1])
        assert.notInclude(message, paths[0])
        yield* Effect.promise(() => c.ended.catch(() => undefined))
      })))
})
