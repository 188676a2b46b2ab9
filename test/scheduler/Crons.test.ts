/**
 * Schedules: when a connection's next sync is due (`Crons.nextRunAt`, pure) for interval and cron
 * schedules — first run, next fire time, time zones, one catch-up after downtime — and the error that
 * names the connection and the expression of a cron that does not parse.
 */
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import type { ConnectionSchedule } from "../../src/scheduler/ConnectionSpecs.ts"
import * as Crons from "../../src/scheduler/Crons.ts"

const at = (iso: string) => Date.parse(iso)
const next = (schedule: ConnectionSchedule, last: string | undefined, since = "2026-01-01T00:00:00Z") => {
  const result = Crons.nextRunAt("demo", schedule, last === undefined ? undefined : at(last), at(since))
  assert.isTrue(Result.isSuccess(result), Result.isFailure(result) ? result.failure.message : "")
  const value = Result.getOrThrow(result)
  return value === undefined ? undefined : new Date(value).toISOString()
}
const cron = (expression: string, timezone = "UTC"): ConnectionSchedule => ({ _tag: "cron", cron: expression, timezone })

describe("Crons.nextRunAt", () => {
  it("manual connections never run by themselves", () => {
    assert.isUndefined(next({ _tag: "manual" }, undefined))
    assert.isUndefined(next({ _tag: "manual" }, "2026-01-01T10:00:00Z"))
  })

  it("interval: at once when it never ran, then the interval after the last sync", () => {
    const hourly: ConnectionSchedule = { _tag: "interval", everyMs: 3_600_000 }
    assert.strictEqual(next(hourly, undefined, "2026-01-01T08:00:00Z"), "2026-01-01T08:00:00.000Z")
    assert.strictEqual(next(hourly, "2026-01-01T10:00:05Z"), "2026-01-01T11:00:05.000Z")
  })

  it("cron: the first fire time after the last sync, or after scheduling began", () => {
    assert.strictEqual(next(cron("0 * * * *"), "2026-01-01T10:00:30Z"), "2026-01-01T11:00:00.000Z")
    assert.strictEqual(next(cron("0 * * * *"), undefined, "2026-01-01T10:20:00Z"), "2026-01-01T11:00:00.000Z")
    assert.strictEqual(next(cron("* * * * *"), undefined, "2026-01-01T10:20:00.500Z"), "2026-01-01T10:21:00.000Z")
    assert.strictEqual(next(cron("30 3 1 * *"), "2026-01-01T03:30:10Z"), "2026-02-01T03:30:00.000Z")
  })

  it("cron in a time zone: business hours in Berlin, across a weekend and a DST change", () => {
    const business = cron("*/15 9-17 * * MON-FRI", "Europe/Berlin")
    // Friday 17:50 in Berlin (CET, UTC+1): the next fire is Monday 09:00 Berlin.
    assert.strictEqual(next(business, "2026-01-09T16:50:00Z"), "2026-01-12T08:00:00.000Z")
    // Friday 27 March 2026 17:50 CET; DST starts on Sunday: Monday 09:00 CEST is 07:00 UTC.
    assert.strictEqual(next(business, "2026-03-27T16:50:00Z"), "2026-03-30T07:00:00.000Z")
  })

  it("cron after downtime: one catch-up sync, not one per missed fire time", () => {
    const nightly = cron("0 3 * * *")
    // The last sync ran two days ago; the server was down since: due now (the first missed time)…
    const due = next(nightly, "2026-01-01T03:00:20Z")
    assert.strictEqual(due, "2026-01-02T03:00:00.000Z")
    assert.isAtMost(at(due!), at("2026-01-03T03:30:00Z"))
    // …and once that catch-up ran (at 03:30 on the 3rd), the next one is the next night.
    assert.strictEqual(next(nightly, "2026-01-03T03:30:00Z"), "2026-01-04T03:00:00.000Z")
  })

  it("a cron that does not parse is an error naming the connection and the expression", () => {
    const bad = Crons.nextRunAt("nightly-orders", cron("61 * * * *"), undefined, Date.now())
    assert.isTrue(Result.isFailure(bad))
    const error = Result.isFailure(bad) ? bad.failure : undefined
    assert.strictEqual(error?._tag, "ScheduleInvalid")
    assert.match(error?.message ?? "", /^connection nightly-orders: invalid schedule cron "61 \* \* \* \*"/)
    const zone = Crons.nextRunAt("eu", cron("0 * * * *", "Mars/Olympus"), undefined, Date.now())
    assert.match(Result.isFailure(zone) ? zone.failure.message : "", /connection eu: .*"0 \* \* \* \*" \(time zone Mars\/Olympus\)/)
  })
})
