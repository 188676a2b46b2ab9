/**
 * Pod status → workload outcome: phases, OOMKilled, image pull and config errors, unschedulable
 * past the limit, container exit codes and a deleted pod.
 */
import type { V1Pod, V1PodStatus } from "@kubernetes/client-node"
import { assert, describe, it } from "@effect/vitest"
import { outcomeOf } from "../../../src/scheduler/kubernetes/PodOutcome.ts"

const pod = (status: V1PodStatus): V1Pod => ({
  metadata: { name: "p", creationTimestamp: new Date(0) },
  spec: { containers: [{ name: "worker" }, { name: "source" }, { name: "destination", resources: { limits: { memory: "2Gi" } } }] },
  status
})
const terminated = (name: string, exitCode: number, reason?: string) => ({
  name, image: "sluice:test", imageID: "", ready: false, restartCount: 0, state: { terminated: { exitCode, ...(reason === undefined ? {} : { reason }) } }
})
const waiting = (name: string, reason: string) => ({ name, image: "sluice:test", imageID: "", ready: false, restartCount: 0, state: { waiting: { reason } } })

describe("PodOutcome", () => {
  it("maps phases and statuses", () => {
    const table: ReadonlyArray<readonly [string, V1Pod | null, string, RegExp | undefined, number | null | undefined]> = [
      ["pending", pod({ phase: "Pending" }), "Pending", undefined, undefined],
      ["running", pod({ phase: "Running" }), "Running", undefined, undefined],
      ["succeeded", pod({ phase: "Succeeded" }), "Succeeded", undefined, undefined],
      ["oom while running", pod({ phase: "Running", containerStatuses: [terminated("destination", 137, "OOMKilled")] }), "Failed", /destination container ran out of memory \(OOMKilled, limit 2Gi\)/, 137],
      ["image pull", pod({ phase: "Pending", containerStatuses: [waiting("source", "ImagePullBackOff")] }), "Failed", /Cannot pull the image sluice:test/, null],
      ["config error", pod({ phase: "Pending", containerStatuses: [waiting("worker", "CreateContainerConfigError")] }), "Failed", /cannot be created/, null],
      ["worker exit", pod({ phase: "Failed", containerStatuses: [terminated("worker", 3, "Error"), terminated("source", 0)] }), "Failed", /worker container exited with code 3/, 3],
      ["source exit", pod({ phase: "Failed", containerStatuses: [terminated("worker", 0), terminated("source", 1)] }), "Failed", /source container exited with code 1/, 1],
      ["evicted", pod({ phase: "Failed", reason: "Evicted", message: "low on memory" }), "Failed", /pod failed \(Evicted\): low on memory/, null],
      ["deleted", null, "Failed", /deleted/, null],
      ["unschedulable briefly", pod({ phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", lastTransitionTime: new Date(50_000) }] }), "Pending", undefined, undefined],
      ["unschedulable too long", pod({ phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/3 nodes", lastTransitionTime: new Date(0) }] }), "Failed", /could not be scheduled for 60 s: 0\/3 nodes/, null]
    ]
    for (const [name, input, tag, message, code] of table) {
      const outcome = outcomeOf(input, 60_000, 30_000)
      assert.strictEqual(outcome._tag, tag, name)
      if (outcome._tag === "Failed") {
        assert.match(outcome.failure.externalMessage, message!, name)
        assert.strictEqual(outcome.failure.exitCode, code, name)
      }
    }
  })

  it("image errors are not retryable config errors; OOM is retryable", () => {
    const image = outcomeOf(pod({ containerStatuses: [waiting("source", "ErrImagePull")] }), 0, 1)
    assert.isTrue(image._tag === "Failed" && image.failure.failureType === "config_error" && !image.failure.retryable && image.failure.failureOrigin === "source")
    const oom = outcomeOf(pod({ containerStatuses: [terminated("worker", 137, "OOMKilled")] }), 0, 1)
    assert.isTrue(oom._tag === "Failed" && oom.failure.retryable && oom.failure.failureOrigin === "airbyte_platform")
  })
})
