/**
 * `sluice sync` and `sluice jobs` as a user runs them: real CLI processes on a config file in a temp
 * dir (outside the repository), the embedded store, Ctrl-C.
 */
import { assert, describe, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { NODE_FLAGS } from "../../src/plugins/builtin.ts"
import { alive, childrenOf } from "../support/Processes.ts"
import { slowDestinationConfig } from "../support/Serve.ts"

const sluice = fileURLToPath(new URL("../../bin/sluice.js", import.meta.url))

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const start = (args: ReadonlyArray<string>, cwd: string, env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<Run> } => {
  const child = spawn(process.execPath, [...NODE_FLAGS, sluice, ...args], {
    cwd,
    env: { ...process.env, SLUICE_DATABASE_URL: "", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stdout!.setEncoding("utf8").on("data", (t: string) => (stdout += t))
  child.stderr!.setEncoding("utf8").on("data", (t: string) => (stderr += t))
  const done = new Promise<Run>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })))
  return { child, done }
}
const run = (args: ReadonlyArray<string>, cwd: string, env: NodeJS.ProcessEnv = {}) => start(args, cwd, env).done

const config = (source: string) => `import { defineConfig, destinations, sources } from "sluice"
export default defineConfig({
  connections: {
    quickstart: {
      source: sources.faker(${source}),
      destination: destinations.jsonl({ path: "./out" })
    }
  }
})
`

const withDir = async (f: (dir: string) => Promise<void>) => {
  const dir = await mkdtemp(join(tmpdir(), "sluice-cli-"))
  try {
    await f(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

describe("sluice sync (CLI)", () => {
  it("syncs, then syncs incrementally from the stored state; jobs list and get read the store", { timeout: 120_000 }, () =>
    withDir(async (dir) => {
      await writeFile(join(dir, "sluice.config.ts"), config("{ count: 200, seed: 1 }"))
      const first = await run(["sync", "sluice.config.ts"], dir)
      assert.strictEqual(first.code, 0, first.stderr)
      assert.match(first.stdout, /users\s+200\s+200/)
      assert.match(first.stdout, /job 1 succeeded after 1 attempt/)
      const second = await run(["sync", "sluice.config.ts", "--json"], dir)
      assert.strictEqual(second.code, 0, second.stderr)
      const info = JSON.parse(second.stdout)
      assert.strictEqual(info.job.status, "succeeded")
      assert.strictEqual(info.attempts[0].totalStats.recordsEmitted, 0)
      assert.strictEqual(readFileSync(join(dir, "out", "users.jsonl"), "utf8").trim().split("\n").length, 200)
      const list = await run(["jobs", "list", "--json"], dir)
      assert.strictEqual(list.code, 0, list.stderr)
      assert.deepStrictEqual(JSON.parse(list.stdout).map((j: { id: number }) => j.id), [2, 1])
      const get = await run(["jobs", "get", "1"], dir)
      assert.match(get.stdout, /attempt 0: succeeded/)
    }))

  it("a broken config fails with exit code 2 and names the path", { timeout: 60_000 }, () =>
    withDir(async (dir) => {
      await writeFile(join(dir, "sluice.config.ts"), config(`{ count: "ten" as unknown as number }`))
      const result = await run(["sync", "sluice.config.ts"], dir)
      assert.strictEqual(result.code, 2)
      assert.include(result.stderr, `connections.quickstart.source.config.count: expected a positive integer, got "ten"`)
    }))

  it("the destination timeout, the cap of pending states and the source heartbeat come from the environment", { timeout: 120_000 }, () =>
    withDir(async (dir) => {
      // A destination that would acknowledge only after 10 minutes, one attempt allowed.
      await writeFile(join(dir, "sluice.config.ts"), slowDestinationConfig())
      const env = { SLUICE_DESTINATION_TIMEOUT_SECONDS: "1", SLUICE_MAX_PENDING_STATES: "2" }
      const result = await run(["sync", "sluice.config.ts"], dir, env)
      assert.strictEqual(result.code, 1, result.stdout + result.stderr)
      assert.include(result.stderr, "destination destination_timeout: the destination acknowledged no state for 1s")
      assert.include(result.stderr, "paused the source at its cap of 2 unacknowledged states")
      const bad = await run(["sync", "sluice.config.ts"], dir, { SLUICE_DESTINATION_TIMEOUT_SECONDS: "soon" })
      assert.strictEqual(bad.code, 2)
      assert.include(bad.stderr, `SLUICE_DESTINATION_TIMEOUT_SECONDS must be a positive number, got "soon"`)
      const badFlag = await run(["sync", "sluice.config.ts"], dir, { SLUICE_SOURCE_HEARTBEAT_FAIL_SYNC: "maybe" })
      assert.strictEqual(badFlag.code, 2)
      assert.include(badFlag.stderr, `SLUICE_SOURCE_HEARTBEAT_FAIL_SYNC must be true or false, got "maybe"`)
    }))

  it("Ctrl-C cancels the job and leaves no connector process behind", { timeout: 120_000 }, () =>
    withDir(async (dir) => {
      await writeFile(join(dir, "sluice.config.ts"), config("{ count: 5000000, seed: 1 }"))
      const { child, done } = start(["sync", "sluice.config.ts"], dir)
      let connectors: Array<number> = []
      for (let i = 0; i < 100 && connectors.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 100))
        connectors = childrenOf(child.pid!)
      }
      assert.isAtLeast(connectors.length, 2, "source and destination started")
      await new Promise((r) => setTimeout(r, 1000))
      child.kill("SIGINT")
      const result = await done
      assert.strictEqual(result.code, 130, result.stderr)
      for (const pid of connectors) assert.isFalse(alive(pid), `connector ${pid} is gone`)
      const info = JSON.parse((await run(["jobs", "get", "1", "--json"], dir)).stdout)
      assert.strictEqual(info.job.status, "cancelled")
      assert.strictEqual(info.attempts[0].failureSummary.failures[0].failureType, "manual_cancellation")
    }))
})
