/**
 * `node bench/controlPlane.ts [--checks N] [--workers W] [--json FILE]`: the control plane under load.
 * Starts `sluice serve` (embedded store) on a temp config with the faker source and the dev-null
 * destination, enqueues N check jobs at once through the API (N/2 POST …/check, one job per
 * connector), and while they drain through W check slots measures the API's latency (GET /jobs/{id},
 * GET /jobs) and the jobs finished per second. Prints a summary and writes the JSON.
 */
import { spawn } from "node:child_process"
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { NODE_FLAGS } from "../src/plugins/builtin.ts"

const { values } = parseArgs({
  options: {
    checks: { type: "string", default: "1000" },
    workers: { type: "string", default: "5" },
    json: { type: "string", default: "bench/results/control-plane.json" }
  }
})
const checks = Number(values.checks)
const workers = Number(values.workers)
const sluice = fileURLToPath(new URL("../bin/sluice.js", import.meta.url))

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
const summary = (samples: ReadonlyArray<number>) => {
  const sorted = [...samples].sort((a, b) => a - b)
  return { count: sorted.length, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted[sorted.length - 1] ?? 0 }
}

const dir = await mkdtemp(join(tmpdir(), "sluice-bench-cp-"))
await writeFile(join(dir, "sluice.config.ts"), `import { defineConfig, destinations, sources } from "sluice"
export default defineConfig({ connections: { bench: { source: sources.faker({ count: 10, seed: 1 }), destination: destinations.devNull() } } })
`)
const child = spawn(process.execPath, [...NODE_FLAGS, sluice, "serve", "sluice.config.ts", "--port", "0"], {
  cwd: dir,
  env: { ...process.env, SLUICE_DATABASE_URL: "", MAX_CHECK_WORKERS: String(workers), SLUICE_LAUNCHER_POLL_MS: "100" },
  stdio: ["ignore", "pipe", "inherit"]
})
let output = ""
child.stdout.setEncoding("utf8").on("data", (text: string) => (output += text))
while (!/listening on (http:\/\/\S+) /.test(output)) await new Promise((r) => setTimeout(r, 50))
const url = /listening on (http:\/\/\S+) /.exec(output)![1]!

/** The fields of the API's answers the bench reads (CheckJobs, JobInfoRead, JobInfoLightRead). */
interface Answer {
  readonly source: { readonly id: number }
  readonly destination: { readonly id: number }
  readonly job: { readonly status: string }
}

const timed = async (method: string, path: string) => {
  const started = performance.now()
  const response = await fetch(`${url}/api/v1${path}`, { method })
  const body = (await response.json()) as Answer
  return { ms: performance.now() - started, body }
}

const enqueueLatency: Array<number> = []
const ids: Array<number> = []
const started = Date.now()
for (let i = 0; i < checks / 2; i++) {
  const { ms, body } = await timed("POST", "/connections/bench/check")
  enqueueLatency.push(ms)
  ids.push(body.source.id, body.destination.id)
}
const enqueuedAt = Date.now()

const readLatency: Array<number> = []
const pending = new Set(ids)
while (pending.size > 0) {
  const page = await timed("GET", "/jobs?limit=20")
  readLatency.push(page.ms)
  for (const id of [...pending].slice(0, 20)) {
    const { ms, body } = await timed("GET", `/jobs/${id}`)
    readLatency.push(ms)
    if (body.job.status === "succeeded" || body.job.status === "failed") pending.delete(id)
  }
  await new Promise((r) => setTimeout(r, 100))
}
const finishedAt = Date.now()
const failed = (await Promise.all(ids.map((id) => timed("GET", `/jobs/${id}/light`)))).filter((r) => r.body.job.status !== "succeeded").length
child.kill("SIGTERM")
await new Promise((r) => child.on("exit", r))
await rm(dir, { recursive: true, force: true })

const result = {
  scenario: "control-plane: queued check jobs through the process launcher (faker / dev-null, embedded store)",
  checkJobs: ids.length,
  maxCheckWorkers: workers,
  failedJobs: failed,
  enqueueSeconds: (enqueuedAt - started) / 1000,
  drainSeconds: (finishedAt - started) / 1000,
  jobsPerSecond: ids.length / ((finishedAt - started) / 1000),
  enqueueLatency: summary(enqueueLatency),
  readLatencyUnderLoad: summary(readLatency)
}
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
const out = resolve(values.json)
await mkdir(dirname(out), { recursive: true })
await writeFile(out, `${JSON.stringify(result, null, 2)}\n`)
