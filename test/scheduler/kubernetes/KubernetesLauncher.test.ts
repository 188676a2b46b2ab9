/**
 * The Kubernetes launcher against the real API server of shared/k8s/test-cluster.sh (skipped unless
 * SLUICE_TEST_KUBECONFIG is set). No kubelet runs there: the test plays the node agent by writing
 * pods/status. A TCP proxy in front of the API server drops the launcher's connections on demand.
 */
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1ContainerStatus, type V1Pod, type V1PolicyRule } from "@kubernetes/client-node"
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Option, Schedule } from "effect"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { parseAllDocuments } from "yaml"
import { randomBytes } from "node:crypto"
import { dirname, join } from "node:path"
import { createServer, connect, type Server, type Socket } from "node:net"
import { AttemptNumber, ConnectionId, JobId } from "../../../src/scheduler/Ids.ts"
import * as JobTypeConfig from "../../../src/scheduler/kubernetes/JobTypeConfig.ts"
import * as KubernetesLauncher from "../../../src/scheduler/kubernetes/KubernetesLauncher.ts"
import type { PodFailure } from "../../../src/scheduler/kubernetes/PodOutcome.ts"
import { podName, tokenSecretName } from "../../../src/scheduler/kubernetes/PodSpec.ts"
import { Launcher } from "../../../src/scheduler/Launcher.ts"
import { syncId, type Workload, WorkloadId } from "../../../src/scheduler/Workload.ts"

const kubeconfigPath = process.env["SLUICE_TEST_KUBECONFIG"]
const restrictedPath = process.env["SLUICE_TEST_KUBECONFIG_RESTRICTED"] ?? (kubeconfigPath === undefined ? undefined : join(dirname(kubeconfigPath), "kubeconfig-restricted"))
if (kubeconfigPath === undefined) {
  process.stderr.write("KubernetesLauncher.test.ts: skipped (set SLUICE_TEST_KUBECONFIG, e.g. from `bash ../shared/k8s/test-cluster.sh start`)\n")
}

const namespace = `sluice-test-${randomBytes(4).toString("hex")}`
const loadConfig = (path: string) => {
  const kc = new KubeConfig()
  kc.loadFromFile(path)
  return kc
}

const workload = (jobId: number, attempt: number): Workload => ({
  id: WorkloadId.make(syncId("pg-to-pg", jobId, attempt)),
  type: "sync",
  status: "claimed",
  jobId: JobId.make(jobId),
  attemptNumber: AttemptNumber.make(attempt),
  connection: ConnectionId.make("pg-to-pg"),
  priority: 0,
  createdAt: 0,
  updatedAt: 0
} as Workload)

/** A TCP proxy to the API server whose connections the test can drop. */
const proxyTo = (target: URL) => {
  const sockets = new Set<Socket>()
  let refusing = false
  const server: Server = createServer((client) => {
    if (refusing) return client.destroy()
    const upstream = connect(Number(target.port || 443), target.hostname)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on("close", () => sockets.delete(s)).on("error", () => s.destroy())
    }
    client.pipe(upstream).pipe(client)
  })
  return {
    listen: () => new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port))),
    drop: (refuse: boolean) => {
      refusing = refuse
      for (const s of sockets) s.destroy()
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const s of sockets) s.destroy()
      })
  }
}

describe.skipIf(kubeconfigPath === undefined)("KubernetesLauncher (real API server)", () => {
  const admin = kubeconfigPath === undefined ? new KubeConfig() : loadConfig(kubeconfigPath)
  let client: CoreV1Api | undefined
  const api = () => client ??= admin.makeApiClient(CoreV1Api)
  const failures: Array<{ readonly workload: string; readonly failure: PodFailure }> = []
  const active = new Set<string>()

  const launcherLayer = (kubeConfig: KubeConfig) =>
    Layer.unwrap(Effect.gen(function*() {
      const jobTypes = yield* JobTypeConfig.fromEnv({
        JOB_MAIN_CONTAINER_CPU_LIMIT: "2",
        JOB_MAIN_CONTAINER_MEMORY_LIMIT: "1Gi",
        JOB_KUBE_NODE_SELECTORS: "pool=sync",
        CHECK_JOB_KUBE_NODE_SELECTORS: "pool=check"
      })
      return KubernetesLauncher.layer({
        kubeConfig,
        pods: { namespace, image: "sluice:test", imagePullPolicy: "IfNotPresent", transport: "socket", jobTypes },
        retrySchedule: Schedule.max([Schedule.spaced(100), Schedule.recurs(50)]),
        rewatchAfterMs: 60_000,
        onFailure: (w, failure) => Effect.sync(() => failures.push({ workload: w.id, failure })),
        isActive: (id) => Effect.sync(() => active.has(id))
      })
    }))

  const setStatus = (name: string, phase: string, containerStatuses: ReadonlyArray<V1ContainerStatus> = []) =>
    Effect.promise(async () => {
      const pod = await api().readNamespacedPod({ name, namespace })
      const body: V1Pod = { ...pod, status: { ...pod.status, phase, containerStatuses: [...containerStatuses] } }
      await api().replaceNamespacedPodStatus({ name, namespace, body })
    })

  const podExists = (name: string) =>
    Effect.promise(() => api().readNamespacedPod({ name, namespace }).then(() => true, () => false))

  const running = (name: string): V1ContainerStatus => ({ name, image: "sluice:test", imageID: "", ready: true, restartCount: 0, state: { running: {} } })

  beforeAll(() => api().createNamespace({ body: { metadata: { name: namespace } } }).then(() => undefined))

  it.live("an orphaned pod is collected at start-up", () =>
    Effect.gen(function*() {
      const orphan = workload(1, 0)
      yield* Effect.gen(function*() {
        const launcher = yield* Launcher
        yield* launcher.launch({ workload: orphan, token: "t", serverUrl: "http://sluice:8080" })
      }).pipe(Effect.provide(launcherLayer(admin)))
      assert.isTrue(yield* podExists(podName(orphan)))
      yield* Effect.gen(function*() {
        yield* Launcher
      }).pipe(Effect.provide(launcherLayer(admin)))
      assert.isFalse(yield* podExists(podName(orphan)))
    }), 60_000)

  it.live("a sync creates a valid pod; Running → Succeeded completes it and deletes the pod", () =>
    Effect.gen(function*() {
      const w = workload(2, 0)
      active.add(w.id)
      const launcher = yield* Launcher
      const worker = yield* launcher.launch({ workload: w, token: "t", serverUrl: "http://sluice:8080" })
      const name = podName(w)
      const pod = yield* Effect.promise(() => api().readNamespacedPod({ name, namespace }))
      assert.deepStrictEqual(pod.spec!.containers.map((c) => c.name), ["worker", "source", "destination"])
      assert.strictEqual(pod.metadata!.labels!["sluice.io/workload-type"], "sync")
      assert.strictEqual(pod.metadata!.labels!["sluice.io/job-id"], "2")
      assert.strictEqual(pod.metadata!.labels!["app.kubernetes.io/managed-by"], "sluice")
      assert.deepStrictEqual(pod.spec!.nodeSelector, { pool: "sync" })
      assert.strictEqual(pod.spec!.containers[1]!.resources!.limits!["cpu"], "2")
      assert.strictEqual(pod.spec!.containers[0]!.resources!.limits!["memory"], "1Gi")
      assert.strictEqual(pod.spec!.containers[1]!.env!.find((e) => e.name === "DATA_CHANNEL_SOCKET_PATHS")!.value!.split(",").length, 4)
      // The worker's token is in a Secret owned by the pod, referenced from the worker's env.
      const tokenRef = pod.spec!.containers[0]!.env!.find((e) => e.name === "SLUICE_WORKLOAD_TOKEN")!
      assert.deepStrictEqual(tokenRef.valueFrom?.secretKeyRef, { name: tokenSecretName(name), key: "token" })
      const secret = yield* Effect.promise(() => api().readNamespacedSecret({ name: tokenSecretName(name), namespace }))
      assert.strictEqual(Buffer.from(secret.data!["token"]!, "base64").toString(), "t")
      assert.deepStrictEqual(secret.metadata!.ownerReferences!.map((o) => [o.kind, o.name, o.uid]), [["Pod", name, pod.metadata!.uid]])
      // A second launch of the same workload adopts the pod (409) and renews the Secret.
      yield* launcher.launch({ workload: w, token: "t2", serverUrl: "http://sluice:8080" })
      const renewed = yield* Effect.promise(() => api().readNamespacedSecret({ name: tokenSecretName(name), namespace }))
      assert.strictEqual(Buffer.from(renewed.data!["token"]!, "base64").toString(), "t2")
      yield* setStatus(name, "Running", ["worker", "source", "destination"].map(running))
      yield* setStatus(name, "Succeeded")
      assert.strictEqual(yield* worker.exit.pipe(Effect.timeout(20_000)), 0)
      assert.isFalse(yield* podExists(name))
      assert.isFalse(yield* Effect.promise(() => api().readNamespacedSecret({ name: tokenSecretName(name), namespace }).then(() => true, () => false)))
    }).pipe(Effect.provide(launcherLayer(admin))), 60_000)

  it.live("OOMKilled fails the attempt with a clear reason; the retry gets a new pod", () =>
    Effect.gen(function*() {
      const launcher = yield* Launcher
      const first = workload(3, 0)
      const worker = yield* launcher.launch({ workload: first, token: "t", serverUrl: "http://sluice:8080" })
      yield* setStatus(podName(first), "Running", [
        running("worker"),
        running("source"),
        { name: "destination", image: "sluice:test", imageID: "", ready: false, restartCount: 0, state: { terminated: { exitCode: 137, reason: "OOMKilled" } } }
      ])
      assert.strictEqual(yield* worker.exit.pipe(Effect.timeout(20_000)), 137)
      const failure = failures.find((f) => f.workload === first.id)
      assert.match(failure!.failure.externalMessage, /destination container ran out of memory \(OOMKilled, limit 1Gi\)/)
      assert.strictEqual(failure!.failure.failureOrigin, "destination")
      assert.isFalse(yield* podExists(podName(first)))
      const retry = workload(3, 1)
      yield* launcher.launch({ workload: retry, token: "t", serverUrl: "http://sluice:8080" })
      assert.notStrictEqual(podName(retry), podName(first))
      assert.isTrue(yield* podExists(podName(retry)))
      assert.strictEqual((yield* Effect.promise(() => api().readNamespacedPod({ name: podName(retry), namespace }))).metadata!.labels!["sluice.io/attempt"], "1")
    }).pipe(Effect.provide(launcherLayer(admin))), 60_000)

  it.live("cancelling deletes the pod", () =>
    Effect.gen(function*() {
      const launcher = yield* Launcher
      const w = workload(4, 0)
      const worker = yield* launcher.launch({ workload: w, token: "t", serverUrl: "http://sluice:8080" })
      yield* setStatus(podName(w), "Running", [running("worker")])
      yield* worker.stop(1_000).pipe(Effect.timeout(20_000))
      assert.isFalse(yield* podExists(podName(w)))
      assert.isUndefined(failures.find((f) => f.workload === w.id))
    }).pipe(Effect.provide(launcherLayer(admin))), 60_000)

  it.live("a restricted service account gets a clear 403 error", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.gen(function*() {
        yield* Launcher
      }).pipe(Effect.provide(launcherLayer(loadConfig(restrictedPath!)))))
      assert.isTrue(Exit.isFailure(exit))
      const message = Exit.isFailure(exit) ? Option.getOrUndefined(Exit.findErrorOption(exit))?.message ?? "" : ""
      assert.match(message, /denied list pods in sluice-test-[0-9a-f]+ \(403 Forbidden\).*pods create\/get\/list\/watch\/delete/)
    }), 60_000)

  it.live("the Role of deploy/rbac.yaml is enough: launch, token Secret, follow, delete, orphan collection", () =>
    Effect.gen(function*() {
      const file = fileURLToPath(new URL("../../../deploy/rbac.yaml", import.meta.url))
      const role = parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS() as { kind: string; rules?: Array<V1PolicyRule> }).find((d) => d.kind === "Role")!
      const rbac = admin.makeApiClient(RbacAuthorizationV1Api)
      yield* Effect.promise(() => rbac.createNamespacedRole({ namespace, body: { metadata: { name: "sluice-launcher" }, rules: role.rules! } }))
      yield* Effect.promise(() =>
        rbac.createNamespacedRoleBinding({
          namespace,
          body: {
            metadata: { name: "sluice-launcher" },
            subjects: [{ kind: "User", name: "sluice-restricted", apiGroup: "rbac.authorization.k8s.io" }],
            roleRef: { kind: "Role", name: "sluice-launcher", apiGroup: "rbac.authorization.k8s.io" }
          }
        })
      )
      const w = workload(6, 0)
      active.add(w.id)
      yield* Effect.gen(function*() {
        const launcher = yield* Launcher
        const worker = yield* launcher.launch({ workload: w, token: "t", serverUrl: "http://sluice:8080" })
        const secret = yield* Effect.promise(() => api().readNamespacedSecret({ name: tokenSecretName(podName(w)), namespace }))
        assert.strictEqual(secret.metadata!.ownerReferences?.length, 1, "patched by the restricted account")
        yield* setStatus(podName(w), "Succeeded")
        assert.strictEqual(yield* worker.exit.pipe(Effect.timeout(20_000)), 0)
      }).pipe(Effect.provide(launcherLayer(loadConfig(restrictedPath!))))
      assert.isFalse(yield* podExists(podName(w)))
      assert.isFalse(yield* Effect.promise(() => api().readNamespacedSecret({ name: tokenSecretName(podName(w)), namespace }).then(() => true, () => false)))
      yield* Effect.promise(() => rbac.deleteNamespacedRoleBinding({ name: "sluice-launcher", namespace }))
    }), 60_000)

  it.live("a dropped watch does not lose a status change", () =>
    Effect.gen(function*() {
      const proxy = proxyTo(new URL(admin.getCurrentCluster()!.server))
      const port = yield* Effect.promise(() => proxy.listen())
      const proxied = loadConfig(kubeconfigPath!)
      const cluster = proxied.getCurrentCluster()!
      proxied.loadFromOptions({
        clusters: proxied.clusters.map((c) => c.name === cluster.name ? { ...c, server: `https://127.0.0.1:${port}` } : c),
        users: proxied.users,
        contexts: proxied.contexts,
        currentContext: proxied.currentContext
      })
      yield* Effect.gen(function*() {
        const launcher = yield* Launcher
        const w = workload(5, 0)
        active.add(w.id)
        const worker = yield* launcher.launch({ workload: w, token: "t", serverUrl: "http://sluice:8080" })
        const exit = yield* Effect.forkChild(worker.exit)
        yield* Effect.sleep(500)
        proxy.drop(true)
        yield* setStatus(podName(w), "Succeeded")
        yield* Effect.sleep(500)
        proxy.drop(false)
        assert.strictEqual(yield* Fiber.join(exit).pipe(Effect.timeout(20_000)), 0)
      }).pipe(Effect.provide(launcherLayer(proxied)))
      yield* Effect.promise(() => proxy.close())
    }), 60_000)
})
