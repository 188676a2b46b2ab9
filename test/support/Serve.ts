/**
 * Helpers for end-to-end tests of `sluice serve`: start a real server process on a config in a temp
 * dir, call its API with fetch, and find a process's descendants through /proc.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { createServer } from "node:net"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { NODE_FLAGS } from "../../src/plugins/builtin.ts"

const sluice = fileURLToPath(new URL("../../bin/sluice.js", import.meta.url))

export interface Server {
  readonly child: ChildProcess
  readonly url: string
  readonly output: () => string
  readonly api: (method: string, path: string, body?: unknown, token?: string) => Promise<{ status: number; body: any }>
  readonly stop: () => Promise<number | null>
}

export const config = (connections: Record<string, string>) => `import { defineConfig, destinations, sources } from "sluice"
export default defineConfig({
  connections: {
${Object.entries(connections).map(([name, source]) => `    "${name}": { source: sources.faker(${source}), destination: destinations.jsonl({ path: "./out/${name}" }) }`).join(",\n")}
  }
})
`

/**
 * One connection `slow`: faker (300 records, a state every 20) into test/fixtures/connectors/
 * late-destination.ts acknowledging after 10 minutes, over stdio, one attempt allowed.
 */
export const slowDestinationConfig = () => {
  const late = fileURLToPath(new URL("../fixtures/connectors/late-destination.ts", import.meta.url))
  return `import { defineConfig, destinations, sources } from "sluice"
export default defineConfig({
  connections: {
    slow: {
      source: sources.faker({ count: 300, seed: 1, records_per_state: 20 }),
      destination: destinations.command({ command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(late)}], config: { delayMs: 600000 } }),
      transport: "stdio",
      retry: { maxSuccessiveCompleteFailures: 1 }
    }
  }
})
`
}

export const withDir = async (f: (dir: string) => Promise<void>) => {
  const dir = await mkdtemp(join(tmpdir(), "sluice-serve-"))
  try {
    await f(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export const writeConfig = (dir: string, text: string) => writeFile(join(dir, "sluice.config.ts"), text)

/** A TCP port that was free a moment ago (for a server that must come back on the same port). */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      probe.close(() => resolve(port))
    })
  })

export const startServe = async (dir: string, env: Record<string, string> = {}, token?: string, port = 0): Promise<Server> => {
  const child = spawn(process.execPath, [...NODE_FLAGS, sluice, "serve", "sluice.config.ts", "--port", String(port)], {
    cwd: dir,
    env: { ...process.env, SLUICE_DATABASE_URL: "", SLUICE_LAUNCHER_POLL_MS: "100", ...env, ...(token === undefined ? {} : { SLUICE_API_TOKEN: token }) },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout!.setEncoding("utf8").on("data", (t: string) => (output += t))
  child.stderr!.setEncoding("utf8").on("data", (t: string) => (output += t))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /listening on (http:\/\/\S+) /.exec(output)
      if (match !== null) {
        clearInterval(timer)
        resolve(match[1]!)
      }
      if (child.exitCode !== null) {
        clearInterval(timer)
        reject(new Error(`serve exited: ${output}`))
      }
    }, 50)
  })
  const api = async (method: string, path: string, body?: unknown, auth = token) => {
    const response = await fetch(`${url}/api/v1${path}`, {
      method,
      headers: { ...(auth === undefined ? {} : { authorization: `Bearer ${auth}` }), ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await response.text()
    return { status: response.status, body: text.length > 0 ? JSON.parse(text) : undefined }
  }
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM")
    return exited
  }
  return { child, url, output: () => output, api, stop }
}

export { alive, childrenOf, cmdline, descendantsOf } from "./Processes.ts"

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls `f` until it returns a defined value (or fails after `timeoutMs`). */
export const until = async <A>(f: () => Promise<A | undefined>, timeoutMs = 60_000, what = "condition"): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = await f()
    if (value !== undefined) return value
    await sleep(100)
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** Runs the `sluice` CLI to completion; returns its stdout (throws on a non-zero exit). */
export const sluiceCli = (args: ReadonlyArray<string>, env: Record<string, string> = {}): string =>
  execFileSync(process.execPath, [...NODE_FLAGS, sluice, ...args], { encoding: "utf8", env: { ...process.env, ...env } })
