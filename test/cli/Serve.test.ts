/**
 * `sluice serve` end to end: a real server process on a temp config (faker → jsonl, embedded store),
 * driven over its HTTP API; workers and connectors are real processes, checked through /proc.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Serve from "../support/Serve.ts"

const TOKEN = "test-token"
const terminal = new Set(["succeeded", "failed", "cancelled"])

const finished = (server: Serve.Server, id: number) =>
  Serve.until(async () => {
    const { status, body } = await server.api("GET", `/jobs/${id}`)
    if (status !== 200) throw new Error(`GET /jobs/${id} answered ${status} ${JSON.stringify(body)}; server output:\n${server.output().slice(-4000)}`)
    return terminal.has(body.job.status) ? body : undefined
  }, 90_000, `job ${id} to end`)

describe("sluice serve (API, launcher, workers)", () => {
  it("syncs to succeeded with per-stream stats; a second sync is 409; auth, 400, 404, light and logs", { timeout: 120_000 }, () =>
    Serve.withDir(async (dir) => {
      await Serve.writeConfig(dir, Serve.config({ quickstart: "{ count: 200, seed: 1 }" }))
      const server = await Serve.startServe(dir, {}, TOKEN)
      try {
        assert.strictEqual((await server.api("GET", "/jobs", undefined, "")).status, 401)
        assert.strictEqual((await server.api("GET", "/jobs", undefined, "wrong")).status, 401)
        assert.strictEqual((await server.api("GET", "/health", undefined, "")).status, 200)
        const sync = await server.api("POST", "/connections/quickstart/sync")
        assert.strictEqual(sync.status, 200, JSON.stringify(sync.body))
        const second = await server.api("POST", "/connections/quickstart/sync")
        assert.strictEqual(second.status, 409)
        assert.strictEqual(second.body._tag, "ActiveJobExists")
        const info = await finished(server, sync.body.id)
        assert.strictEqual(info.job.status, "succeeded", JSON.stringify(info))
        const users = info.attempts[0].streamStats.find((s: { streamName: string }) => s.streamName === "users")
        assert.strictEqual(users.stats.recordsCommitted, 200)
        const light = await server.api("GET", `/jobs/${sync.body.id}/light`)
        assert.deepStrictEqual(Object.keys(light.body), ["job"])
        const logs = await server.api("GET", `/jobs/${sync.body.id}/attempts/0/logs?offset=0&limit=5`)
        assert.isAbove(logs.body.lines.length, 0)
        assert.strictEqual((await server.api("GET", "/jobs/999999")).status, 404)
        assert.strictEqual((await server.api("POST", "/connections/nope/sync")).status, 404)
        const bad = await server.api("GET", "/jobs?limit=zero")
        assert.strictEqual(bad.status, 400)
        assert.include(JSON.stringify(bad.body), "limit")
        const invalid = await server.api("POST", "/connections", { name: "broken", spec: { source: { kind: "source", connector: "faker", config: { count: "ten" } } } })
        assert.strictEqual(invalid.status, 400)
        assert.include(JSON.stringify(invalid.body), "source.config.count")
        const listed = Serve.sluiceCli(["jobs", "list", "--server", server.url, "--json"], { SLUICE_API_TOKEN: TOKEN })
        assert.deepStrictEqual(JSON.parse(listed).jobs.map((j: { id: number }) => j.id), [sync.body.id])
        assert.match(Serve.sluiceCli(["jobs", "get", String(sync.body.id), "--server", server.url], { SLUICE_API_TOKEN: TOKEN }), /attempt 0: succeeded/)
        assert.match(Serve.sluiceCli(["jobs", "logs", String(sync.body.id), "0", "--server", server.url], { SLUICE_API_TOKEN: TOKEN }), /\[platform\]/)
        const spec = await server.api("GET", "/openapi.json")
        assert.property(spec.body.paths, "/api/v1/connections/{name}/sync")
      } finally {
        assert.strictEqual(await server.stop(), 0, server.output())
      }
    }))

  it("the server's destination timeout and cap of pending states reach its workers", { timeout: 120_000 }, () =>
    Serve.withDir(async (dir) => {
      await Serve.writeConfig(dir, Serve.slowDestinationConfig())
      // The worker reads these limits from its workload input, not from its own environment.
      const server = await Serve.startServe(dir, { SLUICE_DESTINATION_TIMEOUT_SECONDS: "1", SLUICE_MAX_PENDING_STATES: "2" }, TOKEN)
      try {
        const sync = await server.api("POST", "/connections/slow/sync")
        assert.strictEqual(sync.status, 200, JSON.stringify(sync.body))
        const info = await finished(server, sync.body.id)
        assert.strictEqual(info.job.status, "failed", JSON.stringify(info))
        const [failure] = info.attempts[0].failureSummary.failures
        assert.deepStrictEqual([failure.failureOrigin, failure.failureType], ["destination", "destination_timeout"], JSON.stringify(failure))
        assert.include(failure.externalMessage, "acknowledged no state for 1s")
        assert.include(failure.externalMessage, "paused the source at its cap of 2 unacknowledged states")
      } finally {
        assert.strictEqual(await server.stop(), 0, server.output())
      }
    }))

  it("spec runs one get_spec job per connector; spec, catalog and connection status are on the attempts' output", { timeout: 120_000 }, () =>
    Serve.withDir(async (dir) => {
      await Serve.writeConfig(dir, Serve.config({ described: "{ count: 10, seed: 1 }" }))
      const server = await Serve.startServe(dir, {}, TOKEN)
      try {
        assert.strictEqual((await server.api("POST", "/connections/described/spec", undefined, "")).status, 401)
        assert.strictEqual((await server.api("POST", "/connections/nope/spec")).status, 404)
        const spec = await server.api("POST", "/connections/described/spec")
        assert.strictEqual(spec.status, 200, JSON.stringify(spec.body))
        assert.strictEqual(spec.body.source.configType, "get_spec")
        assert.strictEqual(spec.body.destination.configType, "get_spec")
        const discover = await server.api("POST", "/connections/described/discover")
        const check = await server.api("POST", "/connections/described/check")
        const source = await finished(server, spec.body.source.id)
        const destination = await finished(server, spec.body.destination.id)
        assert.strictEqual(source.job.status, "succeeded", JSON.stringify(source))
        assert.strictEqual(destination.job.status, "succeeded", JSON.stringify(destination))
        assert.property(source.attempts[0].output.spec.connectionSpecification.properties, "count", "the faker source's spec")
        assert.property(destination.attempts[0].output.spec.connectionSpecification.properties, "path", "the jsonl destination's spec")
        const catalog = (await finished(server, discover.body.id)).attempts[0].output.catalog
        assert.includeMembers(catalog.streams.map((s: { name: string }) => s.name), ["users"])
        assert.strictEqual((await finished(server, check.body.destination.id)).attempts[0].output.connectionStatus.status, "SUCCEEDED")
        const listed = await server.api("GET", "/jobs?type=get_spec")
        assert.sameMembers(listed.body.jobs.map((j: { id: number }) => j.id), [spec.body.source.id, spec.body.destination.id])
        const openapi = await server.api("GET", "/openapi.json")
        assert.property(openapi.body.paths, "/api/v1/connections/{name}/spec")
        const badCron = await server.api("POST", "/connections", {
          name: "badcron",
          spec: { source: { kind: "source", connector: "faker", config: { count: 1 } }, destination: { kind: "destination", connector: "dev-null", config: {} }, schedule: { cron: "61 * * * *" } }
        })
        assert.strictEqual(badCron.status, 400)
        assert.include(JSON.stringify(badCron.body), "schedule.cron")
      } finally {
        assert.strictEqual(await server.stop(), 0, server.output())
      }
    }))

  it("cancelling a long sync ends it cancelled with manual_cancellation and leaves no worker or connector", { timeout: 120_000 }, () =>
    Serve.withDir(async (dir) => {
      await Serve.writeConfig(dir, Serve.config({ long: "{ count: 50000000, seed: 1 }" }))
      const server = await Serve.startServe(dir)
      try {
        const sync = await server.api("POST", "/connections/long/sync")
        const processes = await Serve.until(async () => {
          const all = Serve.descendantsOf(server.child.pid!)
          return all.filter((pid) => Serve.cmdline(pid).includes(" connector ")).length >= 2 ? all : undefined
        }, 60_000, "worker and connectors")
        assert.isTrue(processes.some((pid) => Serve.cmdline(pid).includes(" worker ")))
        await Serve.sleep(500)
        const cancelled = await server.api("POST", `/jobs/${sync.body.id}/cancel`)
        assert.strictEqual(cancelled.status, 200)
        const info = await finished(server, sync.body.id)
        assert.strictEqual(info.job.status, "cancelled")
        assert.strictEqual(info.attempts[0].failureSummary.failures[0].failureType, "manual_cancellation")
        await Serve.until(async () => processes.every((pid) => !Serve.alive(pid)) ? true : undefined, 30_000, "processes to exit")
      } finally {
        await server.stop()
      }
    }))

  it("50 check jobs with MAX_CHECK_WORKERS=5 never run more than 5 workers at once and all finish", { timeout: 180_000 }, () =>
    Serve.withDir(async (dir) => {
      await Serve.writeConfig(dir, Serve.config({ checked: "{ count: 10, seed: 1 }" }))
      const server = await Serve.startServe(dir, { MAX_CHECK_WORKERS: "5" })
      try {
        const ids: Array<number> = []
        for (let i = 0; i < 25; i++) {
          const { body } = await server.api("POST", "/connections/checked/check")
          ids.push(body.source.id, body.destination.id)
        }
        let max = 0
        let done = false
        const sampler = (async () => {
          while (!done) {
            const workers = Serve.childrenOf(server.child.pid!).filter((pid) => Serve.cmdline(pid).includes(" worker "))
            max = Math.max(max, workers.length)
            await Serve.sleep(20)
          }
        })()
        for (const id of ids) assert.strictEqual((await finished(server, id)).job.status, "succeeded")
        done = true
        await sampler
        assert.isAtMost(max, 5)
        assert.isAtLeast(max, 2)
        const page = await server.api("GET", "/jobs?type=check_connection_source&status=succeeded&limit=100")
        assert.strictEqual(page.body.jobs.length, 25)
      } finally {
        await server.stop()
      }
    }))

  it("killing a worker mid-sync fails the attempt; the retry resumes from the committed state", { timeout: 180_000 }, () =>
    Serve.withDir(async (dir) => {
      const count = 400000
      await Serve.writeConfig(dir, Serve.config({ killed: `{ count: ${count}, seed: 1, records_per_state: 1000 }` }))
      const server = await Serve.startServe(dir)
      try {
        const sync = await server.api("POST", "/connections/killed/sync")
        await Serve.until(async () => {
          const { body } = await server.api("GET", `/jobs/${sync.body.id}`)
          return (body.attempts[0]?.totalStats?.recordsCommitted ?? 0) > 0 ? true : undefined
        }, 60_000, "a first commit")
        const worker = Serve.childrenOf(server.child.pid!).find((pid) => Serve.cmdline(pid).includes(" worker "))
        assert.isDefined(worker)
        process.kill(worker!, "SIGKILL")
        const info = await finished(server, sync.body.id)
        assert.strictEqual(info.job.status, "succeeded", JSON.stringify(info.attempts.map((a: { failureSummary?: unknown }) => a.failureSummary)))
        assert.strictEqual(info.attempts.length, 2)
        assert.strictEqual(info.attempts[0].status, "failed")
        assert.match(info.attempts[0].failureSummary.failures[0].externalMessage, /worker exited|heartbeat/)
        assert.isTrue(info.attempts[0].failureSummary.partialSuccess, "the killed attempt had committed records")
        const emitted = info.attempts[1].totalStats.recordsEmitted
        assert.isBelow(emitted, 3 * count, "the retry did not start from scratch")
      } finally {
        await server.stop()
      }
    }))
})
