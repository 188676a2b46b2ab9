/**
 * One connector process spawned locally (the default ConnectorHost): a private temp dir for its input
 * files, the spawn (own process group, `WORKER_JOB_ID` / `WORKER_JOB_ATTEMPT` in its env), stderr
 * captured as logs, the exit status, and termination when the scope closes (SIGTERM to the group,
 * SIGKILL after a grace period). Also what every host shares: the running-process handle, the input
 * files and the stderr capture. No SQL, HTTP or k8s here.
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type ChildProcess, spawn } from "node:child_process"
import type { Readable, Writable } from "node:stream"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type ConnectorCommand, ConnectorFailure, type ConnectorRole } from "./ConnectorFailure.ts"
import type { IpcOptions } from "./IpcOptions.ts"
import { groupHasMembers, killGroup } from "./ProcessGroup.ts"

/** How to run a connector: an argv, plus what it declares. */
export interface ConnectorDefinition {
  /** argv; the protocol command and flags are appended (`[...command, "read", "--config", f, …]`). */
  readonly command: ReadonlyArray<string>
  readonly ipc?: IpcOptions | undefined
  /** Extra environment for the process (on top of the parent's). */
  readonly env?: Readonly<Record<string, string>> | undefined
  readonly cwd?: string | undefined
}

export type LogLevel = "FATAL" | "ERROR" | "WARN" | "INFO" | "DEBUG" | "TRACE"

export interface LogEntry {
  readonly origin: ConnectorRole
  /** stderr, a LOG message, or a stdout line that is not protocol. */
  readonly channel: "stderr" | "log" | "stdout"
  readonly level: LogLevel
  readonly message: string
  readonly timestamp: number
}

export interface ProcessOptions {
  readonly role: ConnectorRole
  readonly connector: ConnectorDefinition
  readonly jobId?: string | undefined
  readonly attempt?: number | undefined
  /** Grace period between SIGTERM and SIGKILL. Default 10 s. */
  readonly killGracePeriod?: Duration.Input | undefined
  readonly onLog?: ((entry: LogEntry) => void) | undefined
  /** Extra environment for this run (e.g. the data-channel variables). */
  readonly env?: Readonly<Record<string, string>> | undefined
}

export interface ExitStatus {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/** A started connector, wherever it runs: its stdio, its exit, its stderr tail. */
export interface RunningProcess {
  /** For logs: a pid, or a sidecar's invocation. */
  readonly id: string
  readonly stdin: Writable
  readonly stdout: Readable
  /** Completes when the process has exited and its stdio is closed. */
  readonly exit: Effect.Effect<ExitStatus>
  /** The last lines of stderr, for failure messages. */
  readonly stderrTail: () => string
  /**
   * Fails when the host loses the process without an exit status (a sidecar that stopped reporting);
   * never completes otherwise. Absent: the host cannot lose it (a local child).
   */
  readonly lost?: Effect.Effect<never, ConnectorFailure> | undefined
}

const STDERR_TAIL_LINES = 40

/**
 * Reads a connector's stderr line by line: each line goes to `onLog`, the last ones are kept for
 * failure messages. Returns the tail and a promise of the stream's end.
 */
export const captureStderr = (stderr: Readable, options: Pick<ProcessOptions, "role" | "onLog">) => {
  const tail: Array<string> = []
  let partial = ""
  const push = (line: string) => {
    tail.push(line)
    if (tail.length > STDERR_TAIL_LINES) tail.shift()
    options.onLog?.({ origin: options.role, channel: "stderr", level: "INFO", message: line, timestamp: Date.now() })
  }
  stderr.setEncoding("utf8")
  stderr.on("data", (text: string) => {
    const lines = (partial + text).split("\n")
    partial = lines.pop() ?? ""
    for (const raw of lines) {
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw
      if (line.length > 0) push(line)
    }
  })
  const ended = new Promise<void>((resolve) => {
    const done = () => {
      if (partial.length > 0) push(partial)
      partial = ""
      resolve()
    }
    stderr.once("end", done)
    stderr.once("close", done)
    stderr.once("error", done)
  })
  return { tail: () => tail.join("\n"), ended }
}

/** The failure of a connector that cannot be started at all (an empty argv, a missing file). */
export const cannotStart = (role: ConnectorRole, command: ConnectorCommand, externalMessage: string, internalMessage: string) =>
  new ConnectorFailure({ origin: role, command, failureType: "config_error", externalMessage, internalMessage, fromTraceMessage: false })

/** Why a spawn failed, for users: a missing command is named. */
export const spawnFailed = (role: ConnectorRole, command: ConnectorCommand, file: string, error: { readonly code?: string | undefined; readonly message: string }) =>
  cannotStart(
    role,
    command,
    error.code === "ENOENT" ? `cannot start the ${role}: command not found: ${file}` : `cannot start the ${role} (${file}): ${error.message}`,
    `spawn ${file}: ${error.message}`
  )

/** The environment a run adds to its host's: the connector's, the run's, and the job and attempt. */
export const runEnv = (options: ProcessOptions): Record<string, string> => ({
  ...options.connector.env,
  ...options.env,
  ...(options.jobId === undefined ? {} : { WORKER_JOB_ID: options.jobId }),
  ...(options.attempt === undefined ? {} : { WORKER_JOB_ATTEMPT: String(options.attempt) })
})

/** Writes each JSON input to `<dir>/<name>.json` with mode 0600 and returns the flags that name them. */
export const writeInputs = (dir: string, inputs: Readonly<Record<string, unknown>>) =>
  Effect.promise(async () => {
    const flags: Array<string> = []
    for (const [name, value] of Object.entries(inputs)) {
      if (value === undefined) continue
      const path = join(dir, `${name}.json`)
      await writeFile(path, JSON.stringify(value), { mode: 0o600 })
      flags.push(`--${name}`, path)
    }
    return flags
  })


/**
 * Spawns `connector.command <command> [--config f] [--catalog f] [--state f]`. The process, its
 * children and its temp dir are gone when the scope closes, whatever the outcome.
 */
export const spawnConnector = (
  options: ProcessOptions,
  command: ConnectorCommand,
  inputs: Readonly<Record<string, unknown>>
): Effect.Effect<RunningProcess, ConnectorFailure, Scope.Scope> =>
  Effect.gen(function*() {
    const [file, ...baseArgs] = options.connector.command
    if (file === undefined) {
      return yield* cannotStart(options.role, command, `the ${options.role} has an empty command`, "connector command argv is empty")
    }
    const dir = yield* Effect.acquireRelease(
      Effect.promise(() => mkdtemp(join(tmpdir(), `sluice-${options.role}-`))),
      (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
    )
    const flags = yield* writeInputs(dir, inputs)
    const exited = yield* Deferred.make<ExitStatus>()
    const grace = Duration.fromInputUnsafe(options.killGracePeriod ?? "10 seconds")

    const child = yield* Effect.acquireRelease(
      Effect.callback<ChildProcess, ConnectorFailure>((resume) => {
        const child = spawn(file, [...baseArgs, command, ...flags], {
          cwd: options.connector.cwd,
          detached: true,
          stdio: ["pipe", "pipe", "pipe"],
          env: { ...process.env, ...runEnv(options) }
        })
        child.once("spawn", () => resume(Effect.succeed(child)))
        child.once("error", (error: NodeJS.ErrnoException) => resume(Effect.fail(spawnFailed(options.role, command, file, error))))
        child.once("close", (code, signal) => Deferred.doneUnsafe(exited, Effect.succeed({ code, signal })))
      }),
      (child) =>
        Effect.gen(function*() {
          const pid = child.pid!
          if (child.exitCode === null && child.signalCode === null) {
            killGroup(pid, "SIGTERM")
            const done = yield* Deferred.await(exited).pipe(Effect.timeoutOption(grace))
            if (done._tag === "None") killGroup(pid, "SIGKILL")
            yield* Deferred.await(exited).pipe(Effect.timeoutOption("5 seconds"))
          }
          // Whatever the connector forked and left behind dies with it — but only while the group still
          // has members: once it is empty its id can be reused by an unrelated process group.
          if (groupHasMembers(pid)) killGroup(pid, "SIGKILL")
        })
    )

    child.stdin!.on("error", () => {
      // EPIPE when the connector exits before reading all input: its exit status tells why.
    })
    const stderr = captureStderr(child.stderr!, options)

    const running: RunningProcess = {
      id: `pid ${child.pid}`,
      stdin: child.stdin!,
      stdout: child.stdout!,
      exit: Deferred.await(exited),
      stderrTail: stderr.tail
    }
    return running
  })
