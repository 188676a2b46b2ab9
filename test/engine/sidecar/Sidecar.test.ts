/**
 * Connectors through sidecars without Kubernetes: real `sluice connector-sidecar` processes share a
 * temp dir with a SidecarHost (the worker's side), as the containers of a pod share their volume.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Scope, Stream } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { ConnectorHost } from "../../../src/engine/ConnectorHost.ts"
import * as Runtime from "../../../src/engine/ConnectorRuntime.ts"
import type * as M from "../../../src/engine/protocol/AirbyteMessage.ts"
import { replicate, type ReplicationInput } from "../../../src/engine/replication/Replication.ts"
import * as SidecarHost from "../../../src/engine/sidecar/SidecarHost.ts"
import { fullIpc } from "../../../src/engine/IpcOptions.ts"
import { NODE_FLAGS } from "../../../src/plugins/builtin.ts"
import { alive } from "../../support/Processes.ts"

const sluice = fileURLToPath(new URL("../../../bin/sluice.js", import.meta.url))
const builtin = (id: string) => ({ command: [process.execPath, sluice, "connector", id], ipc: fullIpc })

const streamOf = (name: string): M.ConfiguredAirbyteStream => ({
  stream: { name, json_schema: { type: "object" }, supported_sync_modes: ["full_refresh", "incremental"] },
  sync_mode: "incremental",
  destination_sync_mode: "append"
})
const catalog: M.ConfiguredAirbyteCatalog = { streams: ["users", "products", "purchases"].map(streamOf) }

interface Sidecar {
  readonly child: ChildProcess
  readonly output: () => string
  readonly exit: Promise<number | null>
}

const startSidecar = (dir: string, role: string): Sidecar => {
  const child = spawn(process.execPath, [...NODE_FLAGS, sluice, "connector-sidecar", "--role", role, "--dir", dir], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, SLUICE_SIDECAR_WORKER_TIMEOUT_SECONDS: "10" }
  })
  let output = ""
  child.stderr!.setEncoding("utf8").on("data", (text: string) => (output += text))
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return { child, output: () => output, exit }
}

const tempDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.promise(() => mkdtemp(join(tmpdir(), prefix))),
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  )

/** Sidecars for `roles` in a fresh shared dir and the worker's host over it; at the end `done`, and every sidecar exits 0. */
const withSidecars = <A, E>(
  roles: ReadonlyArray<string>,
  f: (dir: string, sidecars: Record<string, Sidecar>) => Effect.Effect<A, E>,
  hostOptions: Partial<SidecarHost.SidecarHostOptions> = {}
) =>
  Effect.scoped(Effect.gen(function*() {
    const dir = yield* tempDir("sluice-shared-")
    const sidecars: Record<string, Sidecar> = {}
    for (const role of roles) sidecars[role] = startSidecar(dir, role)
    yield* Effect.addFinalizer(() => Effect.sync(() => Object.values(sidecars).forEach((s) => s.child.kill("SIGKILL"))))
    const scope = yield* Scope.make()
    const host = yield* SidecarHost.make({ dir, container: (role) => role, heartbeatTimeoutMs: 3_000, ...hostOptions }).pipe(Scope.provide(scope))
    const result = yield* f(dir, sidecars).pipe(Effect.provideService(ConnectorHost, host))
    yield* Scope.close(scope, Exit.void)
    const exits: Record<string, number | null | "running"> = {}
    for (const [role, sidecar] of Object.entries(sidecars)) {
      exits[role] = yield* Effect.promise(() => Promise.race([sidecar.exit, new Promise<"running">((r) => setTimeout(() => r("running"), 5_000))]))
    }
    return { result, sidecars, exits }
  }))

const dataOf = (dir: string) =>
  Effect.promise(async () => {
    const out: Record<string, Array<string>> = {}
    for (const file of (await readdir(dir)).sort()) {
      const lines = (await readFile(join(dir, file), "utf8")).split("\n").filter((l) => l.length > 0)
      out[file] = lines.map((l) => JSON.stringify(JSON.parse(l)["_sluice_data"])).sort()
    }
    return out
  })

const sync = (destinationDir: string | undefined, transport: "stdio" | "socket", count: number, extra: Partial<ReplicationInput> = {}) =>
  replicate({
    source: { connector: builtin("faker"), config: { count, seed: 3, records_per_state: 50 } },
    destination: destinationDir === undefined
      ? { connector: builtin("dev-null"), config: {} }
      : { connector: builtin("jsonl"), config: { path: destinationDir } },
    catalog,
    transport,
    limits: { killGracePeriod: "2 seconds", socketCount: 2 },
    ...extra
  })

const waitFor = <A>(f: () => Promise<A | undefined>, what: string, timeoutMs = 20_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const value = yield* Effect.promise(f)
      if (value !== undefined) return value
      yield* Effect.sleep(50)
    }
    return yield* Effect.die(new Error(`timed out waiting for ${what}`))
  })

const readPid = (path: string) => readFile(path, "utf8").then(Number, () => undefined)

describe("connectors through sidecars (no Kubernetes)", () => {
  for (const transport of ["stdio", "socket"] as const) {
    it.live(`faker → jsonl over ${transport}: the same records and stats as the direct path; sidecars exit 0 on done`, () =>
      Effect.scoped(Effect.gen(function*() {
        const direct = yield* tempDir("sluice-direct-")
        const viaSidecar = yield* tempDir("sluice-sidecar-")
        const expected = yield* sync(direct, transport, 300)
        assert.strictEqual(expected.status, "completed", JSON.stringify(expected.failures))
        const { result, sidecars, exits } = yield* withSidecars(["source", "destination"], () => sync(viaSidecar, transport, 300))
        assert.strictEqual(result.status, "completed", JSON.stringify(result.failures))
        assert.strictEqual(result.architecture.transport, transport)
        assert.strictEqual(result.stats.recordsCommitted, 900)
        assert.deepStrictEqual(result.streamStats.map((s) => [s.streamName, s.stats.recordsCommitted]), expected.streamStats.map((s) => [s.streamName, s.stats.recordsCommitted]))
        assert.deepStrictEqual(yield* dataOf(viaSidecar), yield* dataOf(direct))
        for (const [role, sidecar] of Object.entries(sidecars)) assert.strictEqual(exits[role], 0, `${role}: ${sidecar.output()}`)
      })), 60_000)
  }

  it.live("faker → dev-null over sockets through sidecars", () =>
    Effect.gen(function*() {
      const { result } = yield* withSidecars(["source", "destination"], () => sync(undefined, "socket", 500))
      assert.strictEqual(result.status, "completed", JSON.stringify(result.failures))
      assert.strictEqual(result.stats.recordsCommitted, 1500)
    }), 60_000)

  it.live("check, discover and spec through one connector sidecar; a missing command is a config_error", () =>
    Effect.gen(function*() {
      const { result, sidecars, exits } = yield* withSidecars(["connector"], () =>
        Effect.gen(function*() {
          const options = { role: "source" as const, connector: builtin("faker") }
          const status = yield* Runtime.check(options, { count: 10 })
          const discovered = yield* Runtime.discover(options, { count: 10 })
          const spec = yield* Runtime.spec(options)
          const missing = yield* Effect.flip(Runtime.check({ role: "source", connector: { command: ["/nonexistent/connector"] } }, {}))
          return { status, discovered, spec, missing }
        }), { container: () => "connector" })
      assert.strictEqual(result.status.status, "SUCCEEDED")
      assert.deepStrictEqual(result.discovered.streams.map((s) => s.name).sort(), ["products", "purchases", "users"])
      assert.strictEqual(result.spec.connectionSpecification["type"], "object")
      assert.strictEqual(result.missing.failureType, "config_error")
      assert.include(result.missing.externalMessage, "command not found: /nonexistent/connector")
      assert.strictEqual(exits["connector"], 0, sidecars["connector"]!.output())
    }), 60_000)

  it.live("a sidecar that never shows up fails the run with a clear reason instead of hanging", () =>
    Effect.gen(function*() {
      const { result } = yield* withSidecars([], () => Effect.flip(Runtime.spec({ role: "destination", connector: builtin("dev-null") })), { startTimeoutMs: 500 })
      assert.strictEqual(result.origin, "destination")
      assert.strictEqual(result.failureType, "transient_error")
      assert.match(result.externalMessage, /the destination container did not start: no connector sidecar reported within/)
    }), 30_000)

  it.live("a sidecar killed mid-run fails the attempt with a clear reason", () =>
    Effect.gen(function*() {
      let orphan: number | undefined
      const { result } = yield* withSidecars(["source", "destination"], (dir, sidecars) =>
        Effect.gen(function*() {
          const fiber = yield* Effect.forkChild(sync(undefined, "stdio", 50_000_000))
          orphan = yield* waitFor(() => readPid(join(dir, "source", "run-1", "pid")), "the source to start")
          yield* Effect.sleep(300)
          sidecars["source"]!.child.kill("SIGKILL")
          return yield* Fiber.join(fiber)
        }))
      // Without a pod around it the killed sidecar's connector lives on: the test cleans it up.
      if (orphan !== undefined && alive(orphan)) process.kill(orphan, "SIGKILL")
      assert.strictEqual(result.status, "failed")
      const reason = result.failures[0]!
      assert.strictEqual(reason.failureOrigin, "source")
      assert.strictEqual(reason.failureType, "system_error")
      assert.match(reason.externalMessage ?? "", /the source container stopped responding during read: its connector sidecar has not reported for \d+ s/)
    }), 60_000)

  it.live("cancelling a run terminates the sidecar's connector; the sidecar stays up for the next run", () =>
    Effect.gen(function*() {
      const { result, sidecars, exits } = yield* withSidecars(["source"], (dir) =>
        Effect.gen(function*() {
          const options: Runtime.RunOptions = { role: "source", connector: builtin("faker"), killGracePeriod: "2 seconds" }
          const fiber = yield* Effect.forkChild(Stream.runDrain(Runtime.read(options, { config: { count: 50_000_000 }, catalog })))
          const pid = yield* waitFor(() => readPid(join(dir, "source", "run-1", "pid")), "the connector to start")
          assert.isTrue(alive(pid))
          yield* Fiber.interrupt(fiber)
          const goneAfterCancel = !alive(pid)
          const status = yield* Runtime.check(options, { count: 1 })
          return { goneAfterCancel, status }
        }))
      assert.isTrue(result.goneAfterCancel, "the connector was stopped before the cancel returned")
      assert.strictEqual(result.status.status, "SUCCEEDED")
      assert.strictEqual(exits["source"], 0)
      assert.match(sidecars["source"]!.output(), /run-1: terminated by the worker/)
    }), 60_000)
})
