/**
 * A worker outlives a server killed with SIGKILL (it runs in a process group of its own). When the
 * server comes back on the same port and embedded store, the workload it left is failed at start, so
 * the orphaned worker's next heartbeat is answered 410 Gone: the worker stops its connectors and exits.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Serve from "../support/Serve.ts"

// No state message for a long time: while the server is down the worker only heartbeats (a failed
// state commit would end the attempt by itself, which is not what this test is about).
const config = `import { defineConfig, destinations, sources } from "sluice"
export default defineConfig({
  connections: {
    orphan: {
      source: sources.faker({ count: 1000000000, seed: 1, records_per_state: 1000000000 }),
      destination: destinations.devNull()
    }
  }
})
`

describe("sluice serve: a worker left by a crashed server", () => {
  it("gets 410 on its heartbeat after the restart and stops with its connectors", { timeout: 120_000 }, () =>
    Serve.withDir(async (dir) => {
      await Serve.writeConfig(dir, config)
      const port = await Serve.freePort()
      const env = { SLUICE_HEARTBEAT_INTERVAL_SECONDS: "1" }
      const first = await Serve.startServe(dir, env, undefined, port)
      let second: Serve.Server | undefined
      let processes: Array<number> = []
      try {
        const sync = await first.api("POST", "/connections/orphan/sync")
        assert.strictEqual(sync.status, 200, JSON.stringify(sync.body))
        processes = await Serve.until(async () => {
          const all = Serve.descendantsOf(first.child.pid!)
          return all.filter((pid) => Serve.cmdline(pid).includes(" connector ")).length >= 2 ? all : undefined
        }, 60_000, "worker and connectors")
        const worker = processes.find((pid) => Serve.cmdline(pid).includes(" worker "))
        assert.isDefined(worker)
        first.child.kill("SIGKILL")
        await Serve.until(async () => first.child.exitCode !== null || first.child.signalCode !== null ? true : undefined, 10_000, "the server to die")
        await Serve.sleep(1500)
        assert.isTrue(processes.every(Serve.alive), "the worker and its connectors outlive the killed server")

        second = await Serve.startServe(dir, env, undefined, port)
        const started = Date.now()
        await Serve.until(async () => processes.every((pid) => !Serve.alive(pid)) ? true : undefined, 30_000, "the orphans to exit")
        assert.isBelow(Date.now() - started, 30_000)
        // The worker's stderr is still the pipe of the first server's output.
        assert.include(first.output(), "stopped (the workload has ended)")
        const info = await second.api("GET", `/jobs/${sync.body.id}`)
        assert.strictEqual(info.body.job.status, "failed")
        assert.strictEqual(info.body.attempts[0].status, "failed")
        assert.match(info.body.attempts[0].failureSummary.failures[0].externalMessage, /Sluice stopped/)
      } finally {
        first.child.kill("SIGKILL")
        for (const pid of processes) if (Serve.alive(pid)) process.kill(pid, "SIGKILL")
        if (second !== undefined) assert.strictEqual(await second.stop(), 0, second.output())
      }
    }))
})
