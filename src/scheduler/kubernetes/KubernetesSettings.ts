/**
 * The Kubernetes launcher's settings from the environment of `sluice serve` (SLUICE_LAUNCHER=
 * kubernetes): kubeconfig from the standard places (KUBECONFIG, ~/.kube/config, in-cluster service
 * account), namespace, image, pull policy and secrets, transport, job-type settings, and the layer
 * wired to the workload store. Imports @kubernetes/client-node, `effect` and scheduler ports.
 */
import { KubeConfig } from "@kubernetes/client-node"
import * as Effect from "effect/Effect"
import { readFileSync } from "node:fs"
import { ConnectionStore } from "../ConnectionStore.ts"
import { ConnectionId } from "../Ids.ts"
import { WorkloadStore } from "../WorkloadStore.ts"
import { isActive, WorkloadId } from "../Workload.ts"
import { fromEnv, InvalidKubeSetting } from "./JobTypeConfig.ts"
import * as KubernetesLauncher from "./KubernetesLauncher.ts"
import * as PodOverrides from "./PodOverrides.ts"
import type { PodSettings } from "./PodSpec.ts"

const IN_CLUSTER_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
const PULL_POLICIES = ["Always", "IfNotPresent", "Never"] as const

const inClusterNamespace = (): string | undefined => {
  try {
    return readFileSync(IN_CLUSTER_NAMESPACE, "utf8").trim() || undefined
  } catch {
    return undefined
  }
}

export interface KubernetesSettings {
  readonly kubeConfig: KubeConfig
  readonly pods: PodSettings
  /** The URL workers in pods use to reach `sluice serve` (SLUICE_SERVER_URL, e.g. the Service's). */
  readonly serverUrl: string
}

export const settingsFromEnv = (env: Readonly<Record<string, string | undefined>>) =>
  Effect.gen(function*() {
    const read = (name: string) => {
      const raw = env[name]?.trim()
      return raw === undefined || raw === "" ? undefined : raw
    }
    const image = read("SLUICE_IMAGE")
    if (image === undefined) return yield* new InvalidKubeSetting({ variable: "SLUICE_IMAGE", value: "", expected: "the Sluice image (e.g. ghcr.io/acme/sluice:0.1.0)" })
    const serverUrl = read("SLUICE_SERVER_URL")
    if (serverUrl === undefined || !/^https?:\/\//.test(serverUrl)) {
      return yield* new InvalidKubeSetting({ variable: "SLUICE_SERVER_URL", value: serverUrl ?? "", expected: "the URL pods reach sluice serve at (e.g. http://sluice:8080)" })
    }
    const policy = read("SLUICE_IMAGE_PULL_POLICY")
    const imagePullPolicy = PULL_POLICIES.find((p) => p === policy)
    if (policy !== undefined && imagePullPolicy === undefined) {
      return yield* new InvalidKubeSetting({ variable: "SLUICE_IMAGE_PULL_POLICY", value: policy, expected: PULL_POLICIES.join(", ") })
    }
    const transport = read("SLUICE_K8S_TRANSPORT") ?? "stdio"
    if (transport !== "stdio" && transport !== "socket") {
      return yield* new InvalidKubeSetting({ variable: "SLUICE_K8S_TRANSPORT", value: transport, expected: "stdio or socket" })
    }
    const kubeConfig = yield* Effect.try({
      try: () => {
        const kc = new KubeConfig()
        kc.loadFromDefault()
        return kc
      },
      catch: (error) => new InvalidKubeSetting({ variable: "KUBECONFIG", value: env["KUBECONFIG"] ?? "", expected: `a loadable kubeconfig (${String(error)})` })
    })
    const pods: PodSettings = {
      namespace: read("SLUICE_K8S_NAMESPACE") ?? inClusterNamespace() ?? kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? "default",
      image,
      ...(imagePullPolicy === undefined ? {} : { imagePullPolicy }),
      imagePullSecrets: (read("SLUICE_IMAGE_PULL_SECRETS") ?? "").split(",").map((s) => s.trim()).filter((s) => s !== ""),
      transport,
      jobTypes: yield* fromEnv(env)
    }
    const settings: KubernetesSettings = { kubeConfig, pods, serverUrl }
    return settings
  })

/**
 * The launcher over the workload and connection stores, its pod monitors living in the current Scope:
 * a failed pod's cause fails its workload (source `launcher`); each pod takes its connection's
 * `kubernetes` settings from the spec stored at launch time.
 */
export const make = (settings: KubernetesSettings) =>
  Effect.gen(function*() {
    const store = yield* WorkloadStore
    const connections = yield* ConnectionStore
    return yield* KubernetesLauncher.make({
      kubeConfig: settings.kubeConfig,
      pods: settings.pods,
      onFailure: (workload, failure) =>
        store.fail(workload.id, { source: "launcher", reason: failure.externalMessage }).pipe(
          Effect.catch((error) => Effect.logWarning(`workload ${workload.id}: cannot record the pod failure: ${error.message}`)),
          Effect.asVoid
        ),
      overrideOf: (connection) =>
        connections.get(ConnectionId.make(connection)).pipe(
          Effect.map((record) => PodOverrides.fromSpec(record.spec)),
          Effect.catch((error) => Effect.as(Effect.logWarning(`connection ${connection}: its pod settings cannot be read (${error.message}); using the defaults`), undefined))
        ),
      isActive: (id) =>
        store.get(WorkloadId.make(id)).pipe(
          Effect.map((workload) => isActive(workload.status)),
          Effect.catchTag("WorkloadNotFound", () => Effect.succeed(false)),
          Effect.catch(() => Effect.succeed(true))
        )
    })
  })
