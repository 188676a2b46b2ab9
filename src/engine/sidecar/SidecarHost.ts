/**
 * The ConnectorHost of a worker in a pod: connectors run in sidecar containers beside it, reached
 * through the shared directory (SidecarLayout.ts). Per run the worker writes the inputs (0600), makes
 * the named pipes, opens its ends without blocking, writes the invocation, and reads the exit record;
 * terminating a run writes its `terminate` marker. A sidecar that never shows up, never picks up a
 * run or stops heart-beating fails the run with a clear ConnectorFailure instead of hanging.
 * No SQL, HTTP or k8s here.
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { execFile } from "node:child_process"
import { constants, openSync } from "node:fs"
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { Socket } from "node:net"
import { promisify } from "node:util"
import { type ConnectorCommand, ConnectorFailure, type ConnectorRole } from "../ConnectorFailure.ts"
import type { ConnectorHost } from "../ConnectorHost.ts"
import {
  captureStderr,
  cannotStart,
  type ExitStatus,
  type ProcessOptions,
  type RunningProcess,
  runEnv,
  spawnFailed,
  writeInputs
} from "../ConnectorProcess.ts"
import * as Layout from "./SidecarLayout.ts"

export interface SidecarHostOptions {
  /** The shared directory (the pod's emptyDir mount). */
  readonly dir: string
  /** The container (its directory under `dir`) that runs a role: `source`, `destination`, or `connector`. */
  readonly container: (role: ConnectorRole) => string
  /** How long a sidecar may take to show up (default 2 minutes: containers of a pod start together). */
  readonly startTimeoutMs?: number | undefined
  /** How long a ready sidecar may take to pick up a run (default 1 minute). */
  readonly pickupTimeoutMs?: number | undefined
  /** A sidecar whose heartbeat is older than this is lost (default 30 s). */
  readonly heartbeatTimeoutMs?: number | undefined
}

const execFileAsync = promisify(execFile)

const failure = (role: ConnectorRole, command: ConnectorCommand, failureType: "system_error" | "transient_error", externalMessage: string, internalMessage: string) =>
  new ConnectorFailure({ origin: role, command, failureType, externalMessage, internalMessage, fromTraceMessage: false })

const readExit = (path: string): Promise<Layout.ExitRecord | undefined> =>
  readFile(path, "utf8").then(
    (text) => Schema.decodeUnknownSync(Layout.ExitRecord)(JSON.parse(text)),
    () => undefined
  )

/** Polls `check` until it answers or `timeoutMs` passes. */
const poll = <A>(check: () => Promise<A | undefined>, timeoutMs: number): Effect.Effect<Option.Option<A>> =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    while (true) {
      const value = yield* Effect.promise(check)
      if (value !== undefined) return Option.some(value)
      if (Date.now() >= deadline) return Option.none()
      yield* Effect.sleep(Layout.POLL_MS)
    }
  })

/** Opens the write end of a named pipe once its reader is there (a non-blocking open fails with ENXIO until then). */
const openWriter = (path: string): Promise<number | undefined> =>
  Promise.resolve().then(() => {
    try {
      return openSync(path, constants.O_WRONLY | constants.O_NONBLOCK)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENXIO") return undefined
      throw error
    }
  })

/** A non-blocking read end: no EOF until a writer has come and gone (Linux FIFO semantics). */
const openReader = (path: string) => new Socket({ fd: openSync(path, constants.O_RDONLY | constants.O_NONBLOCK), readable: true, writable: false })

/**
 * The host, in the current scope: it heartbeats to the sidecars while the scope is open and writes
 * `done` when it closes (the sidecars then exit).
 */
export const make = (options: SidecarHostOptions): Effect.Effect<ConnectorHost, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { dir } = options
    const startTimeoutMs = options.startTimeoutMs ?? 120_000
    const pickupTimeoutMs = options.pickupTimeoutMs ?? 60_000
    const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 30_000
    yield* Effect.promise(() => mkdir(dir, { recursive: true }))
    yield* Effect.promise(() => writeFile(Layout.workerHeartbeat(dir), String(Date.now()))).pipe(
      Effect.ignore,
      Effect.repeat(Schedule.spaced(Layout.HEARTBEAT_MS)),
      Effect.forkScoped
    )
    yield* Effect.addFinalizer(() => Effect.promise(() => Layout.writeAtomic(Layout.doneMarker(dir), String(Date.now()))).pipe(Effect.ignore))
    const runs = new Map<string, number>()

    const awaitSidecar = (container: string, role: ConnectorRole, command: ConnectorCommand) =>
      Effect.gen(function*() {
        const path = Layout.containerDir(dir, container)
        const ready = yield* poll(() => Layout.exists(Layout.sidecarInfo(path)).then((ok) => ok || undefined), startTimeoutMs)
        if (Option.isNone(ready)) {
          return yield* failure(
            role,
            command,
            "transient_error",
            `the ${role} container did not start: no connector sidecar reported within ${Duration.format(Duration.millis(startTimeoutMs))}`,
            `no ${Layout.sidecarInfo(path)} after ${startTimeoutMs} ms`
          )
        }
        return path
      })

    /** The next run number of a container: above any run already there (a restarted worker continues). */
    const nextRun = (container: string, path: string) =>
      Effect.promise(async () => {
        const known = runs.get(container) ?? Math.max(0, ...(await readdir(path).catch(() => [])).flatMap((name) => {
          const match = Layout.RUN_DIR.exec(name)
          return match === null ? [] : [Number(match[1])]
        }))
        runs.set(container, known + 1)
        return known + 1
      })

    const start = (
      options_: ProcessOptions,
      command: ConnectorCommand,
      inputs: Readonly<Record<string, unknown>>
    ): Effect.Effect<RunningProcess, ConnectorFailure, Scope.Scope> =>
      Effect.gen(function*() {
        const { role } = options_
        if (options_.connector.command.length === 0) {
          return yield* cannotStart(role, command, `the ${role} has an empty command`, "connector command argv is empty")
        }
        const container = options.container(role)
        const path = yield* awaitSidecar(container, role, command)
        const n = yield* nextRun(container, path)
        const run = Layout.runDir(path, n)
        const files = Layout.runFiles(run)
        const graceMs = Duration.toMillis(Duration.fromInputUnsafe(options_.killGracePeriod ?? "10 seconds"))
        const exited = yield* Deferred.make<ExitStatus>()
        let lost = false
        // Whatever happens next, the run ends terminated and its directory (inputs hold secrets) removed.
        yield* Effect.acquireRelease(
          Effect.promise(() => mkdir(run, { recursive: true, mode: 0o700 })),
          () =>
            Effect.gen(function*() {
              if (!lost && !(yield* Deferred.isDone(exited)) && (yield* Effect.promise(() => Layout.exists(files.invocation)))) {
                yield* Effect.promise(() => writeFile(files.terminate, String(Date.now()))).pipe(Effect.ignore)
                yield* poll(() => Layout.exists(files.exit).then((ok) => ok || undefined), graceMs + 5_000)
              }
              yield* Effect.promise(() => rm(run, { recursive: true, force: true }))
            })
        )
        const flags = yield* writeInputs(run, inputs)
        yield* Effect.promise(() => execFileAsync("mkfifo", ["-m", "600", files.stdin, files.stdout, files.stderr]))
        const stdout = openReader(files.stdout)
        const stderrPipe = openReader(files.stderr)
        const invocation: Layout.Invocation = {
          command,
          argv: [...options_.connector.command, command, ...flags],
          env: runEnv(options_),
          ...(options_.connector.cwd === undefined ? {} : { cwd: options_.connector.cwd }),
          killGraceMs: graceMs
        }
        yield* Effect.promise(() => Layout.writeAtomic(files.invocation, JSON.stringify(invocation)))

        const notPickedUp = failure(
          role,
          command,
          "transient_error",
          `the ${role} container did not pick up the ${command} within ${Duration.format(Duration.millis(pickupTimeoutMs))}`,
          `${run}: no reader on stdin after ${pickupTimeoutMs} ms`
        )
        const fd = yield* poll(() => openWriter(files.stdin), pickupTimeoutMs)
        if (Option.isNone(fd)) return yield* notPickedUp
        const stdin = new Socket({ fd: fd.value, readable: false, writable: true })
        stdin.on("error", () => {
          // EPIPE when the connector exits before reading all input: its exit status tells why.
        })
        const stderr = captureStderr(stderrPipe, options_)
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            stdin.destroy()
            stdout.destroy()
            stderrPipe.destroy()
          })
        )

        // Started (a pid) or not startable (an exit record with the spawn error).
        const started = yield* poll(async () => (await Layout.exists(files.pid)) ? "started" as const : await readExit(files.exit), pickupTimeoutMs)
        if (Option.isNone(started)) return yield* notPickedUp
        if (started.value !== "started" && started.value.error !== undefined) {
          const file = options_.connector.command[0] ?? ""
          return yield* spawnFailed(role, command, file, started.value.error)
        }

        const exitWatch = Effect.gen(function*() {
          const record = yield* poll(() => readExit(files.exit), Number.MAX_SAFE_INTEGER)
          if (Option.isNone(record)) return
          yield* Effect.promise(() => stderr.ended).pipe(Effect.timeoutOption("2 seconds"))
          yield* Deferred.succeed(exited, { code: record.value.code, signal: record.value.signal as NodeJS.Signals | null })
        })
        const exitFiber = yield* Effect.forkScoped(exitWatch)
        yield* Effect.addFinalizer(() => Fiber.interrupt(exitFiber))

        const watchHeartbeat: Effect.Effect<never, ConnectorFailure> = Effect.gen(function*() {
          while (true) {
            yield* Effect.sleep(Layout.HEARTBEAT_MS)
            if (yield* Deferred.isDone(exited)) return yield* Effect.never
            const age = yield* Effect.promise(() => Layout.ageOf(Layout.sidecarHeartbeat(path)))
            if (age === undefined || age > heartbeatTimeoutMs) {
              lost = true
              return yield* failure(
                role,
                command,
                "system_error",
                `the ${role} container stopped responding during ${command}: its connector sidecar has not reported for ${Math.round((age ?? heartbeatTimeoutMs) / 1000)} s (killed, out of memory or evicted?)`,
                `${Layout.sidecarHeartbeat(path)} is ${age === undefined ? "missing" : `${age} ms old`} (limit ${heartbeatTimeoutMs} ms)`
              )
            }
          }
        })

        const running: RunningProcess = {
          id: `${container} run ${n}`,
          stdin,
          stdout,
          exit: Deferred.await(exited),
          stderrTail: stderr.tail,
          lost: watchHeartbeat
        }
        return running
      })

    const host: ConnectorHost = {
      kind: "sidecar",
      start,
      socketDir: Effect.acquireRelease(
        Effect.promise(async () => {
          const sockets = Layout.socketsDir(dir)
          await rm(sockets, { recursive: true, force: true })
          await mkdir(sockets, { recursive: true, mode: 0o700 })
          return sockets
        }),
        (sockets) => Effect.promise(() => rm(sockets, { recursive: true, force: true }))
      )
    }
    return host
  })
