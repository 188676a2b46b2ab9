/**
 * The pod of one workload, built purely from the workload and the launcher's settings: a sync pod
 * holds the Sluice worker (orchestrator in stdio mode, bookkeeper in socket mode) and the source and
 * destination containers (`sluice connector-sidecar`) over a shared emptyDir (invocations, named
 * pipes and Unix sockets, reference §6.3, src/engine/sidecar/); check, discover and spec pods hold
 * the connector and the worker. The worker's token comes from a per-pod Secret. No I/O; imports
 * `effect`-free models, node:crypto and the client's types only.
 */
import type { V1Container, V1EnvVar, V1Pod, V1ResourceRequirements, V1Secret } from "@kubernetes/client-node"
import { createHash } from "node:crypto"
import { socketCount } from "../../engine/replication/Architecture.ts"
import { socketPaths as socketFiles } from "../../engine/replication/SocketReplication.ts"
import { socketsDir } from "../../engine/sidecar/SidecarLayout.ts"
import type { Workload, WorkloadType } from "../Workload.ts"
import { cpuCores, type JobKind, type JobTypeConfigs, type JobTypeOverride, type Resources, resolve } from "./JobTypeConfig.ts"

export type Transport = "stdio" | "socket"

/** Per-connection overrides: the pod's settings, and the source's and destination's resources. */
export interface ConnectionOverride extends JobTypeOverride {
  readonly source?: Resources
  readonly destination?: Resources
}

export interface PodSettings {
  readonly namespace: string
  /** The Sluice image (worker and built-in connectors). */
  readonly image: string
  readonly imagePullPolicy?: "Always" | "IfNotPresent" | "Never"
  readonly imagePullSecrets?: ReadonlyArray<string>
  readonly transport: Transport
  readonly jobTypes: JobTypeConfigs
  readonly connections?: Readonly<Record<string, ConnectionOverride>>
}

export interface PodRequest {
  readonly workload: Workload
  readonly serverUrl: string
}

export const MANAGED_BY = "app.kubernetes.io/managed-by"
export const LABEL = {
  jobId: "sluice.io/job-id",
  attempt: "sluice.io/attempt",
  workloadId: "sluice.io/workload-id",
  workloadType: "sluice.io/workload-type",
  connection: "sluice.io/connection"
} as const
/** The exact workload id (label values are limited to 63 characters of [A-Za-z0-9._-]). */
export const WORKLOAD_ANNOTATION = "sluice.io/workload"
export const WORKER_CONTAINER = "worker"
export const SHARED_VOLUME = "sluice-shared"
/**
 * Where every container mounts the shared volume; each also gets it as SLUICE_SHARED_DIR, which is
 * the only place the worker and the sidecars read it from (a test can run the containers' args
 * locally over another directory).
 */
export const SHARED_DIR = "/var/run/sluice"
/** The key of the worker's token in its pod's Secret. */
export const TOKEN_KEY = "token"

/** The worker's own requests and limits (the bookkeeper's, reference §6.3): 1 CPU / 1 GiB. */
export const workerResources: Resources = { cpuRequest: "1", cpuLimit: "1", memoryRequest: "1Gi", memoryLimit: "1Gi" }

const hash = (text: string, length: number) => createHash("sha256").update(text).digest("hex").slice(0, length)

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/

/** A valid label value for `text`: itself when valid, else a cleaned prefix and a hash of the whole. */
export const labelValue = (text: string): string => {
  if (text.length <= 63 && LABEL_VALUE.test(text)) return text
  const cleaned = text.replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 54).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "")
  return cleaned === "" ? hash(text, 12) : `${cleaned}-${hash(text, 8)}`
}

/** A deterministic pod name (so a repeated create answers 409 and the pod is adopted). */
export const podName = (workload: Workload): string => `sluice-${workload.type}-${workload.jobId}-${workload.attemptNumber}-${hash(workload.id, 10)}`

export const kindOf = (type: WorkloadType): JobKind => type === "sync" ? "default" : type

export const labelsOf = (workload: Workload): Record<string, string> => ({
  [MANAGED_BY]: "sluice",
  [LABEL.jobId]: String(workload.jobId),
  [LABEL.attempt]: String(workload.attemptNumber),
  [LABEL.workloadId]: labelValue(workload.id),
  [LABEL.workloadType]: workload.type,
  ...(workload.connection === undefined ? {} : { [LABEL.connection]: labelValue(workload.connection) })
})

const requirements = (resources: Resources): V1ResourceRequirements => {
  const requests: Record<string, string> = {}
  const limits: Record<string, string> = {}
  if (resources.cpuRequest !== undefined) requests["cpu"] = resources.cpuRequest
  if (resources.memoryRequest !== undefined) requests["memory"] = resources.memoryRequest
  if (resources.cpuLimit !== undefined) limits["cpu"] = resources.cpuLimit
  if (resources.memoryLimit !== undefined) limits["memory"] = resources.memoryLimit
  return { ...(Object.keys(requests).length === 0 ? {} : { requests }), ...(Object.keys(limits).length === 0 ? {} : { limits }) }
}

const merge = (first: Resources | undefined, rest: Resources): Resources => ({ ...rest, ...first })

/** The Secret holding a pod's worker token (created before the pod, deleted with it). */
export const tokenSecretName = (podName: string): string => `${podName}-token`

/** Socket count of a sync pod (reference §6.4): N follows the source's and destination's CPU limits. */
export const socketCountOf = (source: Resources, destination: Resources): number =>
  socketCount(cpuCores(source.cpuLimit), cpuCores(destination.cpuLimit))

/** Socket paths of a sync pod in socket mode (reference §6.3): the ones the worker uses in the shared volume. */
export const socketPaths = (source: Resources, destination: Resources): ReadonlyArray<string> =>
  socketFiles(socketsDir(SHARED_DIR), socketCountOf(source, destination))

const env = (values: Readonly<Record<string, string>>): Array<V1EnvVar> => Object.entries(values).map(([name, value]) => ({ name, value }))

/** The Secret holding the worker's token, named after its pod, labelled like it. */
export const buildTokenSecret = (settings: PodSettings, workload: Workload, token: string): V1Secret => ({
  apiVersion: "v1",
  kind: "Secret",
  type: "Opaque",
  metadata: {
    name: tokenSecretName(podName(workload)),
    namespace: settings.namespace,
    labels: labelsOf(workload),
    annotations: { [WORKLOAD_ANNOTATION]: workload.id }
  },
  stringData: { [TOKEN_KEY]: token }
})

export const buildPod = (settings: PodSettings, request: PodRequest): V1Pod => {
  const { workload } = request
  const override = workload.connection === undefined ? undefined : settings.connections?.[workload.connection]
  const config = resolve(settings.jobTypes, kindOf(workload.type), override)
  const mount = [{ name: SHARED_VOLUME, mountPath: SHARED_DIR }]
  const name = podName(workload)
  const pull = settings.imagePullPolicy === undefined ? {} : { imagePullPolicy: settings.imagePullPolicy }
  const container = (
    name: string,
    resources: Resources,
    vars: Readonly<Record<string, string>>,
    args: ReadonlyArray<string>,
    secretVars: ReadonlyArray<V1EnvVar> = []
  ): V1Container => ({
    name,
    image: settings.image,
    ...pull,
    args: [...args],
    env: [...env({ SLUICE_WORKLOAD_ID: workload.id, SLUICE_CONTAINER_ROLE: name, SLUICE_SHARED_DIR: SHARED_DIR, ...vars }), ...secretVars],
    resources: requirements(resources),
    volumeMounts: mount
  })
  const workerArgs = ["worker", "--workload", workload.id, "--server", request.serverUrl, "--connectors", "sidecar"]
  const token: V1EnvVar = { name: "SLUICE_WORKLOAD_TOKEN", valueFrom: { secretKeyRef: { name: tokenSecretName(name), key: TOKEN_KEY } } }
  const sidecar = (role: string) => ["connector-sidecar", "--role", role]
  let containers: Array<V1Container>
  if (workload.type === "sync") {
    const source = merge(override?.source, config.resources)
    const destination = merge(override?.destination, config.resources)
    // The worker decides each attempt's transport and passes DATA_CHANNEL_* with every invocation; the
    // containers' own variables say what the launcher's transport setting expects (Airbyte's contract).
    const channel: Record<string, string> = settings.transport === "socket"
      ? { DATA_CHANNEL_MEDIUM: "SOCKET", DATA_CHANNEL_FORMAT: "PROTOBUF", DATA_CHANNEL_SOCKET_PATHS: socketPaths(source, destination).join(",") }
      : { DATA_CHANNEL_MEDIUM: "STDIO", DATA_CHANNEL_FORMAT: "JSONL" }
    const worker = { ...channel, SLUICE_SOCKET_COUNT: String(socketCountOf(source, destination)), PLATFORM_MODE: settings.transport === "socket" ? "BOOKKEEPER" : "ORCHESTRATOR" }
    containers = [
      container(WORKER_CONTAINER, workerResources, worker, workerArgs, [token]),
      container("source", source, channel, sidecar("source")),
      container("destination", destination, channel, sidecar("destination"))
    ]
  } else {
    containers = [
      container(WORKER_CONTAINER, workerResources, { PLATFORM_MODE: "ORCHESTRATOR" }, workerArgs, [token]),
      container("connector", config.resources, {}, sidecar("connector"))
    ]
  }
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: settings.namespace,
      labels: { ...config.labels, ...labelsOf(workload) },
      annotations: { ...config.annotations, [WORKLOAD_ANNOTATION]: workload.id }
    },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      containers,
      volumes: [{ name: SHARED_VOLUME, emptyDir: {} }],
      ...(Object.keys(config.nodeSelectors).length === 0 ? {} : { nodeSelector: { ...config.nodeSelectors } }),
      ...(config.tolerations.length === 0 ? {} : { tolerations: config.tolerations.map((t) => ({ ...t })) }),
      ...(settings.imagePullSecrets === undefined || settings.imagePullSecrets.length === 0
        ? {}
        : { imagePullSecrets: settings.imagePullSecrets.map((name) => ({ name })) })
    }
  }
}
