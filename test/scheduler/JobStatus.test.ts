import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import * as JobStatus from "../../src/scheduler/JobStatus.ts"

type Expected = "changed" | "unchanged" | "illegal"

/** Reference §2.2, written out cell by cell: rows are `from`, columns are `to` in `jobStatuses` order. */
const table: Record<JobStatus.JobStatus, Record<JobStatus.JobStatus, Expected>> = {
  pending: { pending: "illegal", queued: "changed", running: "changed", incomplete: "changed", failed: "changed", succeeded: "illegal", cancelled: "changed" },
  queued: { pending: "changed", queued: "illegal", running: "changed", incomplete: "illegal", failed: "changed", succeeded: "illegal", cancelled: "changed" },
  running: { pending: "illegal", queued: "illegal", running: "illegal", incomplete: "changed", failed: "changed", succeeded: "changed", cancelled: "changed" },
  incomplete: { pending: "changed", queued: "illegal", running: "changed", incomplete: "changed", failed: "changed", succeeded: "changed", cancelled: "changed" },
  failed: { pending: "unchanged", queued: "unchanged", running: "unchanged", incomplete: "unchanged", failed: "unchanged", succeeded: "unchanged", cancelled: "unchanged" },
  succeeded: { pending: "unchanged", queued: "unchanged", running: "unchanged", incomplete: "unchanged", failed: "unchanged", succeeded: "unchanged", cancelled: "unchanged" },
  cancelled: { pending: "unchanged", queued: "unchanged", running: "unchanged", incomplete: "unchanged", failed: "unchanged", succeeded: "unchanged", cancelled: "unchanged" }
}

const outcome = (from: JobStatus.JobStatus, to: JobStatus.JobStatus): Expected =>
  Result.match(JobStatus.transition(from, to), { onSuccess: (changed) => changed, onFailure: () => "illegal" })

describe("JobStatus.transition", () => {
  for (const from of JobStatus.jobStatuses) {
    for (const to of JobStatus.jobStatuses) {
      it(`${from} → ${to}: ${table[from][to]}`, () => {
        assert.strictEqual(outcome(from, to), table[from][to])
      })
    }
  }

  it("names from, to and the job in the error", () => {
    const result = JobStatus.transition("running", "pending", 42)
    assert.isTrue(Result.isFailure(result))
    if (Result.isFailure(result)) {
      assert.strictEqual(result.failure._tag, "IllegalJobTransition")
      assert.strictEqual(result.failure.from, "running")
      assert.strictEqual(result.failure.to, "pending")
      assert.include(result.failure.message, "job 42 cannot go from running to pending")
    }
  })

  it("terminal statuses are exactly failed, succeeded, cancelled", () => {
    assert.deepStrictEqual(JobStatus.jobStatuses.filter(JobStatus.isTerminal), ["failed", "succeeded", "cancelled"])
  })

  it("sourcesOf lists the non-terminal statuses the table allows into a status", () => {
    for (const to of JobStatus.jobStatuses) {
      const expected = JobStatus.nonTerminalJobStatuses.filter((from) => table[from][to] === "changed")
      assert.deepStrictEqual(JobStatus.sourcesOf(to), expected)
    }
  })
})
