/**
 * Tests of the destination side of socket mode: the pure gate (per-partition counts, states held until
 * complete, count mismatches), the echo sequencer (id order, stats), and `serve` over real Unix sockets
 * in process, fed by a hand-written source.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, type Scope, Stream } from "effect"
import { mkdtemp, rm } from "node:fs/promises"
import * as net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { devNull } from "../../../src/plugins/dev-null/DevNull.ts"
import { ConnectorError } from "../../../src/engine/kit/Connector.ts"
import type { SocketChannel } from "../../../src/engine/kit/DataChannel.ts"
import * as SocketDestination from "../../../src/engine/kit/SocketDestination.ts"
import type * as M from "../../../src/engine/protocol/AirbyteMessage.ts"
import * as Jsonl from "../../../src/engine/protocol/Jsonl.ts"

const record = (partition: string, n = 0, stream = "a"): M.AirbyteMessage => ({
  type: "RECORD",
  record: { stream, data: { n }, emitted_at: 1, partition_id: partition }
})
const streamState = (id: number, partition: string, recordCount: number, stream = "a", bytes = 10 * recordCount): M.StateMessage => ({
  type: "STATE",
  state: {
    type: "STREAM",
    stream: { stream_descriptor: { name: stream }, stream_state: { id } },
    sourceStats: { recordCount },
    partition_id: partition,
    id,
    sluice_bytes: bytes
  }
})
const globalState = (id: number, partitions: Record<string, number> | undefined, recordCount: number, extra: M.JsonObject = {}): M.StateMessage => ({
  type: "STATE",
  state: {
    type: "GLOBAL",
    global: { shared_state: { id }, stream_states: [{ stream_descriptor: { name: "a" } }, { stream_descriptor: { name: "b" } }] },
    sourceStats: { recordCount },
    partition_id: `g${id}`,
    id,
    ...(partitions === undefined ? {} : { sluice_partitions: partitions }),
    ...extra
  }
})

/** What the gate hands over: records as `partition:n`, states as `S<id>`. */
const labels = (messages: ReadonlyArray<M.AirbyteMessage>) =>
  messages.map((m) => (m.type === "RECORD" ? `${m.record["partition_id"]}:${m.record.data["n"]}` : m.type === "STATE" ? `S${m.state["id"]}` : m.type))

const admitAll = (batches: ReadonlyArray<ReadonlyArray<M.AirbyteMessage>>) => {
  const handovers = new Map<number, SocketDestination.Handover>()
  const gate = SocketDestination.makeGate(handovers)
  const out: Array<M.AirbyteMessage> = []
  for (const batch of batches) {
    const error = gate.admit(batch, out)
    if (error !== undefined) return { out, error, handovers }
  }
  return { out, error: gate.end(), handovers }
}

const complete = (partitions: Record<string, number>, after: Record<string, number>): M.AirbyteMessage => ({
  type: "TRACE",
  trace: {
    type: "STREAM_STATUS",
    emitted_at: 1,
    stream_status: { stream_descriptor: { name: "a" }, status: "COMPLETE" },
    sluice_partitions: partitions,
    sluice_after: after
  }
})

describe("SocketDestination.makeGate: COMPLETE statuses", () => {
  it("waits for the stream's stated partitions to be handed over and its unstated records to pass", () => {
    // Socket 1 carries p1's records and state; socket 2 the COMPLETE (claiming p1 via its state, p2 unstated)
    // and arrives first; p2's last record comes last.
    const { out, error } = admitAll([
      [complete({ p2: 2 }, { p1: 2 })],
      [record("p1", 1), record("p2", 1)],
      [record("p1", 2), streamState(1, "p1", 2)],
      [record("p2", 2)]
    ])
    assert.isUndefined(error)
    assert.deepStrictEqual(labels(out), ["p1:1", "p2:1", "p1:2", "S1", "p2:2", "TRACE"])
    const trace = out[out.length - 1]!
    assert.isTrue(trace.type === "TRACE" && trace.trace["sluice_partitions"] === undefined, "the kit's claims are not passed on")
  })

  it("fails at the end when a COMPLETE stream misses records, and when a record comes after it", () => {
    const missing = admitAll([[complete({ p2: 3 }, {})], [record("p2", 1)]])
    assert.include(missing.error?.message, "stream a is COMPLETE but incomplete")
    const late = admitAll([[complete({ p2: 1 }, {})], [record("p2", 1)], [record("p2", 2)]])
    assert.include(late.error?.message, "count mismatch for partition p2")
  })
})

describe("SocketDestination.makeGate", () => {
  it("hands a state over right after the last record of its partition, whichever socket brought what first", () => {
    // The state of p1 arrives (from its socket) before two of its records (merged from elsewhere).
    const { error, out, handovers } = admitAll([[record("p1", 1), streamState(1, "p1", 3), record("p2", 1)], [record("p1", 2), record("p1", 3), record("p2", 2)]])
    assert.isUndefined(error)
    assert.deepStrictEqual(labels(out), ["p1:1", "p2:1", "p1:2", "p1:3", "S1", "p2:2"])
    assert.deepStrictEqual(handovers.get(1), { recordCount: 3, streams: [{ name: "a", namespace: undefined, count: 3, bytes: 30 }] })
  })

  it("a complete state passes at once; an empty partition needs no records", () => {
    const { error, out } = admitAll([[record("p1", 1), streamState(1, "p1", 1), streamState(2, "p2", 0)]])
    assert.isUndefined(error)
    assert.deepStrictEqual(labels(out), ["p1:1", "S1", "S2"])
  })

  it("GLOBAL: waits for every partition of sluice_partitions, or for partition_id alone without it", () => {
    const withList = admitAll([[globalState(1, { p1: 1, p2: 2 }, 3), record("p2", 1), record("p1", 1), record("p2", 2), record("p3", 1)]])
    assert.isUndefined(withList.error)
    assert.deepStrictEqual(labels(withList.out), ["p2:1", "p1:1", "p2:2", "S1", "p3:1"])
    const bulkCdk = admitAll([[globalState(1, undefined, 2), record("g1", 1), record("g1", 2)]])
    assert.isUndefined(bulkCdk.error)
    assert.deepStrictEqual(labels(bulkCdk.out), ["g1:1", "g1:2", "S1"])
  })

  it("count mismatches fail with the partition, the expected and the received counts", () => {
    const late = admitAll([[record("p1"), streamState(1, "p1", 1), record("p1")]])
    assert.include(late.error?.message, "count mismatch for partition p1: expected 1 records, received 2 (a record arrived after its state was handed over)")
    const tooMany = admitAll([[record("p1"), record("p1"), record("p1"), streamState(1, "p1", 2)]])
    assert.include(tooMany.error?.message, "count mismatch for partition p1: expected 2 records, received 3")
    const heldTooMany = admitAll([[streamState(1, "p1", 1), record("p1"), record("p1")]])
    assert.include(heldTooMany.error?.message, "count mismatch for partition p1: expected 1 records, received 2")
    const incomplete = admitAll([[record("p1"), streamState(1, "p1", 5), record("p1")]])
    assert.include(incomplete.error?.message, "count mismatch for partition p1: expected 5 records, received 2 (state 1 is incomplete at the end of all sockets)")
    assert.deepStrictEqual(labels(incomplete.out), ["p1:0", "p1:0"])
  })

  it("rejects a partitioned STREAM state without recordCount and a partition claimed twice", () => {
    const noCount = admitAll([[{ type: "STATE", state: { type: "STREAM", stream: { stream_descriptor: { name: "a" } }, partition_id: "p1", id: 1 } }]])
    assert.include(noCount.error?.message, "has no sourceStats.recordCount")
    const twice = admitAll([[streamState(1, "p1", 0), streamState(2, "p1", 0)]])
    assert.include(twice.error?.message, "partition p1 is claimed by two states")
  })

  it("records and states without partition ids pass as they are", () => {
    const plain: M.AirbyteMessage = { type: "RECORD", record: { stream: "a", data: {}, emitted_at: 1 } }
    const legacy: M.AirbyteMessage = { type: "STATE", state: { data: { x: 1 } } }
    const { error, out } = admitAll([[plain, legacy, plain]])
    assert.isUndefined(error)
    assert.deepStrictEqual(out, [plain, legacy, plain])
  })
})

describe("SocketDestination.makeSequencer", () => {
  const handoversOf = (states: ReadonlyArray<M.StateMessage>) => {
    const records = states.flatMap((s) => {
      const claims = s.state["sluice_partitions"] as Record<string, number> | undefined
      return Object.entries(claims ?? { [s.state["partition_id"] as string]: s.state.sourceStats?.recordCount ?? 0 })
        .flatMap(([p, n]) => Array.from({ length: n }, () => record(p, 0, p.startsWith("b") ? "b" : "a")))
    })
    const result = admitAll([[...records, ...states]])
    assert.isUndefined(result.error)
    return result.handovers
  }

  it("releases echoes in id order with destinationStats and cumulative committed counts per stream", () => {
    const states = [streamState(1, "a1", 2), streamState(2, "b1", 3, "b"), streamState(3, "a2", 4)]
    const sequencer = SocketDestination.makeSequencer(handoversOf(states))
    // The connector echoes 3 and 2 before 1, with its own (wrong) destinationStats.
    const echo = (s: M.StateMessage): M.AirbyteMessage => ({ ...s, state: { ...s.state, destinationStats: { recordCount: 42 } } })
    const log: M.AirbyteMessage = { type: "LOG", log: { level: "INFO", message: "x" } }
    const first = sequencer.acknowledge([echo(states[2]!), log, echo(states[1]!)])
    assert.deepStrictEqual(first, [log])
    const rest = sequencer.acknowledge([echo(states[0]!)]).map((m) => (m.type === "STATE" ? m.state : {}))
    assert.deepStrictEqual(rest.map((s) => [s["id"], s["partition_id"], s["destinationStats"], s["committedRecordsCount"], s["committedBytesCount"]]), [
      [1, "a1", { recordCount: 2 }, 2, 20],
      [2, "b1", { recordCount: 3 }, 3, 30],
      [3, "a2", { recordCount: 4 }, 6, 60]
    ])
    assert.deepStrictEqual(sequencer.end(), [])
  })

  it("GLOBAL echoes carry committed counts on each stream state", () => {
    const counts = [{ name: "a", count: 1, bytes: 5 }, { name: "b", count: 2, bytes: 7 }]
    const state = globalState(1, { a1: 1, b1: 2 }, 3, { sluice_stream_counts: counts })
    const sequencer = SocketDestination.makeSequencer(handoversOf([state]))
    const [echoed] = sequencer.acknowledge([state])
    const s = echoed?.type === "STATE" ? echoed.state : undefined
    assert.deepStrictEqual(s?.destinationStats, { recordCount: 3 })
    assert.deepStrictEqual(s?.global?.stream_states.map((ss) => [ss.stream_descriptor.name, ss["committedRecordsCount"], ss["committedBytesCount"]]), [
      ["a", 1, 5],
      ["b", 2, 7]
    ])
  })

  it("withholds echoes after a gap and says so at the end", () => {
    const states = [streamState(1, "a1", 0), streamState(2, "a2", 0)]
    const sequencer = SocketDestination.makeSequencer(handoversOf(states))
    assert.deepStrictEqual(sequencer.acknowledge([states[1]!]), [])
    const [warning] = sequencer.end()
    assert.strictEqual(warning?.type, "LOG")
    assert.include(warning?.type === "LOG" ? warning.log.message : "", "state 1 was never echoed")
  })
})

// ------------------------------------------------------------------------------------ REAL SOCKETS

const withDir = <A, E>(f: (dir: string) => Effect.Effect<A, E, Scope.Scope>) =>
  Effect.acquireUseRelease(
    Effect.promise(() => mkdtemp(join(tmpdir(), "sluice-dst-"))),
    (dir) => Effect.scoped(f(dir)),
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

/** A hand-written source: listens on the path, then writes the messages (with probes) and ends. */
const fakeSource = (path: string, messages: ReadonlyArray<M.AirbyteMessage>, delayMs = 0) =>
  Effect.acquireRelease(
    Effect.callback<net.Server>((resume) => {
      const server = net.createServer((socket) => {
        server.close()
        setTimeout(() => {
          socket.write("\n")
          socket.end(Jsonl.encodeBatch(messages))
        }, delayMs)
      })
      server.listen(path, () => resume(Effect.succeed(server)))
    }),
    (server) => Effect.sync(() => server.close())
  )

const serveDevNull = (channel: SocketChannel) =>
  SocketDestination.serve({
    channel,
    catalog: { streams: [] },
    stderr: process.stderr,
    write: (messages) => devNull.write({ config: {}, catalog: { streams: [] }, messages, context: { jobId: undefined, attempt: undefined } })
  })

const failureMessage = (exit: Exit.Exit<unknown, unknown>) => {
  const reason = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
  return reason?._tag === "Fail" && reason.error instanceof ConnectorError ? reason.error.message : ""
}

describe("SocketDestination.serve", () => {
  it.live("merges the sockets into the connector and echoes states in id order", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        const paths = [join(dir, "a.sock"), join(dir, "b.sock")] as const
        // State 2 (socket b) completes long before state 1, whose socket is slow.
        yield* fakeSource(paths[0], [record("p1", 1), record("p1", 2), streamState(1, "p1", 2)], 200)
        yield* fakeSource(paths[1], [record("p2", 1, "b"), streamState(2, "p2", 1, "b")])
        const out = yield* Stream.runCollect(serveDevNull(channelOf(paths)))
        assert.deepStrictEqual(out.map((m) => (m.type === "STATE" ? [m.state["id"], m.state.destinationStats?.recordCount] : m.type)), [[1, 2], [2, 1]])
      })))

  it.live("fails on a count mismatch", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        const path = join(dir, "a.sock")
        yield* fakeSource(path, [record("p1"), record("p1"), record("p1"), streamState(1, "p1", 5)])
        const exit = yield* Effect.exit(Stream.runCollect(serveDevNull(channelOf([path]))))
        assert.include(failureMessage(exit), "count mismatch for partition p1: expected 5 records, received 3")
      })))

  it.live("retries until the source listens, and fails after the timeout naming the sockets it could not reach", () =>
    withDir((dir) =>
      Effect.gen(function*() {
        const paths = [join(dir, "late.sock"), join(dir, "never.sock")] as const
        yield* Effect.forkChild(Effect.delay(fakeSource(paths[0], []), "100 millis"))
        const exit = yield* Effect.exit(Stream.runCollect(serveDevNull(channelOf(paths, { connectTimeoutMs: 400 }))))
        const message = failureMessage(exit)
        assert.include(message, "could not connect to 1 of 2 sockets within 400 ms")
        assert.include(message, `${paths[1]} (ENOENT)`)
        assert.notInclude(message, paths[0])
      })))
})
