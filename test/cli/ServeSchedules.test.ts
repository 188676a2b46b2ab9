/**
 * Per-connection schedules in `sluice serve`: a connection with `schedule: { every }` gets a sync
 * without anyone asking, then waits for its interval; one with `schedule: { cron: "* * * * *" }` syncs
 * right after the next minute boundary; a connection without a schedule only syncs on request.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Serve from "../support/Serve.ts"

const config = `import { defineConfig, destinations, sources } from "sluice"
export default defineConfig({
  connections: {
    hourly: {
      source: sources.faker({ count: 20, seed: 1 }),
      destination: destinations.jsonl({ path: "./out/hourly" }),
      schedule: { every: "1 hour" }
    },
    minutely: {
      source: sources.faker({ count: 20, seed: 1 }),
      destination: destinations.jsonl({ path: "./out/minutely" }),
      schedule: { cron: "* * * * *" }
    },
    manual: {
      source: sources.faker({ count: 20, seed: 1 }),
      destination: destinations.jsonl({ path: "./out/manual" })
    }
  }
})
`

describe("sluice serve: schedules", () => {
  it("an interval schedule enqueues a sync at once, then waits; a cron fires at its next time; a manual connection never syncs by itself", { timeout: 180_000 }, () =>
    Serve.withDir(async (dir) => {
      await Serve.writeConfig(dir, config)
      const startedAt = Date.now()
      const server = await Serve.startServe(dir, { SLUICE_SCHEDULE_INTERVAL_SECONDS: "1" })
      try {
        const job = await Serve.until(async () => {
          const { body } = await server.api("GET", "/jobs?connection=hourly")
          const first = body.jobs[0]
          return first !== undefined && first.status === "succeeded" ? first : undefined
        }, 90_000, "the scheduled sync to succeed")
        assert.strictEqual(job.configType, "sync")
        // Several schedule ticks later: still one job (the next one is due in an hour), none for manual.
        await Serve.sleep(3000)
        assert.strictEqual((await server.api("GET", "/jobs?connection=hourly")).body.jobs.length, 1)
        assert.strictEqual((await server.api("GET", "/jobs?connection=manual")).body.jobs.length, 0)
        // The cron fires at the first minute boundary after scheduling began (a connection upserted
        // just after a boundary waits for the next one), checked every second.
        const minutely = await Serve.until(async () => {
          const { body } = await server.api("GET", "/jobs?connection=minutely")
          return body.jobs.at(-1)
        }, 130_000, "the cron's sync")
        assert.strictEqual(minutely.configType, "sync")
        const boundary = Math.floor(minutely.createdAt / 60_000) * 60_000
        assert.isAbove(boundary, startedAt, "not before the first fire time")
        assert.isAtMost(minutely.createdAt - boundary, 5_000, "enqueued right after a fire time")
        assert.isAtMost(boundary - startedAt, 120_000)
      } finally {
        assert.strictEqual(await server.stop(), 0, server.output())
      }
    }))
})
