/**
 * The container side of a connector run in a pod (`sluice connector-sidecar`): waits for the worker's
 * invocations in its directory of the shared volume, runs each connector as a local child process
 * (own process group) with its stdio on the run's named pipes, records its pid and exit, and stops
 * it on the run's `terminate` marker (SIGTERM, SIGKILL after the grace). Exits 0 when the worker
 * writes `done`, 1 when the worker never shows up or stops heart-beating. No SQL, HTTP or k8s here.
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { type ChildProcess, spawn } from "node:child_process"
import { statSync } from "node:fs"
import { mkdir, open, readdir, readFile, writeFile } from "node:fs/promises"
import { groupHasMembers, killGroup } from "../ProcessGroup.ts"
import * as Layout from "./SidecarLayout.ts"

export interface SidecarOptions {
  /** The shared directory. */
  readonly dir: string
  /** This container's name (`source`, `destination`, `connector`): its directory under `dir`. */
  readonly container: string
  /** Maps an invocation's argv to this container's (built-in connectors run with this image's sluice). */
  readonly resolveArgv?: ((argv: ReadonlyArray<string>) => ReadonlyArray<string>) | undefined
  /** How long to wait for the worker's first heartbeat (default 5 minutes). */
  readonly startTimeoutMs?: number | undefined
  /** The worker is gone when its heartbeat is older than this (default 1 minute). */
  readonly workerTimeoutMs?: number | undefined
  /** The sidecar's own messages (stderr in the CLI). */
  readonly onMessage?: ((line: string) => void) | undefined
}

type Ending = { readonly _tag: "Done" } | { readonly _tag: "WorkerLost"; readonly reason: string }

const isDirectory = (path: string) => {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/** The lowest run above `last` whose invocation is written. */
const nextInvocation = (path: string, last: number) =>
  Effect.promise(async () => {
    const numbers = (await readdir(path).catch(() => []))
      .flatMap((name) => {
        const match = Layout.RUN_DIR.exec(name)
        return match === null ? [] : [Number(match[1])]
      })
      .filter((n) => n > last)
      .sort((a, b) => a - b)
    for (const n of numbers) {
      if (await Layout.exists(Layout.runFiles(Layout.runDir(path, n)).invocation)) return n
    }
    return undefined
  })

/** Runs one invocation to its exit record. */
const runOne = (options: SidecarOptions, run: string) =>
  Effect.gen(function*() {
    const files = Layout.runFiles(run)
    const say = (line: string) => options.onMessage?.(`connector-sidecar ${options.container}: ${line}`)
    const writeExit = (record: Layout.ExitRecord) => Effect.promise(() => Layout.writeAtomic(files.exit, JSON.stringify(record))).pipe(Effect.ignore)
    const decoded = yield* Effect.promise(() => readFile(files.invocation, "utf8")).pipe(
      Effect.flatMap((text) => Effect.try({ try: () => JSON.parse(text) as unknown, catch: (error) => String(error) })),
      Effect.flatMap((json) => Schema.decodeUnknownEffect(Layout.Invocation)(json).pipe(Effect.mapError((error) => error.message))),
      Effect.result
    )
    if (decoded._tag === "Failure") {
      say(`invalid invocation in ${run}: ${decoded.failure}`)
      return yield* writeExit({ code: null, signal: null, error: { message: `invalid invocation: ${decoded.failure}` } })
    }
    const invocation = decoded.success
    const argv = options.resolveArgv?.(invocation.argv) ?? invocation.argv
    const [file, ...args] = argv
    if (file === undefined) return yield* writeExit({ code: null, signal: null, error: { message: "empty argv" } })

    // The worker holds the other ends: stdin's writer comes as soon as we wait for it; stdout and stderr have readers already.
    const fds = yield* Effect.promise(async () => [await open(files.stdin, "r"), await open(files.stdout, "w"), await open(files.stderr, "w")] as const)
    const exited = yield* Deferred.make<Layout.ExitRecord>()
    const child = yield* Effect.callback<ChildProcess | undefined>((resume) => {
      const child = spawn(file, args, {
        cwd: invocation.cwd !== undefined && isDirectory(invocation.cwd) ? invocation.cwd : process.cwd(),
        detached: true,
        stdio: [fds[0].fd, fds[1].fd, fds[2].fd],
        env: { ...process.env, ...invocation.env }
      })
      child.once("spawn", () => resume(Effect.succeed(child)))
      child.once("error", (error: NodeJS.ErrnoException) => {
        Deferred.doneUnsafe(exited, Effect.succeed({ code: null, signal: null, error: { ...(error.code === undefined ? {} : { code: error.code }), message: error.message } }))
        resume(Effect.succeed(undefined))
      })
      child.once("exit", (code, signal) => Deferred.doneUnsafe(exited, Effect.succeed({ code, signal })))
    })
    // Only the connector keeps the pipes open now: its exit is the worker's EOF.
    yield* Effect.promise(() => Promise.all(fds.map((fd) => fd.close())))
    if (child === undefined) {
      const record = yield* Deferred.await(exited)
      say(`cannot start ${file}: ${record.error?.message ?? ""}`)
      return yield* writeExit(record)
    }
    const pid = child.pid!
    yield* Effect.promise(() => Layout.writeAtomic(files.pid, String(pid)))
    say(`run ${run}: ${invocation.command} started (pid ${pid})`)

    const stop = Effect.gen(function*() {
      if (child.exitCode !== null || child.signalCode !== null) return
      killGroup(pid, "SIGTERM")
      const done = yield* Deferred.await(exited).pipe(Effect.timeoutOption(invocation.killGraceMs))
      if (done._tag === "None") killGroup(pid, "SIGKILL")
      yield* Deferred.await(exited).pipe(Effect.timeoutOption("5 seconds"))
    })
    const terminateWatch = Effect.gen(function*() {
      while (!(yield* Effect.promise(() => Layout.exists(files.terminate)))) yield* Effect.sleep(Layout.POLL_MS)
      say(`run ${run}: terminated by the worker`)
      yield* stop
    })
    const watcher = yield* Effect.forkChild(terminateWatch)
    // Stopped whatever ends this run: its exit, or the sidecar being stopped (interrupt).
    const record = yield* Deferred.await(exited).pipe(Effect.onInterrupt(() => stop))
    yield* Fiber.interrupt(watcher)
    // What the connector forked and left behind dies with it (only while the group still has members).
    if (groupHasMembers(pid)) killGroup(pid, "SIGKILL")
    say(`run ${run}: ${invocation.command} ended (${record.signal === null ? `exit code ${record.code}` : record.signal})`)
    yield* writeExit(record)
  })

/** Watches the worker: `done`, or gone (no heartbeat at start, or a stale one). */
const watchWorker = (options: SidecarOptions): Effect.Effect<Ending> =>
  Effect.gen(function*() {
    const startTimeoutMs = options.startTimeoutMs ?? 300_000
    const workerTimeoutMs = options.workerTimeoutMs ?? 60_000
    const started = Date.now()
    while (true) {
      if (yield* Effect.promise(() => Layout.exists(Layout.doneMarker(options.dir)))) return { _tag: "Done" } as const
      const age = yield* Effect.promise(() => Layout.ageOf(Layout.workerHeartbeat(options.dir)))
      if (age === undefined && Date.now() - started > startTimeoutMs) {
        return { _tag: "WorkerLost", reason: `no worker showed up in ${options.dir} within ${Duration.format(Duration.millis(startTimeoutMs))}` } as const
      }
      if (age !== undefined && age > workerTimeoutMs) {
        return { _tag: "WorkerLost", reason: `the worker stopped heart-beating (${Math.round(age / 1000)} s ago)` } as const
      }
      yield* Effect.sleep(Layout.POLL_MS * 2)
    }
  })

/** Runs the sidecar until the worker is done (0) or gone (1). Interrupting it stops the running connector. */
export const run = (options: SidecarOptions): Effect.Effect<number> =>
  Effect.gen(function*() {
    const path = Layout.containerDir(options.dir, options.container)
    yield* Effect.promise(() => mkdir(path, { recursive: true }))
    const beat = Effect.promise(() => writeFile(Layout.sidecarHeartbeat(path), String(Date.now()))).pipe(Effect.ignore)
    yield* beat
    yield* Effect.forkScoped(beat.pipe(Effect.repeat(Schedule.spaced(Layout.HEARTBEAT_MS))))
    yield* Effect.promise(() => Layout.writeAtomic(Layout.sidecarInfo(path), JSON.stringify({ container: options.container, pid: process.pid, startedAt: Date.now() })))
    options.onMessage?.(`connector-sidecar ${options.container}: ready in ${path}`)

    const loop = Effect.gen(function*() {
      let last = 0
      while (true) {
        const n = yield* nextInvocation(path, last)
        if (n === undefined) {
          yield* Effect.sleep(Layout.POLL_MS)
          continue
        }
        last = n
        yield* runOne(options, Layout.runDir(path, n))
      }
    })
    const ending = yield* Effect.raceFirst(watchWorker(options), loop)
    if (ending._tag === "Done") return 0
    options.onMessage?.(`connector-sidecar ${options.container}: ${ending.reason}; stopping`)
    return 1
  }).pipe(Effect.scoped)
