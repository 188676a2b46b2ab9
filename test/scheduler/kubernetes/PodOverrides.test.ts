/**
 * Per-connection pod settings from sluice.config.ts: validated with their paths by the config's
 * Schema, read from a stored spec, and applied by the pod builder over the job types' settings.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { destinations, sources } from "sluice"
import { validateConfig } from "../../../src/config/Validation.ts"
import { ConnectionId, AttemptNumber, JobId } from "../../../src/scheduler/Ids.ts"
import * as JobTypeConfig from "../../../src/scheduler/kubernetes/JobTypeConfig.ts"
import * as PodOverrides from "../../../src/scheduler/kubernetes/PodOverrides.ts"
import * as PodSpec from "../../../src/scheduler/kubernetes/PodSpec.ts"
import { type Workload, WorkloadId } from "../../../src/scheduler/Workload.ts"

const connection = (kubernetes: unknown, extra: Record<string, unknown> = {}) => ({
  connections: { big: { source: sources.faker({ count: 10 }), destination: destinations.devNull(), kubernetes, ...extra } }
})

const issues = (input: unknown) => {
  const result = validateConfig(input, { baseDir: "/srv" })
  return "issues" in result ? result.issues.map((i) => `${i.path}: ${i.message}`) : []
}

const workload = (type: Workload["type"]): Workload => ({
  id: WorkloadId.make(`big_1_0_${type}`),
  type,
  status: "claimed",
  jobId: JobId.make(1),
  attemptNumber: AttemptNumber.make(0),
  connection: ConnectionId.make("big"),
  priority: 0,
  createdAt: 0,
  updatedAt: 0
} as Workload)

const overrides = {
  resources: { cpuLimit: "1", memoryLimit: "512Mi" },
  source: { cpuRequest: "2", cpuLimit: "4", memoryLimit: "4Gi" },
  destination: { cpuLimit: "3" },
  nodeSelectors: { "node.kubernetes.io/pool": "heavy" },
  tolerations: [{ key: "dedicated", operator: "Equal", value: "heavy", effect: "NoSchedule" }],
  annotations: { "example.com/owner": "data team" },
  labels: { team: "data" }
} as const

describe("per-connection pod settings (kubernetes: { … } in sluice.config.ts)", () => {
  it("a full block validates", () => {
    assert.deepStrictEqual(issues(connection(overrides)), [])
  })

  it("bad values are reported with their paths", () => {
    const found = issues(connection({
      source: { cpuLimit: "four" },
      resources: { memoryLimit: 5 },
      nodeSelectors: { "bad key!": "x", pool: "not a label value" },
      tolerations: [{ key: "k", effect: "Sometimes" }],
      cpu: 2
    }))
    const has = (prefix: string, text: string) =>
      assert.isTrue(found.some((line) => line.startsWith(prefix) && line.includes(text)), `${prefix} … ${text} in:\n${found.join("\n")}`)
    has("connections.big.kubernetes.source.cpuLimit", "expected a Kubernetes quantity")
    has("connections.big.kubernetes.resources.memoryLimit", "string")
    has("connections.big.kubernetes.nodeSelectors", "bad key!")
    has("connections.big.kubernetes.nodeSelectors.pool", "expected a label value")
    has("connections.big.kubernetes.tolerations[0].effect", "NoSchedule")
    has("connections.big.kubernetes.cpu", "")
  })

  it.effect("a stored spec's settings reach the pods of its workloads over the job types' settings", () =>
    Effect.gen(function*() {
      const spec = JSON.parse(JSON.stringify(connection(overrides, { resources: { source: { cpu: 8 }, destination: { memory: "1Gi" } } }).connections.big))
      const override = PodOverrides.fromSpec(spec)
      assert.isDefined(override)
      // `kubernetes.source` wins over the older `resources.source` field by field.
      assert.deepStrictEqual(override!.source, { cpuRequest: "2", cpuLimit: "4", memoryLimit: "4Gi" })
      assert.deepStrictEqual(override!.destination, { cpuLimit: "3", memoryRequest: "1Gi", memoryLimit: "1Gi" })
      assert.isUndefined(PodOverrides.fromSpec({ source: {}, destination: {} }))

      const jobTypes = yield* JobTypeConfig.fromEnv({ JOB_MAIN_CONTAINER_CPU_REQUEST: "100m", JOB_KUBE_NODE_SELECTORS: "pool=sync", CHECK_JOB_MAIN_CONTAINER_MEMORY_REQUEST: "64Mi" })
      const settings: PodSpec.PodSettings = { namespace: "sluice", image: "sluice:test", transport: "socket", jobTypes, connections: { big: override! } }
      const sync = PodSpec.buildPod(settings, { workload: workload("sync"), serverUrl: "http://sluice:8080" })
      const [worker, source, destination] = sync.spec!.containers
      assert.deepStrictEqual(source!.resources, { requests: { cpu: "2" }, limits: { cpu: "4", memory: "4Gi" } })
      assert.deepStrictEqual(destination!.resources, { requests: { cpu: "100m", memory: "1Gi" }, limits: { cpu: "3", memory: "1Gi" } })
      assert.deepStrictEqual(worker!.resources, { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } })
      assert.strictEqual(worker!.env!.find((e) => e.name === "SLUICE_SOCKET_COUNT")!.value, "6")
      assert.deepStrictEqual(sync.spec!.nodeSelector, { "node.kubernetes.io/pool": "heavy" })
      assert.deepStrictEqual(sync.spec!.tolerations, [{ key: "dedicated", operator: "Equal", value: "heavy", effect: "NoSchedule" }])
      assert.strictEqual(sync.metadata!.labels!["team"], "data")
      assert.strictEqual(sync.metadata!.labels!["sluice.io/connection"], "big")
      assert.strictEqual(sync.metadata!.annotations!["example.com/owner"], "data team")
      // A check pod's connector takes `resources`, then the check job type's, then the default's.
      const check = PodSpec.buildPod(settings, { workload: workload("check"), serverUrl: "http://sluice:8080" })
      assert.deepStrictEqual(check.spec!.containers[1]!.resources, { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "1", memory: "512Mi" } })
    }))
})
