/**
 * The pod builder and job-type settings: containers per workload type, the shared volume, labels,
 * resources, node selectors, tolerations and annotations per job type with their fallbacks,
 * per-connection overrides, and the socket count from the CPU limits.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { AttemptNumber, ConnectionId, JobId } from "../../../src/scheduler/Ids.ts"
import * as JobTypeConfig from "../../../src/scheduler/kubernetes/JobTypeConfig.ts"
import * as PodSpec from "../../../src/scheduler/kubernetes/PodSpec.ts"
import { type Workload, WorkloadId, type WorkloadType } from "../../../src/scheduler/Workload.ts"

const workload = (type: WorkloadType, id = `conn_7_0_${type}`): Workload => ({
  id: WorkloadId.make(id),
  type,
  status: "claimed",
  jobId: JobId.make(7),
  attemptNumber: AttemptNumber.make(0),
  connection: ConnectionId.make("pg-to-pg"),
  priority: 0,
  createdAt: 0,
  updatedAt: 0
} as Workload)

const env = {
  JOB_MAIN_CONTAINER_CPU_REQUEST: "500m",
  JOB_MAIN_CONTAINER_CPU_LIMIT: "2",
  JOB_MAIN_CONTAINER_MEMORY_LIMIT: "2Gi",
  JOB_KUBE_NODE_SELECTORS: "pool=sync",
  JOB_KUBE_TOLERATIONS: "key=dedicated,operator=Equal,value=sync,effect=NoSchedule",
  JOB_KUBE_ANNOTATIONS: "team=data",
  CHECK_JOB_MAIN_CONTAINER_CPU_LIMIT: "250m",
  CHECK_JOB_KUBE_NODE_SELECTORS: "pool=check,zone=a",
  SPEC_JOB_KUBE_LABELS: "tier=spec"
}

const settings = (jobTypes: JobTypeConfig.JobTypeConfigs, extra: Partial<PodSpec.PodSettings> = {}): PodSpec.PodSettings => ({
  namespace: "sluice",
  image: "sluice:test",
  imagePullPolicy: "IfNotPresent",
  imagePullSecrets: ["regcred"],
  transport: "stdio",
  jobTypes,
  ...extra
})

const request = (w: Workload) => ({ workload: w, token: "secret-token", serverUrl: "http://sluice:8080" })

describe("JobTypeConfig", () => {
  it.effect("reads each job type and falls back to the default field by field", () =>
    Effect.gen(function*() {
      const configs = yield* JobTypeConfig.fromEnv(env)
      const check = JobTypeConfig.resolve(configs, "check")
      assert.deepStrictEqual(check.resources, { cpuLimit: "250m", cpuRequest: "500m", memoryLimit: "2Gi" })
      assert.deepStrictEqual(check.nodeSelectors, { pool: "check", zone: "a" })
      assert.deepStrictEqual(check.tolerations, [{ key: "dedicated", operator: "Equal", value: "sync", effect: "NoSchedule" }])
      const discover = JobTypeConfig.resolve(configs, "discover")
      assert.deepStrictEqual(discover.nodeSelectors, { pool: "sync" })
      assert.deepStrictEqual(JobTypeConfig.resolve(configs, "spec").labels, { tier: "spec" })
      assert.deepStrictEqual(JobTypeConfig.resolve(configs, "default").labels, {})
      const overridden = JobTypeConfig.resolve(configs, "default", { resources: { cpuLimit: "4" }, nodeSelectors: { pool: "big" } })
      assert.deepStrictEqual(overridden.resources, { cpuLimit: "4", cpuRequest: "500m", memoryLimit: "2Gi" })
      assert.deepStrictEqual(overridden.nodeSelectors, { pool: "big" })
    }))

  it.effect("rejects malformed quantities and pairs with the variable's name", () =>
    Effect.gen(function*() {
      for (const [variable, value] of [["JOB_MAIN_CONTAINER_CPU_LIMIT", "two"], ["CHECK_JOB_KUBE_LABELS", "novalue"], ["SPEC_JOB_KUBE_TOLERATIONS", "key=a,tolerationSeconds=x"]] as const) {
        const exit = yield* Effect.exit(JobTypeConfig.fromEnv({ [variable]: value }))
        assert.isTrue(Exit.isFailure(exit))
        const error = yield* Effect.flip(JobTypeConfig.fromEnv({ [variable]: value }))
        assert.include(error.message, variable)
      }
    }))

  it("cpuCores", () => {
    for (const [q, cores] of [["500m", 0.5], ["2", 2], ["1.5", 1.5]] as const) assert.strictEqual(JobTypeConfig.cpuCores(q), cores)
    assert.isNaN(JobTypeConfig.cpuCores("x"))
    assert.isNaN(JobTypeConfig.cpuCores(undefined))
  })
})

describe("PodSpec", () => {
  it.effect("a sync pod: worker, source and destination on a shared volume, labels, resources, placement", () =>
    Effect.gen(function*() {
      const pod = PodSpec.buildPod(settings(yield* JobTypeConfig.fromEnv(env)), request(workload("sync")))
      const spec = pod.spec!
      assert.deepStrictEqual(spec.containers.map((c) => c.name), ["worker", "source", "destination"])
      assert.strictEqual(spec.restartPolicy, "Never")
      assert.deepStrictEqual(spec.volumes, [{ name: PodSpec.SHARED_VOLUME, emptyDir: {} }])
      for (const c of spec.containers) {
        assert.deepStrictEqual(c.volumeMounts, [{ name: PodSpec.SHARED_VOLUME, mountPath: PodSpec.SHARED_DIR }])
        assert.isTrue(c.env!.some((e) => e.name === "SLUICE_SHARED_DIR" && e.value === PodSpec.SHARED_DIR), c.name)
        assert.strictEqual(c.image, "sluice:test")
        assert.strictEqual(c.imagePullPolicy, "IfNotPresent")
      }
      const [worker, source, destination] = spec.containers
      assert.deepStrictEqual(worker!.resources, { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } })
      assert.deepStrictEqual(source!.resources, { requests: { cpu: "500m" }, limits: { cpu: "2", memory: "2Gi" } })
      assert.deepStrictEqual(worker!.args, ["worker", "--workload", "conn_7_0_sync", "--server", "http://sluice:8080", "--connectors", "sidecar"])
      assert.deepStrictEqual(source!.args, ["connector-sidecar", "--role", "source"])
      assert.deepStrictEqual(destination!.args, ["connector-sidecar", "--role", "destination"])
      // The token is never in the pod spec: the worker reads it from the pod's Secret.
      assert.notInclude(JSON.stringify(pod), "secret-token")
      assert.deepStrictEqual(worker!.env!.find((e) => e.name === "SLUICE_WORKLOAD_TOKEN")!.valueFrom, {
        secretKeyRef: { name: `${pod.metadata!.name}-token`, key: PodSpec.TOKEN_KEY }
      })
      assert.isFalse(source!.env!.some((e) => e.name === "SLUICE_WORKLOAD_TOKEN"))
      const secret = PodSpec.buildTokenSecret(settings(yield* JobTypeConfig.fromEnv(env)), workload("sync"), "secret-token")
      assert.strictEqual(secret.metadata!.name, PodSpec.tokenSecretName(pod.metadata!.name!))
      assert.deepStrictEqual(secret.stringData, { [PodSpec.TOKEN_KEY]: "secret-token" })
      assert.strictEqual(secret.metadata!.labels![PodSpec.MANAGED_BY], "sluice")
      assert.isTrue(worker!.env!.some((e) => e.name === "PLATFORM_MODE" && e.value === "ORCHESTRATOR"))
      assert.deepStrictEqual(pod.metadata!.labels, {
        [PodSpec.MANAGED_BY]: "sluice",
        "sluice.io/job-id": "7",
        "sluice.io/attempt": "0",
        "sluice.io/workload-id": "conn_7_0_sync",
        "sluice.io/workload-type": "sync",
        "sluice.io/connection": "pg-to-pg"
      })
      assert.deepStrictEqual(pod.metadata!.annotations, { team: "data", [PodSpec.WORKLOAD_ANNOTATION]: "conn_7_0_sync" })
      assert.deepStrictEqual(spec.nodeSelector, { pool: "sync" })
      assert.deepStrictEqual(spec.imagePullSecrets, [{ name: "regcred" }])
      assert.strictEqual(spec.tolerations?.length, 1)
      assert.strictEqual(pod.metadata!.name, PodSpec.buildPod(settings(yield* JobTypeConfig.fromEnv({})), request(workload("sync"))).metadata!.name)
    }))

  it.effect("check, discover and spec pods: connector and worker with their job type's settings", () =>
    Effect.gen(function*() {
      const configs = yield* JobTypeConfig.fromEnv(env)
      const table: ReadonlyArray<readonly [WorkloadType, Record<string, string>, string | undefined]> = [
        ["check", { pool: "check", zone: "a" }, "250m"],
        ["discover", { pool: "sync" }, "2"],
        ["spec", { pool: "sync" }, "2"]
      ]
      for (const [type, selectors, cpuLimit] of table) {
        const pod = PodSpec.buildPod(settings(configs), request(workload(type)))
        assert.deepStrictEqual(pod.spec!.containers.map((c) => c.name), ["worker", "connector"], type)
        assert.deepStrictEqual(pod.spec!.nodeSelector, selectors, type)
        assert.strictEqual(pod.spec!.containers[1]!.resources!.limits?.["cpu"], cpuLimit, type)
        assert.strictEqual(pod.metadata!.labels!["sluice.io/workload-type"], type)
      }
      assert.strictEqual(PodSpec.buildPod(settings(configs), request(workload("spec"))).metadata!.labels!["tier"], "spec")
    }))

  it.effect("socket mode: bookkeeper, sockets on the shared volume, count from the CPU limits, per-connection overrides", () =>
    Effect.gen(function*() {
      const configs = yield* JobTypeConfig.fromEnv(env)
      const pod = PodSpec.buildPod(
        settings(configs, { transport: "socket", connections: { "pg-to-pg": { source: { cpuLimit: "4" }, destination: { cpuLimit: "3" } } } }),
        request(workload("sync"))
      )
      const [worker, source, destination] = pod.spec!.containers
      assert.isTrue(worker!.env!.some((e) => e.name === "PLATFORM_MODE" && e.value === "BOOKKEEPER"))
      const paths = source!.env!.find((e) => e.name === "DATA_CHANNEL_SOCKET_PATHS")!.value!.split(",")
      assert.strictEqual(paths.length, 6)
      assert.strictEqual(paths[0], `${PodSpec.SHARED_DIR}/sockets/sluice_socket_1.sock`)
      assert.isTrue(worker!.env!.some((e) => e.name === "SLUICE_SOCKET_COUNT" && e.value === "6"))
      assert.strictEqual(source!.resources!.limits!["cpu"], "4")
      assert.strictEqual(destination!.resources!.limits!["cpu"], "3")
      assert.strictEqual(source!.volumeMounts![0]!.mountPath, PodSpec.SHARED_DIR)
      assert.strictEqual(PodSpec.socketPaths({}, {}).length, 2)
    }))

  it("label values stay valid for long or odd ids", () => {
    assert.strictEqual(PodSpec.labelValue("conn_1_0_sync"), "conn_1_0_sync")
    const long = PodSpec.labelValue("x".repeat(100) + "_1_0_sync")
    assert.isAtMost(long.length, 63)
    assert.match(long, /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/)
    assert.match(PodSpec.labelValue("a b/c:"), /^a-b-c-[0-9a-f]{8}$/)
    assert.match(PodSpec.podName(workload("sync", "y".repeat(200))), /^[a-z0-9-]{1,63}$/)
  })
})
