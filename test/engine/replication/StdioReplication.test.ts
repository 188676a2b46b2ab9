import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { LogEntry } from "../../../src/engine/ConnectorProcess.ts"
import type * as M from "../../../src/engine/protocol/AirbyteMessage.ts"
import * as Runtime from "../../../src/engine/ConnectorRuntime.ts"
import { fullIpc } from "../../../src/engine/IpcOptions.ts"
import { type ReplicationInput, type ReplicationLimits, replicate, type StateCommit } from "../../../src/engine/replication/Replication.ts"
import { makeMiddlewares } from "../../../src/plugins/middleware.ts"

const sluice = fileURLToPath(new URL("../../../bin/sluice.js", import.meta.url))
const scripted = fileURLToPath(new URL("../../fixtures/connectors/scripted.mjs", import.meta.url))
const builtin = (id: string) => ({ command: [process.execPath, sluice, "connector", id] })
const script = { command: [process.execPath, scripted] }
const pausingSource = { command: [process.execPath, fileURLToPath(new URL("../../fixtures/connectors/pausing-source.ts", import.meta.url))] }
const lateDestination = { command: [process.execPath, fileURLToPath(new URL("../../fixtures/connectors/late-destination.ts", import.meta.url))] }

const streamOf = (name: string): M.ConfiguredAirbyteStream => ({
  stream: { name, json_schema: { type: "object" }, supported_sync_modes: ["full_refresh", "incremental"] },
  sync_mode: "incremental",
  destination_sync_mode: "append"
})
const fakerCatalog: M.ConfiguredAirbyteCatalog = { streams: ["users", "products", "purchases"].map(streamOf) }
const sCatalog: M.ConfiguredAirbyteCatalog = { streams: [streamOf("s")] }

const line = (message: unknown) => ({ out: JSON.stringify(message) })
const record = (n: number, stream = "s") => line({ type: "RECORD", record: { stream, data: { n }, emitted_at: 1 } })
const state = (n: number) =>
  line({ type: "STATE", state: { type: "STREAM", stream: { stream_descriptor: { name: "s" }, stream_state: { n } } } })
const records = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => record(from + i))
/** `count` states, each after 100 records of ~1 KB (so no read of the source's stdout holds two states). */
const paddedStates = (count: number) => {
  const pad = "x".repeat(1000)
  return Array.from({ length: count }, (_, i) => [
    ...Array.from({ length: 100 }, (_, j) => line({ type: "RECORD", record: { stream: "s", data: { n: i * 100 + j, pad }, emitted_at: 1 } })),
    state(i + 1)
  ]).flat()
}

const withTempDir = <A, E>(f: (dir: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.promise(() => mkdtemp(join(tmpdir(), "sluice-test-"))),
    f,
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  )

const linesOf = (path: string) =>
  Effect.promise(() => readFile(path, "utf8").then((t) => t.split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l)), () => []))

const scriptedRun = (sourceSteps: ReadonlyArray<object>, destinationSteps: ReadonlyArray<object>, extra: Partial<ReplicationInput> = {}) => {
  const commits: Array<StateCommit> = []
  const logs: Array<LogEntry> = []
  const run = replicate({
    source: { connector: script, config: { steps: sourceSteps } },
    destination: { connector: script, config: { steps: destinationSteps } },
    catalog: sCatalog,
    transport: "stdio",
    onStateCommitted: (commit) => Effect.sync(() => commits.push(commit)),
    onLog: (entry) => logs.push(entry),
    limits: { killGracePeriod: "1 second" },
    ...extra
  })
  return Effect.map(run, (result) => ({ result, commits, logs }))
}

describe("stdio replication", () => {
  it.live("faker → jsonl: every record committed, states committed in order through the port", () =>
    withTempDir((dir) =>
      Effect.gen(function*() {
        const commits: Array<StateCommit> = []
        const result = yield* replicate({
          source: { connector: builtin("faker"), config: { count: 250, seed: 7, records_per_state: 100 } },
          destination: { connector: builtin("jsonl"), config: { path: dir } },
          catalog: fakerCatalog,
          transport: "stdio",
          onStateCommitted: (commit) => Effect.sync(() => commits.push(commit))
        })
        assert.strictEqual(result.status, "completed", JSON.stringify(result.failures))
        assert.deepStrictEqual(result.failures, [])
        assert.strictEqual(result.stats.recordsEmitted, 750)
        assert.strictEqual(result.stats.recordsCommitted, 750)
        assert.strictEqual(result.stats.sourceStateMessagesEmitted, 9)
        assert.strictEqual(result.stats.destinationStateMessagesEmitted, 9)
        for (const s of result.streamStats) assert.strictEqual(s.stats.recordsCommitted, 250, s.streamName)
        assert.strictEqual(commits.length, 9)
        // Committed counts never go down and reach the total.
        const committed = commits.map((c) => c.stats.recordsCommitted)
        assert.deepStrictEqual(committed, [...committed].sort((a, b) => a - b))
        assert.strictEqual(committed[committed.length - 1], 750)
        assert.isTrue(Array.isArray(result.state) && result.state.length === 3)
        for (const name of ["users", "products", "purchases"]) {
          assert.strictEqual((yield* linesOf(join(dir, `${name}.jsonl`))).length, 250, name)
        }
        assert.strictEqual(result.architecture.transport, "stdio")
        assert.isTrue(result.partialSuccess)
      })
    ))

  it.live("a failed attempt resumed from its committed state loses no records", () =>
    withTempDir((dir) =>
      Effect.gen(function*() {
        const source = (extra: object) => ({ connector: builtin("faker"), config: { count: 300, seed: 3, records_per_state: 50, ...extra } })
        const destination = { connector: builtin("jsonl"), config: { path: dir } }
        const first = yield* replicate({
          source: source({ fail_after_records: 420, fail_until_attempt: 1 }),
          destination,
          catalog: fakerCatalog,
          attempt: 0,
          transport: "stdio"
        })
        assert.strictEqual(first.status, "failed")
        assert.strictEqual(first.failures[0]?.failureOrigin, "source")
        assert.strictEqual(first.failures[0]?.failureType, "transient_error")
        assert.isTrue(first.partialSuccess)
        // The source failed at record 420: every state it emitted before (users 300, products 100) is committed.
        assert.strictEqual(first.stats.recordsCommitted, 400)
        const second = yield* replicate({
          source: source({ fail_after_records: 420, fail_until_attempt: 1 }),
          destination,
          catalog: fakerCatalog,
          state: first.state,
          attempt: 1,
          transport: "stdio"
        })
        assert.strictEqual(second.status, "completed", JSON.stringify(second.failures))
        for (const name of ["users", "products", "purchases"]) {
          const ids = new Set((yield* linesOf(join(dir, `${name}.jsonl`))).map((l) => l._sluice_data.id))
          assert.strictEqual(ids.size, 300, `${name}: every record arrived at least once`)
        }
      })
    ))

  it.live("middleware: hashed and filtered records reach the destination changed; filtered ones are counted and subtracted", () =>
    withTempDir((dir) =>
      Effect.gen(function*() {
        const discovered = yield* Runtime.discover({ role: "source", connector: builtin("faker") }, { count: 1 })
        const catalog: M.ConfiguredAirbyteCatalog = {
          streams: discovered.streams.filter((s) => s.name === "users").map((stream) => ({ stream, sync_mode: "full_refresh", destination_sync_mode: "append" }))
        }
        const built = yield* makeMiddlewares([
          { type: "pii-hash", stream: "users", fields: ["email"] },
          { type: "filter", stream: "users", keep: { field: "is_active", op: "eq", value: true } }
        ], { catalog, connectionId: "c1" })
        const commits: Array<StateCommit> = []
        const result = yield* replicate({
          source: { connector: { ...builtin("faker"), ipc: fullIpc }, config: { count: 300, seed: 5, records_per_state: 100 } },
          destination: { connector: { ...builtin("jsonl"), ipc: fullIpc }, config: { path: dir } },
          catalog,
          middlewares: built.middlewares,
          onStateCommitted: (commit) => Effect.sync(() => commits.push(commit))
        })
        assert.strictEqual(result.status, "completed", JSON.stringify(result.failures))
        assert.strictEqual(result.architecture.transport, "stdio", "mappers force stdio")
        const lines = yield* linesOf(join(dir, "users.jsonl"))
        assert.strictEqual(result.stats.recordsEmitted, 300)
        assert.strictEqual(result.stats.recordsFilteredOut, 300 - lines.length)
        assert.isAbove(result.stats.recordsFilteredOut, 0)
        assert.strictEqual(result.stats.recordsCommitted, lines.length)
        for (const line of lines) {
          assert.isTrue(line._sluice_data.is_active)
          assert.match(line._sluice_data.email, /^[0-9a-f]{64}$/)
        }
      })
    ))

  it.live("records of streams outside the catalog are dropped with a warning", () =>
    Effect.gen(function*() {
      const { result, logs } = yield* scriptedRun([record(1), record(2, "other"), state(1)], [{ destination: "echo" }])
      assert.strictEqual(result.status, "completed")
      assert.strictEqual(result.stats.recordsEmitted, 1)
      assert.isTrue(logs.some((l) => l.level === "WARN" && l.message.includes("'other'")))
    }))

  it.live("fills sourceStats.recordCount and an id on every forwarded state", () =>
    Effect.gen(function*() {
      const { result, commits } = yield* scriptedRun([...records(1, 3), state(1), record(4), state(2)], [{ destination: "echo" }])
      assert.strictEqual(result.status, "completed")
      assert.deepStrictEqual(commits.map((c) => c.state.stream?.stream_state), [{ n: 1 }, { n: 2 }])
      assert.deepStrictEqual(result.state, [{ type: "STREAM", stream: { stream_descriptor: { name: "s" }, stream_state: { n: 2 } } }])
    }))

  describe("failure classification", () => {
    it.live("source crash (killed)", () =>
      Effect.gen(function*() {
        const { result } = yield* scriptedRun([record(1), state(1), { sleep: 200 }, { kill: "SIGKILL" }], [{ destination: "echo" }])
        assert.strictEqual(result.status, "failed")
        assert.deepStrictEqual([result.failures[0]?.failureOrigin, result.failures[0]?.failureType], ["source", "system_error"])
        assert.include(result.failures[0]?.externalMessage, "SIGKILL")
        assert.isTrue(result.partialSuccess)
        assert.strictEqual(result.stats.recordsCommitted, 1)
      }))

    it.live("source non-zero exit", () =>
      Effect.gen(function*() {
        const { result } = yield* scriptedRun([record(1), { exit: 3 }], [{ destination: "echo" }])
        assert.deepStrictEqual([result.failures[0]?.failureOrigin, result.failures[0]?.failureType], ["source", "system_error"])
        assert.strictEqual(result.failures[0]?.metadata?.["exit_code"], 3)
        assert.isFalse(result.partialSuccess)
      }))

    it.live("source TRACE ERROR keeps the connector's failure type", () =>
      Effect.gen(function*() {
        const trace = line({ type: "TRACE", trace: { type: "ERROR", emitted_at: 1, error: { message: "bad creds", failure_type: "config_error" } } })
        const { result } = yield* scriptedRun([trace, { exit: 1 }], [{ destination: "echo" }])
        const reason = result.failures[0]!
        assert.deepStrictEqual([reason.failureOrigin, reason.failureType, reason.retryable], ["source", "config_error", false])
        assert.strictEqual(reason.metadata?.["from_trace_message"], true)
      }))

    it.live("malformed source stdout", () =>
      Effect.gen(function*() {
        const { result } = yield* scriptedRun([record(1), { out: `{"type":"STATE","state":{"type":"SOMETIMES"}}` }, { sleep: 5000 }], [{
          destination: "echo"
        }])
        assert.deepStrictEqual([result.failures[0]?.failureOrigin, result.failures[0]?.failureType], ["source", "system_error"])
        assert.include(result.failures[0]?.externalMessage, "broke the Airbyte protocol")
      }))

    it.live("a destination that finishes without acknowledging", () =>
      Effect.gen(function*() {
        const { result, commits } = yield* scriptedRun([record(1), state(1)], [{ destination: "silent" }])
        assert.deepStrictEqual([result.failures[0]?.failureOrigin, result.failures[0]?.failureType], ["destination", "system_error"])
        assert.include(result.failures[0]?.externalMessage, "without acknowledging")
        assert.strictEqual(commits.length, 0)
        assert.strictEqual(result.stats.recordsCommitted, 0)
      }))

    it.live("a destination that never acknowledges times out", () =>
      Effect.gen(function*() {
        const { result } = yield* scriptedRun([record(1), state(1)], [{ destination: "hang" }], { limits: { ackTimeout: "1 second", killGracePeriod: "1 second" } })
        assert.deepStrictEqual([result.failures[0]?.failureOrigin, result.failures[0]?.failureType], ["destination", "destination_timeout"])
      }))

    it.live("a destination that acknowledges late holds the source back at the cap of unacknowledged states", () =>
      Effect.gen(function*() {
        // 40 states; the destination echoes each 100 ms after reading it. Without the cap it would hold
        // nearly all 40 at once.
        const { result, commits, logs } = yield* scriptedRun(paddedStates(40), [{ destination: "late", delayMs: 100 }], {
          limits: { maxPendingStates: 3, killGracePeriod: "1 second" }
        })
        assert.strictEqual(result.status, "completed", JSON.stringify(result.failures))
        assert.strictEqual(commits.length, 40)
        assert.strictEqual(result.stats.recordsCommitted, 4000)
        const most = logs.map((l) => /most states held unechoed: (\d+)/.exec(l.message)).find((m) => m !== null)
        assert.isDefined(most, JSON.stringify(logs))
        // At most the cap, plus the states of the one batch that reached it.
        assert.isAtMost(Number(most![1]), 4)
        assert.isAtLeast(Number(most![1]), 2, "the destination did hold states back")
      }))

    it.live("one read holding more states than the cap goes out whole: the destination can acknowledge them", () =>
      Effect.gen(function*() {
        // Five states in one write reach Sluice as one batch; holding that batch back until one of its
        // own states is acknowledged would wait forever.
        const burst = { out: [1, 2, 3, 4, 5].flatMap((n) => [record(n).out, state(n).out]).join("\n") }
        const { result, commits } = yield* scriptedRun([burst, record(6), state(6)], [{ destination: "late", delayMs: 10 }], {
          limits: { maxPendingStates: 3, ackTimeout: "5 seconds", killGracePeriod: "1 second" }
        })
        assert.strictEqual(result.status, "completed", JSON.stringify(result.failures))
        assert.strictEqual(commits.length, 6)
      }))

    it.live("socket mode: Sluice stops reading the source's states at the cap of unacknowledged states", () =>
      Effect.gen(function*() {
        // faker → a destination that echoes each state 200 ms after reading it, 300 states in all.
        // Before each acknowledgement, the states Sluice held unacknowledged were
        // sourceStateMessagesEmitted − destinationStateMessagesEmitted + 1 (the totals are taken after it).
        const heldBefore = (limits: Partial<ReplicationLimits>) =>
          Effect.gen(function*() {
            const commits: Array<StateCommit> = []
            const result = yield* replicate({
              source: { connector: { ...builtin("faker"), ipc: fullIpc }, config: { count: 2000, seed: 3, records_per_state: 20 } },
              destination: { connector: { ...lateDestination, ipc: fullIpc }, config: { delayMs: 200 } },
              catalog: fakerCatalog,
              transport: "socket",
              onStateCommitted: (commit) => Effect.sync(() => commits.push(commit)),
              limits: { killGracePeriod: "1 second", ...limits }
            })
            assert.strictEqual(result.status, "completed", JSON.stringify(result.failures))
            assert.strictEqual(result.architecture.transport, "socket")
            assert.strictEqual(result.stats.recordsCommitted, 6000)
            assert.strictEqual(commits.length, 300)
            return Math.max(...commits.map((c) => c.stats.sourceStateMessagesEmitted - c.stats.destinationStateMessagesEmitted + 1))
          })
        assert.isAtMost(yield* heldBefore({ maxPendingStates: 3 }), 3)
        // The same run without a small cap holds far more: the test can tell the difference.
        assert.isAbove(yield* heldBefore({}), 10)
      }))

    it.live("socket mode: a destination that acknowledges nothing while Sluice waits at the cap: the timeout says so", () =>
      Effect.gen(function*() {
        const result = yield* replicate({
          source: { connector: { ...builtin("faker"), ipc: fullIpc }, config: { count: 200, seed: 3, records_per_state: 20 } },
          destination: { connector: { ...lateDestination, ipc: fullIpc }, config: { delayMs: 600_000 } },
          catalog: fakerCatalog,
          transport: "socket",
          limits: { maxPendingStates: 2, ackTimeout: "1 second", killGracePeriod: "1 second" }
        })
        assert.deepStrictEqual([result.failures[0]?.failureOrigin, result.failures[0]?.failureType], ["destination", "destination_timeout"])
        assert.include(result.failures[0]?.externalMessage, "paused the source at its cap of 2 unacknowledged states")
      }))

    it.live("a destination that stops reading its input with every state acknowledged times out, and the source is not blamed", () =>
      Effect.gen(function*() {
        // State 1 is acknowledged, then the destination stops reading; the source floods records
        // with no further state, so no state waits and only the stalled input shows the problem.
        const { result, commits } = yield* scriptedRun([...records(1, 10), state(1), { flood: 20_000 }], [{ destination: "stall-after", records: 11 }], {
          limits: { ackTimeout: "2 seconds", sourceHeartbeatTimeout: "1 second", sourceHeartbeatFailSync: true, killGracePeriod: "1 second" }
        })
        assert.deepStrictEqual([result.failures[0]?.failureOrigin, result.failures[0]?.failureType], ["destination", "destination_timeout"], JSON.stringify(result.failures))
        assert.include(result.failures[0]?.externalMessage, "the destination has not read its input for 2s")
        assert.strictEqual(commits.length, 1)
      }))

    it.live("a destination that acknowledges nothing while the source waits at the cap: the timeout says so", () =>
      Effect.gen(function*() {
        const steps = [1, 2, 3, 4].flatMap((n) => [...records(n * 10, n * 10 + 200), state(n)])
        const { result } = yield* scriptedRun(steps, [{ destination: "hang" }], {
          limits: { maxPendingStates: 2, ackTimeout: "1 second", killGracePeriod: "1 second" }
        })
        assert.deepStrictEqual([result.failures[0]?.failureOrigin, result.failures[0]?.failureType], ["destination", "destination_timeout"])
        assert.include(result.failures[0]?.externalMessage, "paused the source at its cap of 2 unacknowledged states")
      }))

    it.live("a source silent longer than the source heartbeat fails the attempt with heartbeat_timeout when failSync is on", () =>
      Effect.gen(function*() {
        const { result, commits } = yield* scriptedRun([record(1), state(1), { sleep: 6000 }, record(2), state(2)], [{ destination: "echo" }], {
          limits: { sourceHeartbeatTimeout: "2 seconds", sourceHeartbeatFailSync: true, killGracePeriod: "1 second" }
        })
        assert.strictEqual(result.status, "failed")
        assert.deepStrictEqual([result.failures[0]?.failureOrigin, result.failures[0]?.failureType], ["source", "heartbeat_timeout"])
        assert.include(result.failures[0]?.externalMessage, "the source sent no message for 2s")
        assert.isTrue(result.failures[0]?.retryable)
        // What was acknowledged before the silence stays committed.
        assert.strictEqual(commits.length, 1)
        assert.strictEqual(result.stats.recordsCommitted, 1)
      }))

    it.live("socket mode: a source silent on its stdout longer than the source heartbeat fails with heartbeat_timeout", () =>
      Effect.gen(function*() {
        const commits: Array<StateCommit> = []
        const result = yield* replicate({
          source: { connector: { ...pausingSource, ipc: fullIpc }, config: { records: 100, recordsPerState: 10, pauseAfter: 50, pauseMs: 10_000 } },
          destination: { connector: { ...builtin("dev-null"), ipc: fullIpc }, config: {} },
          catalog: sCatalog,
          transport: "socket",
          onStateCommitted: (commit) => Effect.sync(() => commits.push(commit)),
          // 3 s: a process start-up on a loaded machine must not count as the silence.
          limits: { sourceHeartbeatTimeout: "3 seconds", sourceHeartbeatFailSync: true, killGracePeriod: "1 second" }
        })
        assert.strictEqual(result.architecture.transport, "socket")
        assert.deepStrictEqual([result.failures[0]?.failureOrigin, result.failures[0]?.failureType], ["source", "heartbeat_timeout"])
        assert.include(result.failures[0]?.externalMessage, "the source sent no message for 3s")
        // Nothing after the silence was committed; what came before may have been.
        assert.isAtMost(result.stats.recordsCommitted, 50)
        assert.strictEqual(commits.length * 10, result.stats.recordsCommitted)
        // The same source with a silence shorter than the heartbeat completes.
        const short = yield* replicate({
          source: { connector: { ...pausingSource, ipc: fullIpc }, config: { records: 100, recordsPerState: 10, pauseAfter: 50, pauseMs: 200 } },
          destination: { connector: { ...builtin("dev-null"), ipc: fullIpc }, config: {} },
          catalog: sCatalog,
          transport: "socket",
          limits: { sourceHeartbeatTimeout: "3 seconds", sourceHeartbeatFailSync: true, killGracePeriod: "1 second" }
        })
        assert.strictEqual(short.status, "completed", JSON.stringify(short.failures))
        assert.strictEqual(short.stats.recordsCommitted, 100)
      }))

    it.live("with failSync off (the default) a silent source is a warning and the sync goes on", () =>
      Effect.gen(function*() {
        const { result, logs } = yield* scriptedRun([record(1), state(1), { sleep: 2500 }, record(2), state(2)], [{ destination: "echo" }], {
          limits: { sourceHeartbeatTimeout: "1 second", killGracePeriod: "1 second" }
        })
        assert.strictEqual(result.status, "completed", JSON.stringify(result.failures))
        assert.strictEqual(result.stats.recordsCommitted, 2)
        const warnings = logs.filter((l) => l.level === "WARN" && l.message.includes("the source has sent no message for 1s"))
        assert.isAtLeast(warnings.length, 1, JSON.stringify(logs))
      }))

    it.live("time Sluice holds the source at the cap of pending states is not the source's silence", () =>
      Effect.gen(function*() {
        // Each state waits 2.5 s for its acknowledgement with the cap at 1; the heartbeat limit is 2 s.
        const { result } = yield* scriptedRun(paddedStates(3), [{ destination: "late", delayMs: 2500 }], {
          limits: { maxPendingStates: 1, sourceHeartbeatTimeout: "2 seconds", sourceHeartbeatFailSync: true, killGracePeriod: "1 second" }
        })
        assert.strictEqual(result.status, "completed", JSON.stringify(result.failures))
        assert.strictEqual(result.stats.recordsCommitted, 300)
      }))

    it.live("an acknowledgement of an unknown state id", () =>
      Effect.gen(function*() {
        const { result, commits } = yield* scriptedRun([record(1), state(1)], [{ destination: "wrong-id" }])
        assert.deepStrictEqual([result.failures[0]?.failureOrigin, result.failures[0]?.failureType], ["destination", "system_error"])
        assert.include(result.failures[0]?.externalMessage, "never sent")
        assert.strictEqual(commits.length, 0)
      }))

    it.live("a destination killed mid-sync never gets a state committed for records it did not write", () =>
      Effect.gen(function*() {
        const steps = [...records(1, 5), state(1), ...records(6, 10), state(2), ...records(11, 15), state(3)]
        const { result, commits } = yield* scriptedRun(steps, [{ destination: "crash-after", records: 8 }])
        assert.deepStrictEqual([result.failures[0]?.failureOrigin, result.failures[0]?.failureType], ["destination", "system_error"])
        assert.deepStrictEqual(commits.map((c) => c.state.stream?.stream_state), [{ n: 1 }])
        assert.strictEqual(result.stats.recordsCommitted, 5)
        assert.deepStrictEqual(result.state, [{ type: "STREAM", stream: { stream_descriptor: { name: "s" }, stream_state: { n: 1 } } }])
      }))

    it.live("transport socket with a connector that lacks socket support is a config_error before anything runs", () =>
      Effect.gen(function*() {
        const { result, logs } = yield* scriptedRun([{ env: true }], [{ destination: "echo" }], { transport: "socket" })
        assert.deepStrictEqual([result.failures[0]?.failureOrigin, result.failures[0]?.failureType], ["replication", "config_error"])
        assert.include(result.failures[0]?.externalMessage, "declares no IPC options")
        assert.strictEqual(logs.length, 0, "no process started")
      }))
  })

  it.live("cancelling ends the attempt cancelled with manual_cancellation and stops the connectors", () =>
    Effect.gen(function*() {
      const cancel = yield* Deferred.make<void>()
      const fiber = yield* scriptedRun([record(1), state(1), { grandchild: true }, { sleep: 60_000 }], [{ destination: "echo" }], {
        cancel: Deferred.await(cancel)
      }).pipe(Effect.forkChild)
      yield* Effect.sleep("1 second")
      yield* Deferred.succeed(cancel, undefined)
      const { result, logs } = yield* Fiber.join(fiber)
      assert.strictEqual(result.status, "cancelled")
      assert.deepStrictEqual([result.failures[0]?.failureType], ["manual_cancellation"])
      const grandchild = Number(logs.find((l) => l.message.startsWith("grandchild"))?.message.split(" ")[1])
      let alive = true
      for (let i = 0; i < 30 && alive; i++) {
        alive = (() => {
          try {
            process.kill(grandchild, 0)
            return true
          } catch {
            return false
          }
        })()
        if (alive) yield* Effect.sleep("100 millis")
      }
      assert.isFalse(alive)
    }))
})
