/**
 * One process at a time on an embedded data directory: an exclusive lock file (`sluice.lock`,
 * created with O_EXCL, holding the owner's pid) taken for the life of a scope. A lock whose process
 * is gone is stale and taken over. Store-internal; no SQL.
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { randomUUID } from "node:crypto"
import * as fs from "node:fs/promises"
import { join } from "node:path"
import { StoreError } from "../scheduler/StoreErrors.ts"

export const LOCK_FILE = "sluice.lock"

/** Another process (or another layer in this process) holds the data directory. */
export class StoreLocked extends Data.TaggedError("StoreLocked")<{
  readonly dataDir: string
  readonly lockFile: string
  readonly pid: number
}> {
  override get message() {
    const holder = this.pid === process.pid ? `this process (pid ${this.pid}) already has it open` : `process ${this.pid} holds it`
    return `The Sluice data directory ${this.dataDir} is in use: ${holder} (lock file ${this.lockFile}). ` +
      `The embedded database allows one process at a time. Stop the other Sluice process (for example a running ` +
      `\`sluice serve\`) or send the work to it, use another data directory, or set SLUICE_DATABASE_URL to share a ` +
      `PostgreSQL database. If no Sluice process is running, delete ${this.lockFile}.`
  }
}

const errnoOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : undefined

/** Whether a process with this pid exists (EPERM: it exists but belongs to another user). */
const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return errnoOf(error) === "EPERM"
  }
}

const lockError = (detail: string, cause: unknown) =>
  new StoreError({ operation: "lock the data directory", detail, retryable: false, cause })

/** Creates the lock file with O_EXCL; false when it already exists. */
const tryCreate = (lockFile: string, content: string) =>
  Effect.tryPromise({
    try: () => fs.writeFile(lockFile, content, { flag: "wx", mode: 0o600 }).then(() => true),
    catch: (error) => error
  }).pipe(Effect.catch((error) =>
    errnoOf(error) === "EEXIST"
      ? Effect.succeed(false)
      : Effect.fail(lockError(`cannot create ${lockFile}: ${String(error)}`, error))
  ))

/** The pid written in the lock file, undefined when the file vanished or holds no pid. */
const holderOf = (lockFile: string) =>
  Effect.promise(() => fs.readFile(lockFile, "utf8").then((text) => text, () => undefined)).pipe(
    Effect.map((text) => {
      const pid = Number.parseInt(text?.split(/\s/)[0] ?? "", 10)
      return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
    })
  )

/**
 * Holds `dataDir/sluice.lock` until the scope closes. Fails with StoreLocked naming the holder when
 * a live process has it. A lock left by a dead process is removed and taken.
 */
export const acquire = (dataDir: string): Effect.Effect<void, StoreLocked | StoreError, Scope.Scope> => {
  const lockFile = join(dataDir, LOCK_FILE)
  const content = `${process.pid} ${randomUUID()}\n`
  const release = Effect.promise(() =>
    fs.readFile(lockFile, "utf8").then((text) => text === content ? fs.rm(lockFile, { force: true }) : undefined, () => undefined)
  )
  const attempt = (tries: number): Effect.Effect<void, StoreLocked | StoreError> =>
    Effect.gen(function*() {
      if (yield* tryCreate(lockFile, content)) return
      // An empty lock file may be one that its creator is still writing: look again shortly.
      const pid = (yield* holderOf(lockFile)) ?? (yield* Effect.andThen(Effect.sleep("200 millis"), holderOf(lockFile)))
      if (pid !== undefined && (pid === process.pid || isAlive(pid))) {
        return yield* new StoreLocked({ dataDir, lockFile, pid })
      }
      if (tries <= 0) return yield* lockError(`cannot take over the stale lock ${lockFile}`, undefined)
      yield* Effect.logWarning(`removing the stale lock ${lockFile} (process ${pid ?? "unknown"} is gone)`)
      yield* Effect.promise(() => fs.rm(lockFile, { force: true }))
      return yield* attempt(tries - 1)
    })
  return Effect.acquireRelease(attempt(2), () => release)
}
