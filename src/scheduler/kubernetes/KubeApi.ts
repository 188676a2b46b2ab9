/**
 * The launcher's Kubernetes API calls: each one a promise from @kubernetes/client-node turned into an
 * Effect whose failure is a tagged KubeApiError that says whether it is transient (429, 5xx, dropped
 * connections) and is then retried with a Schedule; 403 gets a message naming the missing permission.
 */
import { ApiException } from "@kubernetes/client-node"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"

export class KubeApiError extends Data.TaggedError("KubeApiError")<{
  readonly operation: string
  /** The HTTP status, when the API server answered. */
  readonly status: number | undefined
  readonly detail: string
  readonly retryable: boolean
}> {
  override get message() {
    if (this.status === 403) {
      return `Kubernetes denied ${this.operation} (403 Forbidden): ${this.detail}. The service account of sluice serve needs a Role granting pods create/get/list/watch/delete, pods/status get and secrets create/patch/delete in its namespace (deploy/rbac.yaml, docs/kubernetes.md).`
    }
    return `Kubernetes ${this.operation} failed${this.status === undefined ? "" : ` (HTTP ${this.status})`}: ${this.detail}`
  }
}

const detailOf = (body: unknown): string => {
  if (typeof body === "string") {
    try {
      const parsed: unknown = JSON.parse(body)
      if (typeof parsed === "object" && parsed !== null && "message" in parsed && typeof parsed.message === "string") return parsed.message
    } catch {
      return body.slice(0, 500)
    }
    return body.slice(0, 500)
  }
  if (typeof body === "object" && body !== null && "message" in body && typeof body.message === "string") return body.message
  return "no details"
}

/** Transient: throttled, a server error, or no answer at all (a dropped or refused connection). */
export const isTransientStatus = (status: number | undefined): boolean => status === undefined || status === 429 || status >= 500

export const toKubeApiError = (operation: string, error: unknown): KubeApiError => {
  if (error instanceof ApiException) {
    const status = typeof error.code === "number" ? error.code : undefined
    return new KubeApiError({ operation, status, detail: detailOf(error.body), retryable: isTransientStatus(status) })
  }
  return new KubeApiError({ operation, status: undefined, detail: error instanceof Error ? error.message : String(error), retryable: true })
}

/** Exponential backoff from 200 ms with jitter, at most 6 retries (about 12 s in all). */
export const defaultRetrySchedule: Schedule.Schedule<unknown> = Schedule.max([Schedule.jittered(Schedule.exponential(Duration.millis(200), 2)), Schedule.recurs(6)])

/** Runs one API call, retrying transient failures on `schedule`. */
export const call = <A>(operation: string, run: () => Promise<A>, schedule: Schedule.Schedule<unknown> = defaultRetrySchedule) =>
  Effect.tryPromise({ try: run, catch: (error) => toKubeApiError(operation, error) }).pipe(
    Effect.retry({ schedule, while: (error) => error.retryable }),
    Effect.withSpan(`KubeApi.${operation.split(" ")[0] ?? operation}`)
  )
