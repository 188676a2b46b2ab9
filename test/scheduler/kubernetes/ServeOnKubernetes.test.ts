/**
 * `sluice serve` with SLUICE_LAUNCHER=kubernetes end to end against the real API server of
 * shared/k8s/test-cluster.sh (skipped unless SLUICE_TEST_KUBECONFIG is set). No kubelet runs there, so
 * the test is one: it lists the pods the launcher creates, RUNS each container's args locally
 * (`bin/sluice.js <args>` with the container's env — the token resolved from its Secret — and the
 * volume's mount path remapped to a temp dir through SLUICE_SHARED_DIR), writes the pod's status
 * Running, then Succeeded or Failed from the processes' exit codes. Proves the pod spec is runnable.
 */
import { CoreV1Api, KubeConfig, type V1ContainerStatus, type V1Pod } from "@kubernetes/client-node"
import { assert, describe, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtemp, rm } from "node:fs/promises"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { NODE_FLAGS } from "../../../src/plugins/builtin.ts"
import * as Serve from "../../support/Serve.ts"

const kubeconfigPath = process.env["SLUICE_TEST_KUBECONFIG"]
if (kubeconfigPath === undefined) {
  process.stderr.write("ServeOnKubernetes.test.ts: skipped (set SLUICE_TEST_KUBECONFIG, e.g. from `bash ../shared/k8s/test-cluster.sh start`)\n")
}
const sluice = fileURLToPath(new URL("../../../bin/sluice.js", import.meta.url))
const TOKEN = "k8s-test-token"
const terminal = new Set(["succeeded", "failed", "cancelled"])

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })

interface Ran {
  readonly pod: string
  readonly containers: ReadonlyArray<string>
  readonly args: Record<string, ReadonlyArray<string>>
  readonly exitCodes: Record<string, number>
  readonly output: string
  readonly labels: Record<string, string>
  readonly limits: Record<string, string | undefined>
}

/** Plays the node agent for every Sluice pod in `namespace` until stopped. */
const kubelet = (api: CoreV1Api, namespace: string) => {
  const seen = new Set<string>()
  const ran: Array<Ran> = []
  const children = new Set<ChildProcess>()
  const dirs: Array<string> = []
  let stopped = false

  const setStatus = async (name: string, phase: string, containerStatuses: Array<V1ContainerStatus>) => {
    const pod = await api.readNamespacedPod({ name, namespace })
    await api.replaceNamespacedPodStatus({ name, namespace, body: { ...pod, status: { ...pod.status, phase, containerStatuses } } })
  }

  const run = async (pod: V1Pod) => {
    const name = pod.metadata!.name!
    const dir = await mkdtemp(join(tmpdir(), "sluice-pod-"))
    dirs.push(dir)
    const containers = pod.spec!.containers
    const exits: Array<Promise<[string, number]>> = []
    let output = ""
    for (const container of containers) {
      const env: Record<string, string> = {}
      for (const item of container.env ?? []) {
        const ref = item.valueFrom?.secretKeyRef
        if (ref !== undefined && ref !== null) {
          const secret = await api.readNamespacedSecret({ name: ref.name!, namespace })
          env[item.name] = Buffer.from(secret.data![ref.key]!, "base64").toString()
        } else env[item.name] = item.value ?? ""
      }
      // The pod's paths come from SLUICE_SHARED_DIR, set to the volume's mount path: remap it.
      assert.strictEqual(env["SLUICE_SHARED_DIR"], container.volumeMounts![0]!.mountPath, `${name}/${container.name}`)
      const child = spawn(process.execPath, [...NODE_FLAGS, sluice, ...container.args!], {
        env: { ...process.env, ...env, SLUICE_SHARED_DIR: dir },
        stdio: ["ignore", "pipe", "pipe"]
      })
      children.add(child)
      child.stdout!.setEncoding("utf8").on("data", (t: string) => (output += `[${container.name}] ${t}`))
      child.stderr!.setEncoding("utf8").on("data", (t: string) => (output += `[${container.name}] ${t}`))
      exits.push(new Promise((resolve) => child.on("exit", (code, signal) => {
        children.delete(child)
        resolve([container.name, code ?? (signal === null ? 1 : 128 + 15)])
      })))
    }
    const image = containers[0]!.image!
    await setStatus(name, "Running", containers.map((c) => ({ name: c.name, image, imageID: "", ready: true, restartCount: 0, state: { running: {} } })))
    const codes = Object.fromEntries(await Promise.all(exits))
    ran.push({ pod: name, containers: containers.map((c) => c.name), args: Object.fromEntries(containers.map((c) => [c.name, c.args ?? []])), exitCodes: codes, output, labels: pod.metadata!.labels ?? {}, limits: Object.fromEntries(containers.map((c) => [c.name, c.resources?.limits?.["cpu"]])) })
    const failed = Object.values(codes).some((code) => code !== 0)
    await setStatus(name, failed ? "Failed" : "Succeeded", containers.map((c) => ({
      name: c.name,
      image,
      imageID: "",
      ready: false,
      restartCount: 0,
      state: { terminated: { exitCode: codes[c.name] ?? 1, reason: codes[c.name] === 0 ? "Completed" : "Error" } }
    }))).catch(() => undefined)
  }

  const loop = (async () => {
    while (!stopped) {
      const list = await api.listNamespacedPod({ namespace, labelSelector: "app.kubernetes.io/managed-by=sluice" }).catch(() => ({ items: [] as Array<V1Pod> }))
      for (const pod of list.items) {
        const name = pod.metadata!.name!
        if (seen.has(name) || pod.metadata!.deletionTimestamp !== undefined) continue
        seen.add(name)
        void run(pod)
      }
      await Serve.sleep(200)
    }
  })()

  return {
    ran,
    seen,
    stop: async () => {
      stopped = true
      await loop
      for (const child of children) child.kill("SIGKILL")
      await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })))
    }
  }
}

const config = `import { defineConfig, destinations, sources } from "sluice"
export default defineConfig({
  connections: {
    "k8s-socket": { source: sources.faker({ count: 300, seed: 1 }), destination: destinations.jsonl({ path: "./out/socket" }) },
    "k8s-stdio": {
      source: sources.faker({ count: 200, seed: 2 }),
      destination: destinations.jsonl({ path: "./out/stdio" }),
      transport: "stdio",
      kubernetes: { source: { cpuLimit: "2" }, destination: { cpuLimit: "2" }, labels: { team: "data" } }
    }
  }
})
`

describe.skipIf(kubeconfigPath === undefined)("sluice serve with SLUICE_LAUNCHER=kubernetes (real API server, the test as kubelet)", () => {
  it("syncs over both transports and checks through pods that really run; pods and Secrets are deleted afterwards", { timeout: 180_000 }, () =>
    Serve.withDir(async (dir) => {
      const kc = new KubeConfig()
      kc.loadFromFile(kubeconfigPath!)
      const api = kc.makeApiClient(CoreV1Api)
      const namespace = `sluice-serve-${randomBytes(4).toString("hex")}`
      await api.createNamespace({ body: { metadata: { name: namespace } } })
      await Serve.writeConfig(dir, config)
      const port = await freePort()
      const node = kubelet(api, namespace)
      const server = await Serve.startServe(dir, {
        SLUICE_LAUNCHER: "kubernetes",
        KUBECONFIG: kubeconfigPath!,
        SLUICE_K8S_NAMESPACE: namespace,
        SLUICE_IMAGE: "sluice:test",
        SLUICE_SERVER_URL: `http://127.0.0.1:${port}`,
        SLUICE_K8S_TRANSPORT: "socket",
        SLUICE_SIDECAR_WORKER_TIMEOUT_SECONDS: "20"
      }, TOKEN, port)
      const finished = (id: number) =>
        Serve.until(async () => {
          const { body } = await server.api("GET", `/jobs/${id}`)
          return terminal.has(body.job.status) ? body : undefined
        }, 120_000, `job ${id} to end`)
      try {
        for (const [name, count, transport] of [["k8s-socket", 300, "socket"], ["k8s-stdio", 200, "stdio"]] as const) {
          const sync = await server.api("POST", `/connections/${name}/sync`)
          assert.strictEqual(sync.status, 200, JSON.stringify(sync.body))
          const info = await finished(sync.body.id)
          assert.strictEqual(info.job.status, "succeeded", `${JSON.stringify(info.attempts.map((a: { failureSummary?: unknown }) => a.failureSummary))}\n${server.output()}\n${node.ran.map((r) => r.output).join("\n")}`)
          assert.strictEqual(info.attempts.length, 1)
          assert.strictEqual(info.attempts[0].transport.transport, transport)
          for (const stream of ["users", "products", "purchases"]) {
            const stats = info.attempts[0].streamStats.find((s: { streamName: string }) => s.streamName === stream)
            assert.strictEqual(stats.stats.recordsCommitted, count, stream)
          }
        }
        const checks = await server.api("POST", "/connections/k8s-stdio/check")
        for (const job of [checks.body.source, checks.body.destination]) {
          assert.strictEqual((await finished(job.id)).job.status, "succeeded")
        }
        // A job ends when its worker reports; the pod's processes exit just after (the sidecars on `done`).
        await Serve.until(async () => node.ran.length === 4 ? true : undefined, 30_000, "every pod's processes to exit")
        const syncPods = node.ran.filter((r) => r.pod.startsWith("sluice-sync-"))
        assert.strictEqual(syncPods.length, 2)
        for (const pod of syncPods) {
          assert.deepStrictEqual(pod.containers, ["worker", "source", "destination"])
          assert.deepStrictEqual(pod.exitCodes, { worker: 0, source: 0, destination: 0 }, pod.output)
          assert.deepStrictEqual(pod.args["source"], ["connector-sidecar", "--role", "source"])
        }
        // The connection's kubernetes settings from sluice.config.ts reached its pod.
        const stdioPod = syncPods.find((r) => r.labels["sluice.io/connection"] === "k8s-stdio")!
        assert.strictEqual(stdioPod.labels["team"], "data")
        assert.deepStrictEqual(stdioPod.limits, { worker: "1", source: "2", destination: "2" })
        const checkPods = node.ran.filter((r) => r.pod.startsWith("sluice-check-"))
        assert.strictEqual(checkPods.length, 2)
        for (const pod of checkPods) assert.deepStrictEqual(pod.exitCodes, { worker: 0, connector: 0 }, pod.output)
        // Every pod and its token Secret are gone once the workloads ended.
        await Serve.until(async () => {
          const pods = await api.listNamespacedPod({ namespace })
          const secrets = await api.listNamespacedSecret({ namespace })
          return pods.items.length === 0 && secrets.items.every((s) => !s.metadata!.name!.startsWith("sluice-")) ? true : undefined
        }, 30_000, "pods and Secrets to be deleted")
      } finally {
        const code = await server.stop()
        await node.stop()
        await api.deleteNamespace({ name: namespace }).catch(() => undefined)
        assert.strictEqual(code, 0, server.output())
      }
    }))
})
