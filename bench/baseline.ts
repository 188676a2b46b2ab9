/**
 * The hand-written pipelines `shared/reference/performance.md` measured its limits with, rebuilt so
 * that they run in the same bench run as Sluice (the VM's speed swings between runs; ratios within
 * one run do not):
 *
 * - `relay`: a source writing pre-built faker `users` RECORD lines → a relay process (parse each line,
 *   count per stream, stringify, one write per input chunk) → a sink that counts newlines.
 * - `socket`: the same pre-built lines over 4 Unix sockets straight into a newline-counting sink.
 *
 * Nothing here validates the protocol, keeps state ids or talks to connectors: these are ceilings,
 * not alternatives. `node bench/baseline.ts <relay|socket> --records N` prints `{ recordsPerSecond }`;
 * the other roles are the processes those pipelines spawn.
 *
 * Two roles are Airbyte-protocol connectors with the same near-zero cost, so that Sluice's own stdio
 * relay can be measured between them (bench/scenario.ts `--endpoints replay`): `protocol-source read`
 * writes the pre-built lines plus a STATE every 10 000 records (config `{ "records": N }`), and
 * `protocol-sink write` counts records by their line prefix and echoes each STATE (parsing only those).
 */
import { spawn } from "node:child_process"
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { createConnection, createServer, type Socket } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import * as FakerData from "../src/plugins/faker/FakerData.ts"
import { CONNECTOR_NODE_FLAGS } from "../src/plugins/builtin.ts"

const SOCKETS = 4
const POOL = 1000
const NEWLINE = 0x0a
const self = fileURLToPath(import.meta.url)

/** POOL distinct users RECORD lines as one buffer: what the source writes over and over. */
const pool = (): Buffer => {
  const users = FakerData.streamNamed("users")!
  let text = ""
  for (let i = 0; i < POOL; i++) {
    text += JSON.stringify({ type: "RECORD", record: { stream: "users", data: FakerData.generate(users, 1, i, POOL), emitted_at: Date.now() } }) + "\n"
  }
  return Buffer.from(text)
}

/** Where each line of `lines` starts, plus its end: `lines.subarray(0, offsets[n])` is the first n lines. */
const lineOffsets = (lines: Buffer): ReadonlyArray<number> => {
  const offsets: Array<number> = [0]
  for (let at = lines.indexOf(NEWLINE); at !== -1; at = lines.indexOf(NEWLINE, at + 1)) offsets.push(at + 1)
  return offsets
}

const countNewlines = (chunk: Buffer): number => {
  let n = 0
  for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, at + 1)) n++
  return n
}

/** Writes `records` lines (whole pools, the last one cut) to the writers in turn, with backpressure. */
const writeRecords = async (records: number, writers: ReadonlyArray<NodeJS.WritableStream>) => {
  const lines = pool()
  const offsets = lineOffsets(lines)
  let turn = 0
  for (let left = records; left > 0; left -= POOL) {
    const chunk = left >= POOL ? lines : lines.subarray(0, offsets[left])
    const writer = writers[turn++ % writers.length]!
    if (!writer.write(chunk)) await new Promise((resolve) => writer.once("drain", resolve))
  }
  await Promise.all(writers.map((w) => new Promise<void>((resolve) => w.end(() => resolve()))))
}

const STATE_EVERY = 10_000

const stateLine = (n: number) =>
  Buffer.from(JSON.stringify({ type: "STATE", state: { type: "STREAM", stream: { stream_descriptor: { name: "users" }, stream_state: { n } } } }) + "\n")

/** `protocol-source read`: `records` pre-built lines with a STATE after every STATE_EVERY and at the end. */
const protocolSource = async (records: number) => {
  const lines = pool()
  const offsets = lineOffsets(lines)
  const write = async (chunk: Buffer) => {
    if (!process.stdout.write(chunk)) await new Promise((resolve) => process.stdout.once("drain", resolve))
  }
  let written = 0
  while (written < records) {
    const n = Math.min(POOL, records - written)
    written += n
    await write(n === POOL ? lines : lines.subarray(0, offsets[n]))
    if (written % STATE_EVERY === 0 || written === records) await write(stateLine(written))
  }
}

/** `protocol-sink write`: counts RECORD lines by their prefix, parses every other line and echoes each STATE. */
const protocolSink = () => {
  const RECORD = Buffer.from('{"type":"RECORD"')
  let pending: Buffer | undefined
  let sinceState = 0
  process.stdin.on("data", (chunk: Buffer) => {
    const buffer = pending === undefined ? chunk : Buffer.concat([pending, chunk])
    let out = ""
    let start = 0
    for (let end = buffer.indexOf(NEWLINE); end !== -1; start = end + 1, end = buffer.indexOf(NEWLINE, start)) {
      if (end === start) continue
      if (end - start > RECORD.length && buffer.compare(RECORD, 0, RECORD.length, start, start + RECORD.length) === 0) {
        sinceState++
        continue
      }
      const message = JSON.parse(buffer.toString("utf8", start, end)) as { type: string; state?: Record<string, unknown> }
      if (message.type !== "STATE") continue
      out += JSON.stringify({ ...message, state: { ...message.state, destinationStats: { recordCount: sinceState } } }) + "\n"
      sinceState = 0
    }
    pending = start < buffer.length ? buffer.subarray(start) : undefined
    if (out !== "") process.stdout.write(out)
  })
}

/** The relay: whole lines of each input chunk parsed, counted per stream, re-encoded, written as one buffer. */
const relay = () => {
  const counts = new Map<string, number>()
  let pending = ""
  process.stdin.setEncoding("utf8")
  process.stdin.on("data", (text: string) => {
    const lines = (pending + text).split("\n")
    pending = lines.pop() ?? ""
    let out = ""
    for (const line of lines) {
      const message = JSON.parse(line) as { record: { stream: string } }
      counts.set(message.record.stream, (counts.get(message.record.stream) ?? 0) + 1)
      out += JSON.stringify(message) + "\n"
    }
    if (!process.stdout.write(out)) {
      process.stdin.pause()
      process.stdout.once("drain", () => process.stdin.resume())
    }
  })
  process.stdin.on("end", () => process.stdout.end())
}

/** The stdio sink: counts lines on stdin and prints the count on stderr. */
const stdioSink = () => {
  let n = 0
  process.stdin.on("data", (chunk: Buffer) => (n += countNewlines(chunk)))
  process.stdin.on("end", () => process.stderr.write(`${n}\n`))
}

const exited = (child: ReturnType<typeof spawn>, role: string) =>
  new Promise<void>((resolve, reject) =>
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`baseline ${role} exited with code ${code}`))))
  )

const node = (role: string, extra: ReadonlyArray<string>, stdio: Parameters<typeof spawn>[2]["stdio"]) =>
  spawn(process.execPath, [...CONNECTOR_NODE_FLAGS, self, role, ...extra], { stdio })

/** source → relay → sink over pipes; resolves with the records per second. */
const runRelay = async (records: number): Promise<number> => {
  const started = performance.now()
  // Each process writes straight into the next one's pipe (this process only hands the ends over).
  const sink = node("stdio-sink", [], ["pipe", "ignore", "pipe"])
  const relayProcess = node("relay-process", [], ["pipe", sink.stdin!, "inherit"])
  sink.stdin!.destroy()
  const source = node("source", ["--records", String(records)], ["ignore", relayProcess.stdin!, "inherit"])
  relayProcess.stdin!.destroy()
  let counted = ""
  sink.stderr!.setEncoding("utf8").on("data", (text: string) => (counted += text))
  await Promise.all([exited(source, "source"), exited(relayProcess, "relay"), exited(sink, "sink")])
  const seconds = (performance.now() - started) / 1000
  if (Number(counted.trim()) !== records) throw new Error(`baseline relay delivered ${counted.trim()} of ${records} records`)
  return Math.round(records / seconds)
}

/** source → 4 Unix sockets → sink; resolves with the records per second. */
const runSocket = async (records: number): Promise<number> => {
  const dir = await mkdtemp(join(tmpdir(), "sluice-baseline-"))
  try {
    const paths = Array.from({ length: SOCKETS }, (_, i) => join(dir, `s${i}.sock`))
    const started = performance.now()
    const sink = node("socket-sink", ["--paths", paths.join(",")], ["ignore", "pipe", "inherit"])
    let out = ""
    sink.stdout!.setEncoding("utf8").on("data", (text: string) => (out += text))
    // The sink prints "listening" once every socket accepts connections.
    await new Promise<void>((resolve) => sink.stdout!.once("data", () => resolve()))
    const source = node("socket-source", ["--records", String(records), "--paths", paths.join(",")], ["ignore", "inherit", "inherit"])
    await Promise.all([exited(source, "source"), exited(sink, "sink")])
    const seconds = (performance.now() - started) / 1000
    const counted = Number(out.trim().split("\n").pop())
    if (counted !== records) throw new Error(`baseline socket delivered ${counted} of ${records} records`)
    return Math.round(records / seconds)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const socketSink = (paths: ReadonlyArray<string>) => {
  let n = 0
  let open = paths.length
  let listening = 0
  for (const path of paths) {
    const server = createServer((socket: Socket) => {
      socket.on("data", (chunk: Buffer) => (n += countNewlines(chunk)))
      socket.on("end", () => {
        server.close()
        if (--open === 0) process.stdout.write(`${n}\n`)
      })
    })
    server.listen(path, () => {
      if (++listening === paths.length) process.stdout.write("listening\n")
    })
  }
}

const socketSource = async (records: number, paths: ReadonlyArray<string>) => {
  const sockets = await Promise.all(paths.map((path) =>
    new Promise<Socket>((resolve, reject) => {
      const socket = createConnection(path, () => resolve(socket))
      socket.once("error", reject)
    })
  ))
  await writeRecords(records, sockets)
}

/** The pipelines run by bench/run.ts, in one place. */
export const runBaselines = async (records: number) => ({
  relayRecordsPerSecond: await runRelay(records),
  socketRecordsPerSecond: await runSocket(records)
})

if (process.argv[1] === self) {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      records: { type: "string", default: "1000000" },
      paths: { type: "string", default: "" },
      // The protocol roles' arguments (`read|write --config F --catalog F`).
      config: { type: "string" },
      catalog: { type: "string" }
    }
  })
  const records = values.config === undefined
    ? Number(values.records)
    : (JSON.parse(await readFile(values.config, "utf8")) as { records: number }).records
  const paths = values.paths === "" ? [] : values.paths.split(",")
  switch (positionals[0]) {
    case "relay":
      console.log(JSON.stringify({ recordsPerSecond: await runRelay(records) }))
      break
    case "socket":
      console.log(JSON.stringify({ recordsPerSecond: await runSocket(records) }))
      break
    case "source":
      await writeRecords(records, [process.stdout])
      break
    case "relay-process":
      relay()
      break
    case "stdio-sink":
      stdioSink()
      break
    case "socket-sink":
      socketSink(paths)
      break
    case "socket-source":
      await socketSource(records, paths)
      break
    case "protocol-source":
      await protocolSource(records)
      break
    case "protocol-sink":
      protocolSink()
      break
    default:
      throw new Error(`usage: node bench/baseline.ts <relay|socket> [--records N]`)
  }
}
