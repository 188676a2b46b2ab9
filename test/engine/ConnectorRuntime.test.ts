import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Stream } from "effect"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import * as Runtime from "../../src/engine/ConnectorRuntime.ts"
import type { LogEntry } from "../../src/engine/ConnectorProcess.ts"
import * as Jsonl from "../../src/engine/protocol/Jsonl.ts"
import { alive } from "../support/Processes.ts"

const scripted = fileURLToPath(new URL("../fixtures/connectors/scripted.mjs", import.meta.url))
const sluice = fileURLToPath(new URL("../../bin/sluice.js", import.meta.url))

type Step = Record<string, unknown>

const options = (role: "source" | "destination", logs: Array<LogEntry> = []): Runtime.RunOptions => ({
  role,
  connector: { command: [process.execPath, scripted] },
  jobId: "42",
  attempt: 3,
  killGracePeriod: "1 second",
  onLog: (entry: LogEntry) => {
    logs.push(entry)
  }
})

const record = (n: number) => JSON.stringify({ type: "RECORD", record: { stream: "s", data: { n }, emitted_at: 1 } })
const catalog = { streams: [] }

const waitGone = (pid: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < 50 && alive(pid); i++) yield* Effect.sleep("100 millis")
    return !alive(pid)
  })

const readSteps = (steps: ReadonlyArray<Step>, logs: Array<LogEntry> = [], extra: Partial<Runtime.RunOptions> = {}) =>
  Runtime.read({ ...options("source", logs), ...extra }, { config: { steps }, catalog })

describe("ConnectorRuntime", () => {
  it.live("runs a built-in connector through the real CLI", () =>
    Effect.gen(function*() {
      const spec = yield* Runtime.spec({ role: "destination", connector: { command: [process.execPath, sluice, "connector", "dev-null"] } })
      assert.strictEqual(spec.connectionSpecification["type"], "object")
    }))

  it.live("passes WORKER_JOB_ID and WORKER_JOB_ATTEMPT and a private 0600 config file, removed afterwards", () =>
    Effect.gen(function*() {
      const logs: Array<LogEntry> = []
      yield* Stream.runDrain(readSteps([{ env: true }], logs))
      const seen = JSON.parse(logs.find((l) => l.channel === "log")!.message)
      assert.deepStrictEqual([seen.jobId, seen.attempt, seen.mode, seen.command], ["42", "3", "600", "read"])
      assert.isFalse(existsSync(seen.path))
    }))

  it.live("emits protocol messages; LOG, stderr and non-protocol lines go to the logs", () =>
    Effect.gen(function*() {
      const logs: Array<LogEntry> = []
      const out = yield* Stream.runCollect(readSteps([
        { out: "starting up (not protocol)" },
        { out: record(1) },
        { err: "a warning on stderr" },
        { out: JSON.stringify({ type: "LOG", log: { level: "WARN", message: "careful" } }) },
        { out: record(2) }
      ], logs))
      assert.deepStrictEqual(out.map((m) => m.type), ["RECORD", "RECORD"])
      assert.deepStrictEqual(logs.map((l) => [l.channel, l.message]).sort(), [
        ["log", "careful"],
        ["stderr", "a warning on stderr"],
        ["stdout", "starting up (not protocol)"]
      ])
    }))

  it.live("a TRACE ERROR becomes a failure with the connector's type and origin", () =>
    Effect.gen(function*() {
      const trace = {
        type: "TRACE",
        trace: {
          type: "ERROR",
          emitted_at: 1,
          error: { message: "bad password", internal_message: "auth failed", failure_type: "config_error", stream_descriptor: { name: "users" } }
        }
      }
      const failure = yield* Effect.flip(Stream.runDrain(readSteps([{ out: record(1) }, { out: JSON.stringify(trace) }, { exit: 1 }])))
      assert.strictEqual(failure.origin, "source")
      assert.strictEqual(failure.failureType, "config_error")
      assert.strictEqual(failure.externalMessage, "bad password")
      assert.strictEqual(failure.internalMessage, "auth failed")
      assert.deepStrictEqual(failure.streamDescriptor, { name: "users" })
      assert.isTrue(failure.fromTraceMessage)
      assert.strictEqual(failure.exitCode, 1)
      assert.isFalse(failure.retryable)
    }))

  it.live("a non-zero exit without a trace is a system_error carrying the stderr tail", () =>
    Effect.gen(function*() {
      const failure = yield* Effect.flip(Stream.runDrain(readSteps([{ err: "Traceback: boom" }, { exit: 7 }])))
      assert.strictEqual(failure.failureType, "system_error")
      assert.strictEqual(failure.exitCode, 7)
      assert.include(failure.externalMessage, "exited with code 7")
      assert.include(failure.internalMessage, "Traceback: boom")
      assert.isTrue(failure.retryable)
    }))

  it.live("a process killed by a signal is a system_error naming the signal", () =>
    Effect.gen(function*() {
      const failure = yield* Effect.flip(Stream.runDrain(readSteps([{ out: record(1) }, { kill: "SIGKILL" }])))
      assert.strictEqual(failure.signal, "SIGKILL")
      assert.include(failure.externalMessage, "killed by SIGKILL")
    }))

  it.live("a malformed protocol message fails the run and names the line", () =>
    Effect.gen(function*() {
      const bad = JSON.stringify({ type: "RECORD", record: { stream: 5, data: {} } })
      const failure = yield* Effect.flip(Stream.runDrain(readSteps([{ out: record(1) }, { out: bad }, { sleep: 10_000 }])))
      assert.strictEqual(failure.failureType, "system_error")
      assert.include(failure.externalMessage, "line 2")
      assert.include(failure.externalMessage, "RECORD")
    }))

  it.live("an oversized line fails with the stream name and size", () =>
    Effect.gen(function*() {
      const failure = yield* Effect.flip(Stream.runDrain(readSteps([{ out: record(1) }, { flood: 1 }], [], { maxLineBytes: 100 })))
      assert.include(failure.externalMessage, "stream 's'")
      assert.include(failure.externalMessage, "maximum of 100 bytes")
    }))

  it.live("a command that exits 0 without its answer is a failure", () =>
    Effect.gen(function*() {
      const failure = yield* Effect.flip(Runtime.discover(options("source"), { steps: [{ out: record(1) }] }))
      assert.include(failure.externalMessage, "without printing a CATALOG message")
    }))

  it.live("check returns a FAILED status as a result, not a failure", () =>
    Effect.gen(function*() {
      const status = yield* Runtime.check(options("source"), {
        steps: [{ out: JSON.stringify({ type: "CONNECTION_STATUS", connectionStatus: { status: "FAILED", message: "no route to host" } }) }]
      })
      assert.deepStrictEqual(status, { status: "FAILED", message: "no route to host" })
    }))

  it.live("a timeout fails with transient_error and terminates the process tree", () =>
    Effect.gen(function*() {
      const logs: Array<LogEntry> = []
      const failure = yield* Effect.flip(Stream.runDrain(readSteps([{ grandchild: true }, { sleep: 60_000 }], logs, { timeout: "1 second" })))
      assert.strictEqual(failure.failureType, "transient_error")
      assert.include(failure.externalMessage, "did not finish within")
      const grandchild = Number(logs.find((l) => l.message.startsWith("grandchild"))!.message.split(" ")[1])
      assert.isTrue(yield* waitGone(grandchild))
    }))

  it.live("interrupting the consumer terminates the connector and its children; SIGKILL after the grace period", () =>
    Effect.gen(function*() {
      // The suite spawns thousands of processes on a machine with pid_max 32768: another test's stale
      // pid can hit this connector. Such a run proves nothing, so it is retried (at most 3 times).
      for (let round = 1; ; round++) {
        const logs: Array<LogEntry> = []
        const fiber = yield* Stream.runDrain(readSteps([{ ignoreSigterm: true }, { pid: true }, { grandchild: true }, { out: record(1) }, { sleep: 60_000 }], logs))
          .pipe(Effect.forkChild)
        for (let i = 0; i < 100 && !logs.some((l) => l.message.startsWith("grandchild")); i++) yield* Effect.sleep("50 millis")
        const grandchild = Number(logs.find((l) => l.message.startsWith("grandchild"))!.message.split(" ")[1])
        const connectorPid = Number(logs.find((l) => l.message.startsWith("pid"))!.message.split(" ")[1])
        const runningBefore = alive(connectorPid)
        const started = Date.now()
        yield* Fiber.interrupt(fiber)
        const elapsed = Date.now() - started
        assert.isTrue(yield* waitGone(grandchild))
        assert.isFalse(alive(connectorPid))
        if ((runningBefore && elapsed >= 900) || round === 3) {
          assert.isTrue(runningBefore, "the connector runs until interrupted")
          assert.isAtLeast(elapsed, 900, "waited for the grace period before SIGKILL")
          return
        }
      }
    }))

  it.live("backpressure: a slow consumer holds the source back instead of buffering its output", () =>
    Effect.gen(function*() {
      const logs: Array<LogEntry> = []
      const first = yield* Stream.runHead(readSteps([{ flood: 1_000_000 }], logs).pipe(Stream.tap(() => Effect.sleep("1 second"))))
      assert.strictEqual(first._tag, "Some")
      const flooded = logs.filter((l) => l.message.startsWith("flooded")).map((l) => Number(l.message.split(" ")[1]))
      // ~230 bytes per line: the source can only be a few pipe buffers ahead, never the whole million.
      assert.isBelow(Math.max(0, ...flooded), 100_000)
    }))

  it.live("write feeds stdin and streams the destination's echoes", () =>
    Effect.gen(function*() {
      const lines = [record(1), JSON.stringify({ type: "STATE", state: { type: "LEGACY", data: { n: 1 } } })]
      const input = Stream.make(new TextEncoder().encode(lines.join("\n") + "\n"))
      const out = yield* Stream.runCollect(Runtime.write(options("destination"), { config: { steps: [{ echoStdin: true }] }, catalog, input }))
      assert.deepStrictEqual(out.map((m) => m.type), ["RECORD", "STATE"])
    }))

  it.live("a failing input terminates the destination and fails the write with the input's error", () =>
    Effect.gen(function*() {
      const logs: Array<LogEntry> = []
      const input = Stream.concat(
        Jsonl.encodeMessages(Stream.make({ type: "RECORD", record: { stream: "s", data: {}, emitted_at: 1 } } as const)),
        Stream.fail("source died" as const)
      )
      const error = yield* Effect.flip(Stream.runDrain(Runtime.write(options("destination", logs), {
        config: { steps: [{ grandchild: true }, { echoStdin: true }] },
        catalog,
        input
      })))
      assert.strictEqual(error, "source died")
      const grandchild = Number(logs.find((l) => l.message.startsWith("grandchild"))?.message.split(" ")[1])
      if (Number.isFinite(grandchild)) assert.isTrue(yield* waitGone(grandchild))
    }))
})
