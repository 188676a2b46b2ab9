/**
 * What a pod's status means for its workload: still pending, running, succeeded, or failed with a
 * FailureReason-shaped cause (OOMKilled, image pull errors, unschedulable for too long, a container's
 * exit code, the pod deleted). Pure; imports the client's types and engine failure models only.
 */
import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node"
import type { FailureOrigin, FailureType } from "../../engine/replication/FailureReason.ts"
import { WORKER_CONTAINER } from "./PodSpec.ts"

export interface PodFailure {
  readonly failureOrigin: FailureOrigin
  readonly failureType: FailureType
  readonly retryable: boolean
  /** For the user: what happened and what to do. */
  readonly externalMessage: string
  readonly internalMessage: string
  /** The exit code handed to the launch loop (null: no code, e.g. deleted or never started). */
  readonly exitCode: number | null
}

export type PodOutcome =
  | { readonly _tag: "Pending" }
  | { readonly _tag: "Running" }
  | { readonly _tag: "Succeeded" }
  | { readonly _tag: "Failed"; readonly failure: PodFailure }

const IMAGE_ERRORS = new Set(["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"])
const CONFIG_ERRORS = new Set(["CreateContainerConfigError", "CreateContainerError"])

const originOf = (container: string): FailureOrigin =>
  container === "source" ? "source" : container === "destination" ? "destination" : container === "connector" ? "source" : "airbyte_platform"

const statuses = (pod: V1Pod): ReadonlyArray<V1ContainerStatus> => [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]

const limitOf = (pod: V1Pod, container: string): string | undefined =>
  pod.spec?.containers.find((c) => c.name === container)?.resources?.limits?.["memory"]

const failed = (failure: PodFailure): PodOutcome => ({ _tag: "Failed", failure })

/**
 * The outcome of `pod` at `now` (epoch ms); `unschedulableAfterMs` bounds how long a pod may stay
 * unschedulable. `null` means the pod was deleted before its workload ended.
 */
export const outcomeOf = (pod: V1Pod | null, now: number, unschedulableAfterMs: number): PodOutcome => {
  if (pod === null) {
    return failed({
      failureOrigin: "airbyte_platform",
      failureType: "transient_error",
      retryable: true,
      externalMessage: "The workload's pod was deleted before it finished.",
      internalMessage: "pod deleted",
      exitCode: null
    })
  }
  const name = pod.metadata?.name ?? "?"
  for (const status of statuses(pod)) {
    const terminated = status.state?.terminated
    if (terminated?.reason === "OOMKilled") {
      const limit = limitOf(pod, status.name)
      return failed({
        failureOrigin: originOf(status.name),
        failureType: "system_error",
        retryable: true,
        externalMessage: `The ${status.name} container ran out of memory (OOMKilled${limit === undefined ? "" : `, limit ${limit}`}). Raise its memory limit.`,
        internalMessage: `pod ${name}: container ${status.name} terminated OOMKilled (exit ${terminated.exitCode})`,
        exitCode: terminated.exitCode ?? 137
      })
    }
    const waiting = status.state?.waiting
    if (waiting?.reason !== undefined && IMAGE_ERRORS.has(waiting.reason)) {
      return failed({
        failureOrigin: originOf(status.name),
        failureType: "config_error",
        retryable: false,
        externalMessage: `Cannot pull the image ${status.image} of the ${status.name} container (${waiting.reason}). Check the image name and the image pull secrets.`,
        internalMessage: `pod ${name}: ${status.name} ${waiting.reason}: ${waiting.message ?? ""}`,
        exitCode: null
      })
    }
    if (waiting?.reason !== undefined && CONFIG_ERRORS.has(waiting.reason)) {
      return failed({
        failureOrigin: originOf(status.name),
        failureType: "config_error",
        retryable: false,
        externalMessage: `The ${status.name} container cannot be created (${waiting.reason}): ${waiting.message ?? "no details"}.`,
        internalMessage: `pod ${name}: ${status.name} ${waiting.reason}`,
        exitCode: null
      })
    }
  }
  const phase = pod.status?.phase
  if (phase === "Succeeded") return { _tag: "Succeeded" }
  if (phase === "Failed") {
    const terminatedOf = (container: string) => statuses(pod).find((s) => s.name === container)?.state?.terminated
    const worker = terminatedOf(WORKER_CONTAINER)
    const culprit = worker !== undefined && worker.exitCode !== 0
      ? { name: WORKER_CONTAINER, terminated: worker }
      : statuses(pod).map((s) => ({ name: s.name, terminated: s.state?.terminated })).find((s) => s.terminated !== undefined && s.terminated.exitCode !== 0)
    const code = culprit?.terminated?.exitCode ?? null
    const reason = pod.status?.reason ?? culprit?.terminated?.reason
    return failed({
      failureOrigin: culprit === undefined ? "airbyte_platform" : originOf(culprit.name),
      failureType: "system_error",
      retryable: true,
      externalMessage: culprit === undefined
        ? `The workload's pod failed${reason === undefined ? "" : ` (${reason})`}${pod.status?.message === undefined ? "" : `: ${pod.status.message}`}.`
        : `The ${culprit.name} container exited with code ${code}${reason === undefined ? "" : ` (${reason})`}.`,
      internalMessage: `pod ${name} failed: ${JSON.stringify({ reason, code, container: culprit?.name })}`,
      exitCode: code
    })
  }
  if (phase === "Running") return { _tag: "Running" }
  const scheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled")
  if (scheduled?.status === "False" && scheduled.reason === "Unschedulable") {
    const since = scheduled.lastTransitionTime === undefined ? Date.parse(pod.metadata?.creationTimestamp?.toString() ?? "") : new Date(scheduled.lastTransitionTime).getTime()
    if (Number.isFinite(since) && now - since >= unschedulableAfterMs) {
      return failed({
        failureOrigin: "airbyte_platform",
        failureType: "transient_error",
        retryable: true,
        externalMessage: `The workload's pod could not be scheduled for ${Math.round((now - since) / 1000)} s: ${scheduled.message ?? "no node fits"}. Check the node selectors, tolerations and resource requests.`,
        internalMessage: `pod ${name} unschedulable since ${new Date(since).toISOString()}`,
        exitCode: null
      })
    }
  }
  return { _tag: "Pending" }
}
