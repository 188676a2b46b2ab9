/**
 * Two `sluice serve` processes on one PostgreSQL schema (when SLUICE_TEST_DATABASE_URL is set): they
 * share the workload queue, both launch work, and every workload runs exactly once; when one is
 * killed mid-sync, the other adopts its job and retries it from the committed state.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as Serve from "../support/Serve.ts"

const url = process.env["SLUICE_TEST_DATABASE_URL"]
const freshSchema = () => {
  const schema = `sluice_e2e_${randomBytes(4).toString("hex")}`
  psql(`CREATE SCHEMA ${schema}`)
  return { schema, url: `${url}${url!.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${schema}`)}` }
}
const psql = (sql: string) => execFileSync("psql", [url!, "-qtAc", `SET client_min_messages = warning; ${sql}`], { encoding: "utf8" }).trim()

describe.skipIf(url === undefined || url === "")("two sluice serve processes on one PostgreSQL", () => {
  it("share the queue and run every workload exactly once", { timeout: 180_000 }, async () => {
    const schema = `sluice_e2e_${randomBytes(4).toString("hex")}`
    psql(`CREATE SCHEMA ${schema}`)
    const shared = `${url}${url!.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${schema}`)}`
    const env = { SLUICE_DATABASE_URL: shared, MAX_CHECK_WORKERS: "3" }
    try {
      await Serve.withDir(async (dirA) =>
        Serve.withDir(async (dirB) => {
          const text = Serve.config({ shared: "{ count: 10, seed: 1 }" })
          await Serve.writeConfig(dirA, text)
          await Serve.writeConfig(dirB, text)
          const a = await Serve.startServe(dirA, env)
          const b = await Serve.startServe(dirB, env)
          try {
            const ids: Array<number> = []
            for (let i = 0; i < 10; i++) {
              for (const server of [a, b]) {
                const { body } = await server.api("POST", "/connections/shared/check")
                ids.push(body.source.id, body.destination.id)
              }
            }
            for (const id of ids) {
              const info = await Serve.until(async () => {
                const { body } = await a.api("GET", `/jobs/${id}`)
                return body.job.status === "succeeded" || body.job.status === "failed" ? body : undefined
              }, 120_000, `job ${id}`)
              assert.strictEqual(info.job.status, "succeeded")
              assert.strictEqual(info.attempts.length, 1)
            }
            assert.strictEqual(psql(`SELECT count(*) FROM ${schema}.workloads`), String(ids.length))
            assert.strictEqual(psql(`SELECT count(*) FROM ${schema}.workloads WHERE status = 'success'`), String(ids.length))
            assert.strictEqual(psql(`SELECT count(*) FROM ${schema}.attempts`), String(ids.length), "one attempt per job: no workload ran twice")
            assert.strictEqual(psql(`SELECT count(DISTINCT dataplane_id) FROM ${schema}.workloads`), "2", "both servers launched work")
          } finally {
            await a.stop()
            await b.stop()
          }
        })
      )
    } finally {
      psql(`DROP SCHEMA ${schema} CASCADE`)
    }
  })

  it("a server killed mid-sync: a live one adopts its job, the orphaned attempt fails with the reason, the retry resumes and succeeds", { timeout: 180_000 }, async () => {
    const { schema, url: shared } = freshSchema()
    const env = {
      SLUICE_DATABASE_URL: shared,
      SLUICE_DATAPLANE_HEARTBEAT_SECONDS: "1",
      SLUICE_TAKEOVER_AFTER_SECONDS: "4",
      SLUICE_HEARTBEAT_INTERVAL_SECONDS: "1",
      SLUICE_HEARTBEAT_TIMEOUT_SECONDS: "5",
      SLUICE_MONITOR_INTERVAL_SECONDS: "1"
    }
    const text = `import { defineConfig, destinations, sources } from "sluice"
export default defineConfig({
  connections: {
    adopted: { source: sources.faker({ count: 1000000, seed: 1, records_per_state: 1000 }), destination: destinations.devNull() }
  }
})
`
    let processes: Array<number> = []
    try {
      await Serve.withDir(async (dirA) =>
        Serve.withDir(async (dirB) => {
          await Serve.writeConfig(dirA, text)
          await Serve.writeConfig(dirB, text)
          const a = await Serve.startServe(dirA, env)
          let b: Serve.Server | undefined
          try {
            const sync = await a.api("POST", "/connections/adopted/sync")
            assert.strictEqual(sync.status, 200, JSON.stringify(sync.body))
            const id = sync.body.id
            await Serve.until(async () => {
              const { body } = await a.api("GET", `/jobs/${id}`)
              return (body.attempts[0]?.totalStats?.recordsCommitted ?? 0) > 0 ? true : undefined
            }, 60_000, "a first commit")
            processes = Serve.descendantsOf(a.child.pid!)
            assert.isTrue(processes.some((pid) => Serve.cmdline(pid).includes(" worker ")), "server A runs the worker")
            // B starts once A's launcher holds the workload, then A dies without any clean-up.
            b = await Serve.startServe(dirB, env)
            const dataplaneB = /dataplane (\S+)\)/.exec(b.output())![1]!
            a.child.kill("SIGKILL")
            let last: unknown
            const info = await Serve.until(async () => {
              const { body } = await b!.api("GET", `/jobs/${id}`)
              last = body
              return body.job.status === "succeeded" || body.job.status === "failed" || body.job.status === "cancelled" ? body : undefined
            }, 120_000, "the adopted job to end").catch(async (error: Error) => {
              // What each server, the workloads and the attempts' logs saw, to tell which step stalled.
              const logs = await Promise.all([0, 1].map((n) => b!.api("GET", `/jobs/${id}/attempts/${n}/logs`).then((r) => JSON.stringify(r.body))))
              const rows = psql(`SELECT id, status, dataplane_id, deadline, last_heartbeat_at, termination_source, termination_reason FROM ${schema}.workloads`)
              throw new Error(
                `${error.message}\njob: ${JSON.stringify(last)}\nworkloads:\n${rows}\n--- server A ---\n${a.output()}\n--- server B ---\n${b!.output()}` +
                  `\n--- attempt logs ---\n${logs.join("\n")}`
              )
            })
            assert.strictEqual(info.job.status, "succeeded", JSON.stringify(info.attempts.map((x: { failureSummary?: unknown }) => x.failureSummary)))
            assert.strictEqual(info.attempts.length, 2)
            assert.strictEqual(info.attempts[0].status, "failed")
            const reason = info.attempts[0].failureSummary.failures[0].externalMessage
            assert.match(reason, /heartbeats/)
            assert.isTrue(info.attempts[0].failureSummary.partialSuccess, "the orphaned attempt had committed records")
            assert.match(reason, new RegExp(`stopped sending dataplane heartbeats; ${dataplaneB} took the job over`))
            assert.isBelow(info.attempts[1].totalStats.recordsEmitted, 3 * 1000000, "the retry resumed from the committed state")
            assert.strictEqual(psql(`SELECT owner FROM ${schema}.jobs WHERE id = ${id}`), dataplaneB)
            assert.strictEqual(psql(`SELECT count(*) FROM ${schema}.workloads WHERE job_id = ${id}`), "2")
            assert.strictEqual(psql(`SELECT dataplane_id FROM ${schema}.workloads WHERE job_id = ${id} AND attempt_number = 1`), dataplaneB)
            await Serve.until(async () => processes.every((pid) => !Serve.alive(pid)) ? true : undefined, 30_000, "A's worker and connectors to exit")
          } finally {
            a.child.kill("SIGKILL")
            if (b !== undefined) assert.strictEqual(await b.stop(), 0, b.output())
          }
        })
      )
    } finally {
      for (const pid of processes) if (Serve.alive(pid)) process.kill(pid, "SIGKILL")
      psql(`DROP SCHEMA ${schema} CASCADE`)
    }
  })
})
