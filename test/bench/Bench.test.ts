/**
 * The benchmark still runs end to end and writes what the replication issue asks for: every scenario
 * (faker → dev-null over stdio, each socket serialization, stdio with PII hashing and a mapper, and
 * Sluice's relay alone) completes with all records, and the JSON and the SVG chart are written. A small
 * record count: this checks the harness, not the speed (numbers come from `npm run bench`).
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const run = fileURLToPath(new URL("../../bench/run.ts", import.meta.url))

interface Scenario {
  readonly name: string
  readonly transport: string
  readonly serialization: string
  readonly middleware: ReadonlyArray<string>
  readonly records: number
  readonly recordsPerSecond: number
  readonly mbPerSecond: number
  readonly peakRssMb: number
  readonly cpuSeconds: Record<string, number>
}

describe("npm run bench", () => {
  it("runs every scenario and writes the JSON and the chart", { timeout: 180_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-bench-test-"))
    try {
      const json = join(dir, "out.json")
      const svg = join(dir, "out.svg")
      const result = spawnSync(process.execPath, [run, "--records", "2000", "--json", json, "--svg", svg], { encoding: "utf8" })
      assert.strictEqual(result.status, 0, `${result.stdout}\n${result.stderr}`)
      const output = JSON.parse(readFileSync(json, "utf8")) as {
        readonly records: number
        readonly scenarios: ReadonlyArray<Scenario>
        readonly ratios: Record<string, number>
      }
      assert.strictEqual(output.records, 2000)
      assert.deepStrictEqual(output.scenarios.map((s) => s.name), [
        "stdio",
        "socket-sluice-protobuf",
        "socket-protobuf",
        "socket-jsonl",
        "stdio-pii-mapper",
        "stdio-relay-only"
      ])
      for (const s of output.scenarios) {
        assert.strictEqual(s.records, 2000, s.name)
        assert.isAbove(s.recordsPerSecond, 0, s.name)
        assert.isAbove(s.mbPerSecond, 0, s.name)
        assert.isAbove(s.peakRssMb, 0, s.name)
        assert.isAbove(s.cpuSeconds["sluice"]!, 0, s.name)
      }
      assert.deepStrictEqual(output.scenarios.map((s) => s.transport), ["stdio", "socket", "socket", "socket", "stdio", "stdio"])
      assert.deepStrictEqual(output.scenarios[4]!.middleware, ["stats", "pii-hash", "rename"])
      for (const ratio of ["socketOverStdio", "relayOnlyOverBaselineRelay", "stdioOverBaselineRelay"]) {
        assert.isAbove(output.ratios[ratio]!, 0, ratio)
      }
      const chart = readFileSync(svg, "utf8")
      assert.match(chart, /^<svg/)
      for (const s of output.scenarios) assert.include(chart, s.name)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
