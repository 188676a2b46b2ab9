/**
 * The retry policy of sync jobs as validated data (reference §1.1, §1.3): failure limits, the
 * complete-failure backoff, Airbyte's env vars, per-connection overrides and the backoff as an Effect
 * Schedule. Imports only `effect` and `src/engine`; no storage, no reads of `process.env`.
 */
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as SchemaErrors from "../engine/SchemaErrors.ts"

const Limit = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
const Seconds = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Base = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))

export const BackoffPolicy = Schema.Struct({
  minSeconds: Seconds.annotate({ description: "Wait after the first complete failure, in seconds.", default: 10 }),
  maxSeconds: Seconds.annotate({ description: "Upper bound of the wait, in seconds.", default: 1800 }),
  base: Base.annotate({ description: "Growth factor of the wait per successive complete failure.", default: 3 })
}).check(
  Schema.makeFilter((b) =>
    b.maxSeconds >= b.minSeconds ? undefined : { path: ["maxSeconds"], issue: `must be at least minSeconds (${b.minSeconds})` }
  )
)
export type BackoffPolicy = typeof BackoffPolicy.Type

export const RetryPolicy = Schema.Struct({
  maxSuccessiveCompleteFailures: Limit.annotate({ description: "The job fails on this many complete failures in a row.", default: 5 }),
  maxTotalCompleteFailures: Limit.annotate({ description: "The job fails on this many complete failures overall.", default: 10 }),
  maxSuccessivePartialFailures: Limit.annotate({ description: "The job fails on this many partial failures in a row.", default: 1000 }),
  maxTotalPartialFailures: Limit.annotate({ description: "The job fails on this many partial failures overall.", default: 20 }),
  backoff: BackoffPolicy
})
export type RetryPolicy = typeof RetryPolicy.Type

/** Per-connection overrides: the config file's `retry` block, every key optional. */
export const RetryOverrides = Schema.Struct({
  maxSuccessiveCompleteFailures: Schema.optionalKey(Limit),
  maxTotalCompleteFailures: Schema.optionalKey(Limit),
  maxSuccessivePartialFailures: Schema.optionalKey(Limit),
  maxTotalPartialFailures: Schema.optionalKey(Limit),
  backoff: Schema.optionalKey(Schema.Struct({
    minSeconds: Schema.optionalKey(Seconds),
    maxSeconds: Schema.optionalKey(Seconds),
    base: Schema.optionalKey(Base)
  }))
})
export type RetryOverrides = typeof RetryOverrides.Type

/** Airbyte's production defaults (`application.yml`, block `airbyte.retries`). */
export const defaults: RetryPolicy = {
  maxSuccessiveCompleteFailures: 5,
  maxTotalCompleteFailures: 10,
  maxSuccessivePartialFailures: 1000,
  maxTotalPartialFailures: 20,
  backoff: { minSeconds: 10, maxSeconds: 1800, base: 3 }
}

/** A retry setting that does not validate; `setting` is the env var or the config path. */
export class InvalidRetrySetting extends Data.TaggedError("InvalidRetrySetting")<{
  readonly setting: string
  readonly value: string
  readonly reason: string
}> {
  override get message() {
    return `Invalid retry setting ${this.setting}=${this.value}: ${this.reason}`
  }
}

/** Airbyte's env var for each setting, keyed by the setting's path in RetryPolicy. */
export const envVars = {
  maxSuccessiveCompleteFailures: "SYNC_JOB_RETRIES_COMPLETE_FAILURES_MAX_SUCCESSIVE",
  maxTotalCompleteFailures: "SYNC_JOB_RETRIES_COMPLETE_FAILURES_MAX_TOTAL",
  "backoff.minSeconds": "SYNC_JOB_RETRIES_COMPLETE_FAILURES_BACKOFF_MIN_INTERVAL_S",
  "backoff.maxSeconds": "SYNC_JOB_RETRIES_COMPLETE_FAILURES_BACKOFF_MAX_INTERVAL_S",
  "backoff.base": "SYNC_JOB_RETRIES_COMPLETE_FAILURES_BACKOFF_BASE",
  maxSuccessivePartialFailures: "SYNC_JOB_RETRIES_PARTIAL_FAILURES_MAX_SUCCESSIVE",
  maxTotalPartialFailures: "SYNC_JOB_RETRIES_PARTIAL_FAILURES_MAX_TOTAL"
} as const
export type SettingPath = keyof typeof envVars

const settingPaths = Object.keys(envVars) as ReadonlyArray<SettingPath>

const get = (policy: RetryPolicy, path: SettingPath): number => {
  switch (path) {
    case "backoff.minSeconds":
      return policy.backoff.minSeconds
    case "backoff.maxSeconds":
      return policy.backoff.maxSeconds
    case "backoff.base":
      return policy.backoff.base
    default:
      return policy[path]
  }
}

const set = (policy: RetryPolicy, path: SettingPath, value: number): RetryPolicy => {
  switch (path) {
    case "backoff.minSeconds":
      return { ...policy, backoff: { ...policy.backoff, minSeconds: value } }
    case "backoff.maxSeconds":
      return { ...policy, backoff: { ...policy.backoff, maxSeconds: value } }
    case "backoff.base":
      return { ...policy, backoff: { ...policy.backoff, base: value } }
    default:
      return { ...policy, [path]: value }
  }
}

const decodePolicy = Schema.decodeUnknownExit(RetryPolicy)

/** Validates a candidate policy; the first issue is reported under the name `nameOf` gives its path. */
const validate = (
  candidate: RetryPolicy,
  nameOf: (path: SettingPath) => string
): Effect.Effect<RetryPolicy, InvalidRetrySetting> => {
  const exit = decodePolicy(candidate, { errors: "first", reportInput: false })
  if (Exit.isSuccess(exit)) return Effect.succeed(exit.value)
  const error = Cause.squash(exit.cause)
  const issue = Schema.isSchemaError(error) ? SchemaErrors.issuesOf(error)[0] : undefined
  const path = settingPaths.find((p) => p === issue?.path)
  return Effect.fail(
    new InvalidRetrySetting({
      setting: path === undefined ? "retry" : nameOf(path),
      value: path === undefined ? JSON.stringify(candidate) : String(get(candidate, path)),
      reason: issue?.message ?? "invalid retry policy"
    })
  )
}

const INTEGER = /^[+-]?\d+$/

/**
 * The policy from Airbyte's env vars (`process.env` or any record): unset or blank variables take
 * the defaults; a value that is not an integer in range fails naming the variable.
 */
export const fromEnv = (
  env: Readonly<Record<string, string | undefined>>,
  base: RetryPolicy = defaults
): Effect.Effect<RetryPolicy, InvalidRetrySetting> =>
  Effect.gen(function*() {
    let candidate = base
    for (const path of settingPaths) {
      const variable = envVars[path]
      const raw = env[variable]?.trim()
      if (raw === undefined || raw === "") continue
      if (!INTEGER.test(raw)) {
        return yield* new InvalidRetrySetting({ setting: variable, value: raw, reason: "expected an integer" })
      }
      candidate = set(candidate, path, Number(raw))
    }
    return yield* validate(candidate, (path) => envVars[path])
  })

/** Applies a connection's overrides (already decoded with RetryOverrides) and validates the result. */
export const withOverrides = (
  policy: RetryPolicy,
  overrides: RetryOverrides
): Effect.Effect<RetryPolicy, InvalidRetrySetting> => {
  const { backoff, ...limits } = overrides
  return validate(
    { ...policy, ...limits, backoff: { ...policy.backoff, ...backoff } },
    (path) => `retry.${path}`
  )
}

/**
 * The wait before the attempt that follows the n-th successive complete failure:
 * min(minSeconds × base^(n−1), maxSeconds) seconds for n ≥ 1, zero for n < 1; no jitter.
 */
export const backoffFor = (policy: RetryPolicy, n: number): Duration.Duration => {
  const { minSeconds, maxSeconds, base } = policy.backoff
  if (n < 1 || minSeconds === 0) return Duration.zero
  return Duration.seconds(Math.min(minSeconds * Math.pow(base, n - 1), maxSeconds))
}

/**
 * The complete-failure backoff as a Schedule: delays minSeconds × base^(k−1) capped at maxSeconds
 * (10 s, 30 s, 90 s, 270 s, 810 s, 1800 s, 1800 s… with the defaults); it never stops by itself.
 * `Schedule.min` keeps the shorter delay of the exponential and the fixed cap while either recurs.
 */
export const completeFailureBackoff = (policy: RetryPolicy): Schedule.Schedule<Duration.Duration> =>
  Schedule.min([
    Schedule.exponential(Duration.seconds(policy.backoff.minSeconds), policy.backoff.base),
    Schedule.spaced(Duration.seconds(policy.backoff.maxSeconds))
  ])
