/**
 * The contract between a worker and its connector sidecars over their shared directory (Airbyte's
 * model, reference §6.3): the file layout, the invocation a worker writes, the exit record a sidecar
 * writes, heartbeats, and atomic writes. Both sides import this; it imports only `effect` and node:fs.
 *
 * ```
 * <dir>/worker.heartbeat                 the worker touches it every second while it may send work
 * <dir>/done                             the worker sends no more work: sidecars exit 0
 * <dir>/sockets/                         the socket transport's Unix sockets (one attempt per pod)
 * <dir>/<container>/sidecar.json         a sidecar started (pid, time); then sidecar.heartbeat every second
 * <dir>/<container>/run-<n>/             one connector run, n = 1, 2, … in order:
 *     config.json catalog.json state.json    the inputs (mode 0600), named by flags in the argv
 *     stdin stdout stderr                    named pipes (made by the worker)
 *     invocation.json                        the run (written last, atomically): argv, env, grace
 *     pid | exit.json                        the sidecar started the connector | it exited (or could not start)
 *     terminate                              the worker stops the run: SIGTERM, SIGKILL after the grace
 * ```
 */
import * as Schema from "effect/Schema"
import { rename, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"

export const Invocation = Schema.Struct({
  command: Schema.Literals(["spec", "check", "discover", "read", "write"]),
  /** The connector's argv with the protocol command and its flags. */
  argv: Schema.Array(Schema.String),
  /** Added to the sidecar's environment (data-channel variables, the connector's env, job and attempt). */
  env: Schema.Record(Schema.String, Schema.String),
  /** Where to run it, when that directory exists in the sidecar's container. */
  cwd: Schema.optionalKey(Schema.String),
  /** Between SIGTERM and SIGKILL when the run is terminated. */
  killGraceMs: Schema.Int
})
export type Invocation = typeof Invocation.Type

export const ExitRecord = Schema.Struct({
  code: Schema.NullOr(Schema.Int),
  signal: Schema.NullOr(Schema.String),
  /** The connector could not be started (a spawn error: `code` is e.g. ENOENT). */
  error: Schema.optionalKey(Schema.Struct({ code: Schema.optionalKey(Schema.String), message: Schema.String }))
})
export type ExitRecord = typeof ExitRecord.Type

export const SidecarInfo = Schema.Struct({ container: Schema.String, pid: Schema.Int, startedAt: Schema.Int })

/** How often both sides touch their heartbeat and poll for files. */
export const HEARTBEAT_MS = 1000
export const POLL_MS = 100

export const workerHeartbeat = (dir: string) => join(dir, "worker.heartbeat")
export const doneMarker = (dir: string) => join(dir, "done")
export const socketsDir = (dir: string) => join(dir, "sockets")
export const containerDir = (dir: string, container: string) => join(dir, container)
export const sidecarInfo = (containerPath: string) => join(containerPath, "sidecar.json")
export const sidecarHeartbeat = (containerPath: string) => join(containerPath, "sidecar.heartbeat")
export const runDir = (containerPath: string, n: number) => join(containerPath, `run-${n}`)
export const RUN_DIR = /^run-([0-9]+)$/

export const runFiles = (run: string) => ({
  invocation: join(run, "invocation.json"),
  stdin: join(run, "stdin"),
  stdout: join(run, "stdout"),
  stderr: join(run, "stderr"),
  pid: join(run, "pid"),
  exit: join(run, "exit.json"),
  terminate: join(run, "terminate")
})

/** Writes a file so that readers never see it half-written (a temp file renamed into place). */
export const writeAtomic = async (path: string, text: string, mode = 0o600) => {
  const temp = `${path}.${process.pid}.tmp`
  await writeFile(temp, text, { mode })
  await rename(temp, path)
}

/** Milliseconds since the file was last written; undefined when it does not exist. */
export const ageOf = async (path: string): Promise<number | undefined> => {
  try {
    return Date.now() - (await stat(path)).mtimeMs
  } catch {
    return undefined
  }
}

export const exists = async (path: string) => (await ageOf(path)) !== undefined
