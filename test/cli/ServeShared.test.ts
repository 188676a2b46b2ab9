/**
 * Two `sluice serve` processes on one PostgreSQL schema (when SLUICE_TEST_DATABASE_URL is set): they
 * share the workload queue, both launch work, and every workload runs exactly once.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as Serve from "../support/Serve.ts"

const url = process.env["SLUICE_TEST_DATABASE_URL"]
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
})
