/**
 * The settings of `sluice serve` from the environment, with Airbyte's defaults: worker slots
 * (MAX_SYNC_WORKERS 10, MAX_CHECK_WORKERS 5), deadlines (claim 30 min, launch 30 min, start 10 min,
 * heartbeat 10 min), worker heartbeat every 10 s, monitor every minute, non-sync timeout 4 h, sync
 * timeout 30 days, queue redelivery 5 min, dataplane heartbeat every 30 s and takeover of a server's
 * jobs after 3 min without one; SLUICE_* knobs make them short for tests.
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type { ReplicationSettings } from "../scheduler/SyncAttempt.ts"

export class InvalidServeSetting extends Data.TaggedError("InvalidServeSetting")<{
  readonly variable: string
  readonly value: string
  readonly expected?: string
}> {
  override get message() {
    return `${this.variable} must be ${this.expected ?? "a positive number"}, got ${JSON.stringify(this.value)}`
  }
}

const vars = {
  maxSyncWorkers: ["MAX_SYNC_WORKERS", 10, 1],
  maxCheckWorkers: ["MAX_CHECK_WORKERS", 5, 1],
  heartbeatIntervalMs: ["SLUICE_HEARTBEAT_INTERVAL_SECONDS", 10, 1000],
  heartbeatTimeoutMs: ["SLUICE_HEARTBEAT_TIMEOUT_SECONDS", 600, 1000],
  claimTimeoutMs: ["SLUICE_CLAIM_TIMEOUT_SECONDS", 1800, 1000],
  launchTimeoutMs: ["SLUICE_LAUNCH_TIMEOUT_SECONDS", 1800, 1000],
  startTimeoutMs: ["SLUICE_START_TIMEOUT_SECONDS", 600, 1000],
  monitorIntervalMs: ["SLUICE_MONITOR_INTERVAL_SECONDS", 60, 1000],
  nonSyncTimeoutMs: ["NON_SYNC_WORKLOAD_TIMEOUT_SECONDS", 4 * 3600, 1000],
  syncTimeoutMs: ["SYNC_WORKLOAD_TIMEOUT_SECONDS", 30 * 86400, 1000],
  redeliveryMs: ["WORKLOAD_REDELIVERY_WINDOW_SECONDS", 300, 1000],
  pollIntervalMs: ["SLUICE_LAUNCHER_POLL_MS", 250, 1],
  scheduleIntervalMs: ["SLUICE_SCHEDULE_INTERVAL_SECONDS", 60, 1000],
  shutdownGraceMs: ["SLUICE_SHUTDOWN_GRACE_SECONDS", 30, 1000],
  dataplaneHeartbeatMs: ["SLUICE_DATAPLANE_HEARTBEAT_SECONDS", 30, 1000],
  takeoverAfterMs: ["SLUICE_TAKEOVER_AFTER_SECONDS", 180, 1000]
} as const

export type ServeSettings = { readonly [K in keyof typeof vars]: number }

type Env = Readonly<Record<string, string | undefined>>

/** A positive number from `variable` times `unit`: undefined when unset or blank, an error when not positive. */
export const positiveFromEnv = (env: Env, variable: string, unit: number): number | undefined | InvalidServeSetting => {
  const raw = env[variable]?.trim()
  if (raw === undefined || raw === "") return undefined
  const value = Number(raw)
  return Number.isFinite(value) && value > 0 ? Math.round(value * unit) : new InvalidServeSetting({ variable, value: raw })
}

export const settingsFromEnv = (env: Env) =>
  Effect.gen(function*() {
    const out: Partial<Record<keyof typeof vars, number>> = {}
    for (const [key, [variable, fallback, unit]] of Object.entries(vars) as ReadonlyArray<[keyof typeof vars, readonly [string, number, number]]>) {
      const value = positiveFromEnv(env, variable, unit)
      if (value instanceof InvalidServeSetting) return yield* value
      out[key] = value ?? fallback * unit
    }
    return out as ServeSettings
  })

/**
 * The replication limits an operator may tune (engine defaults when unset): how long the destination
 * may acknowledge nothing while states wait (SLUICE_DESTINATION_TIMEOUT_SECONDS, default 7200 as
 * Airbyte's destination-timeout.seconds), how many states may wait for an acknowledgement before
 * Sluice holds the source back (SLUICE_MAX_PENDING_STATES, default 10 000), and the source heartbeat
 * (SLUICE_SOURCE_HEARTBEAT_SECONDS, default 10 800, with SLUICE_SOURCE_HEARTBEAT_FAIL_SYNC, default
 * false: Airbyte's heartbeat.max-seconds-between-messages and heartbeat.failSync). Read by `sluice
 * sync` and by `sluice serve`, which sends them to its workers in each workload input.
 */
export const replicationSettingsFromEnv = (env: Env): Effect.Effect<ReplicationSettings, InvalidServeSetting> =>
  Effect.gen(function*() {
    const destinationTimeoutMs = positiveFromEnv(env, "SLUICE_DESTINATION_TIMEOUT_SECONDS", 1000)
    if (destinationTimeoutMs instanceof InvalidServeSetting) return yield* destinationTimeoutMs
    const raw = env["SLUICE_MAX_PENDING_STATES"]?.trim()
    const maxPendingStates = raw === undefined || raw === "" ? undefined : Number(raw)
    if (maxPendingStates !== undefined && !(Number.isInteger(maxPendingStates) && maxPendingStates > 0)) {
      return yield* new InvalidServeSetting({ variable: "SLUICE_MAX_PENDING_STATES", value: raw ?? "", expected: "a positive integer" })
    }
    const sourceHeartbeatTimeoutMs = positiveFromEnv(env, "SLUICE_SOURCE_HEARTBEAT_SECONDS", 1000)
    if (sourceHeartbeatTimeoutMs instanceof InvalidServeSetting) return yield* sourceHeartbeatTimeoutMs
    const failSync = env["SLUICE_SOURCE_HEARTBEAT_FAIL_SYNC"]?.trim().toLowerCase()
    if (failSync !== undefined && failSync !== "" && failSync !== "true" && failSync !== "false") {
      return yield* new InvalidServeSetting({ variable: "SLUICE_SOURCE_HEARTBEAT_FAIL_SYNC", value: failSync, expected: "true or false" })
    }
    return {
      ...(destinationTimeoutMs === undefined ? {} : { destinationTimeoutMs }),
      ...(maxPendingStates === undefined ? {} : { maxPendingStates }),
      ...(sourceHeartbeatTimeoutMs === undefined ? {} : { sourceHeartbeatTimeoutMs }),
      ...(failSync === "true" || failSync === "false" ? { sourceHeartbeatFailSync: failSync === "true" } : {})
    }
  })

/** The launcher `sluice serve` uses: SLUICE_LAUNCHER=process (default) or kubernetes. */
export const launcherFromEnv = (env: Readonly<Record<string, string | undefined>>) =>
  Effect.gen(function*() {
    const raw = env["SLUICE_LAUNCHER"]?.trim() ?? ""
    if (raw === "" || raw === "process") return "process" as const
    if (raw === "kubernetes") return "kubernetes" as const
    return yield* new InvalidServeSetting({ variable: "SLUICE_LAUNCHER", value: raw })
  })
