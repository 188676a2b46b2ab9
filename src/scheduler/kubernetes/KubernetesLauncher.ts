/**
 * The Kubernetes launcher: one pod per workload (PodSpec.ts), created or adopted on 409, followed by
 * a watch on that pod that falls back to a relist whenever the watch drops, its status mapped to an
 * outcome (PodOutcome.ts) and the pod deleted when the workload ends or is stopped. The worker's token
 * lives in a Secret per pod (created first, owned by the pod once it exists, deleted with it). At
 * start-up it deletes Sluice pods (and their Secrets) whose workload is no longer active. Imports
 * @kubernetes/client-node and `effect`.
 */
import { CoreV1Api, type KubeConfig, type V1Pod, Watch } from "@kubernetes/client-node"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Schedule from "effect/Schedule"
import { LaunchFailed, Launcher, type LaunchRequest, type RunningWorker } from "../Launcher.ts"
import type { Workload } from "../Workload.ts"
import * as KubeApi from "./KubeApi.ts"
import { outcomeOf, type PodFailure, type PodOutcome } from "./PodOutcome.ts"
import { buildPod, buildTokenSecret, type ConnectionOverride, MANAGED_BY, type PodSettings, tokenSecretName, WORKLOAD_ANNOTATION } from "./PodSpec.ts"

export interface KubernetesLauncherOptions {
  readonly kubeConfig: KubeConfig
  readonly pods: PodSettings
  /** How long a pod may stay unschedulable before its workload fails (default 15 min). */
  readonly unschedulableAfterMs?: number
  /** How long one watch runs before a relist re-reads the pod anyway (default 5 min). */
  readonly rewatchAfterMs?: number
  readonly retrySchedule?: Schedule.Schedule<unknown>
  /** Records a failed pod's cause on its workload (before `exit` completes); not called after `stop`. */
  readonly onFailure: (workload: Workload, failure: PodFailure) => Effect.Effect<void>
  /** Whether a workload is still active; pods of inactive or unknown workloads are deleted at start-up. */
  readonly isActive: (workloadId: string) => Effect.Effect<boolean>
  /** A connection's pod settings as its spec says now (they win over `pods.connections`). */
  readonly overrideOf?: ((connection: string) => Effect.Effect<ConnectionOverride | undefined>) | undefined
}

type WatchResult = PodOutcome | { readonly _tag: "Dropped" }

const isFinal = (outcome: PodOutcome) => outcome._tag === "Succeeded" || outcome._tag === "Failed"

const asPod = (value: unknown): V1Pod | undefined => typeof value === "object" && value !== null ? value as V1Pod : undefined

export const make = (options: KubernetesLauncherOptions) =>
  Effect.gen(function*() {
    const api = options.kubeConfig.makeApiClient(CoreV1Api)
    const watcher = new Watch(options.kubeConfig)
    const namespace = options.pods.namespace
    const unschedulableAfterMs = options.unschedulableAfterMs ?? 15 * 60_000
    const rewatchAfterMs = options.rewatchAfterMs ?? 5 * 60_000
    const call = <A>(operation: string, run: () => Promise<A>) => KubeApi.call(operation, run, options.retrySchedule)
    const scope = yield* Effect.scope

    const readPod = (name: string) =>
      call(`get pod ${namespace}/${name}`, () => api.readNamespacedPod({ name, namespace })).pipe(
        Effect.map((pod): V1Pod | null => pod),
        Effect.catchIf((error) => error.status === 404, () => Effect.succeed(null))
      )

    const deleteSecret = (name: string) =>
      call(`delete secret ${namespace}/${name}`, () => api.deleteNamespacedSecret({ name, namespace })).pipe(
        Effect.asVoid,
        Effect.catchIf((error) => error.status === 404, () => Effect.void)
      )

    /** Deletes a pod and its token Secret (the Secret at once: the worker read it when it started). */
    const deletePod = (name: string, graceSeconds: number) =>
      Effect.andThen(
        call(`delete pod ${namespace}/${name}`, () => api.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: graceSeconds })).pipe(
          Effect.asVoid,
          Effect.catchIf((error) => error.status === 404, () => Effect.void)
        ),
        deleteSecret(tokenSecretName(name))
      )

    /** The token Secret, fresh: one left from an earlier launch of the workload holds an old token. */
    const createSecret = (workload: Workload, token: string) =>
      Effect.gen(function*() {
        const secret = buildTokenSecret(options.pods, workload, token)
        const name = secret.metadata?.name ?? ""
        const create = call(`create secret ${namespace}/${name}`, () => api.createNamespacedSecret({ namespace, body: secret }))
        yield* create.pipe(
          Effect.catchIf((error) => error.status === 409, () => Effect.andThen(deleteSecret(name), create))
        )
        return name
      })

    /** Makes the pod own its Secret, so the cluster deletes it with the pod even without Sluice. */
    const ownSecret = (secretName: string, pod: V1Pod) =>
      Effect.gen(function*() {
        const uid = pod.metadata?.uid
        const podName = pod.metadata?.name
        if (uid === undefined || podName === undefined) return
        const owner = { apiVersion: "v1", kind: "Pod", name: podName, uid }
        yield* call(`patch secret ${namespace}/${secretName}`, () =>
          api.patchNamespacedSecret({ name: secretName, namespace, body: [{ op: "add", path: "/metadata/ownerReferences", value: [owner] }] })
        ).pipe(Effect.catch((error) => Effect.logWarning(`the Secret ${secretName} is not owned by its pod (it is deleted with it by Sluice): ${error.message}`)))
      })

    /** Follows one pod's watch until its outcome is final or the watch ends. */
    const watchPod = (name: string, resourceVersion: string | undefined) =>
      Effect.callback<WatchResult>((resume) => {
        let finished = false
        let controller: AbortController | undefined
        const finish = (result: WatchResult) => {
          if (finished) return
          finished = true
          controller?.abort()
          resume(Effect.succeed(result))
        }
        const query = { fieldSelector: `metadata.name=${name}`, ...(resourceVersion === undefined ? {} : { resourceVersion }) }
        watcher.watch(`/api/v1/namespaces/${namespace}/pods`, query, (type: string, object: unknown) => {
          const pod = asPod(object)
          if (type === "ERROR" || pod === undefined) return finish({ _tag: "Dropped" })
          const outcome = outcomeOf(pod, Date.now(), unschedulableAfterMs)
          if (type === "DELETED") return finish(isFinal(outcome) ? outcome : outcomeOf(null, Date.now(), unschedulableAfterMs))
          if (isFinal(outcome)) finish(outcome)
        }, () => finish({ _tag: "Dropped" })).then(
          (started) => {
            controller = started
            if (finished) started.abort()
          },
          () => finish({ _tag: "Dropped" })
        )
        return Effect.sync(() => {
          finished = true
          controller?.abort()
        })
      })

    /** Re-reads the pod, then watches from that version; every dropped watch goes back to a re-read. */
    const follow = (name: string): Effect.Effect<PodOutcome, KubeApi.KubeApiError> =>
      Effect.gen(function*() {
        while (true) {
          const pod = yield* readPod(name)
          const now = yield* Clock.currentTimeMillis
          const current = outcomeOf(pod, now, unschedulableAfterMs)
          if (isFinal(current)) return current
          const watched = yield* watchPod(name, pod?.metadata?.resourceVersion).pipe(Effect.timeoutOption(rewatchAfterMs))
          if (watched._tag === "Some" && watched.value._tag !== "Dropped" && isFinal(watched.value)) return watched.value
          if (watched._tag === "Some" && watched.value._tag === "Dropped") yield* Effect.sleep(200)
        }
      })

    const createOrAdopt = (pod: V1Pod, workload: Workload) =>
      Effect.gen(function*() {
        const name = pod.metadata?.name ?? ""
        const created = yield* call(`create pod ${namespace}/${name}`, () => api.createNamespacedPod({ namespace, body: pod })).pipe(
          Effect.map((created): V1Pod | "exists" => created),
          Effect.catchIf((error) => error.status === 409, () => Effect.succeed("exists" as const))
        )
        if (created !== "exists") return created
        const existing = yield* readPod(name)
        const owner = existing?.metadata?.annotations?.[WORKLOAD_ANNOTATION]
        if (existing !== null && owner !== workload.id) {
          return yield* new LaunchFailed({ message: `pod ${namespace}/${name} exists and belongs to workload ${owner ?? "(none)"}, not ${workload.id}` })
        }
        const adopted = existing ?? (yield* call(`create pod ${namespace}/${name}`, () => api.createNamespacedPod({ namespace, body: pod })))
        yield* Effect.logInfo(`workload ${workload.id}: adopted the existing pod ${name}`)
        return adopted
      })

    const launch = Effect.fn("KubernetesLauncher.launch")(function*(request: LaunchRequest) {
      const connection = request.workload.connection
      const override = connection === undefined || options.overrideOf === undefined ? undefined : yield* options.overrideOf(connection)
      const settings = override === undefined || connection === undefined
        ? options.pods
        : { ...options.pods, connections: { ...options.pods.connections, [connection]: override } }
      const pod = buildPod(settings, request)
      const name = pod.metadata?.name ?? ""
      const toLaunchFailed = (error: KubeApi.KubeApiError | LaunchFailed) => error._tag === "LaunchFailed" ? error : new LaunchFailed({ message: error.message })
      // The Secret first: a pod whose Secret is missing would fail to start (CreateContainerConfigError).
      const secretName = yield* createSecret(request.workload, request.token).pipe(Effect.mapError(toLaunchFailed))
      const created = yield* createOrAdopt(pod, request.workload).pipe(
        Effect.tapError(() => deleteSecret(secretName).pipe(Effect.ignore)),
        Effect.mapError(toLaunchFailed)
      )
      yield* ownSecret(secretName, created)
      const exited = yield* Deferred.make<number | null>()
      let stopping = false
      const monitor = follow(name).pipe(
        Effect.flatMap((outcome) =>
          Effect.gen(function*() {
            if (outcome._tag === "Failed" && !stopping) yield* options.onFailure(request.workload, outcome.failure)
            yield* deletePod(name, 0).pipe(Effect.catch((error) => Effect.logWarning(error.message)))
            return outcome._tag === "Succeeded" ? 0 : outcome._tag === "Failed" ? outcome.failure.exitCode : null
          })
        ),
        Effect.catch((error) =>
          Effect.gen(function*() {
            if (!stopping) {
              yield* options.onFailure(request.workload, {
                failureOrigin: "airbyte_platform",
                failureType: "system_error",
                retryable: true,
                externalMessage: `Lost track of the workload's pod: ${error.message}`,
                internalMessage: error.message,
                exitCode: null
              })
            }
            yield* deletePod(name, 0).pipe(Effect.ignore)
            return null
          })
        ),
        Effect.flatMap((code) => Deferred.succeed(exited, code))
      )
      yield* Effect.forkIn(monitor, scope)
      const exit = Deferred.await(exited)
      const worker: RunningWorker = {
        id: `pod ${namespace}/${name}`,
        exit,
        stop: (graceMs) =>
          Effect.gen(function*() {
            stopping = true
            yield* deletePod(name, Math.ceil(graceMs / 1000)).pipe(Effect.catch((error) => Effect.logWarning(error.message)))
            const done = yield* Effect.timeoutOption(exit, graceMs + 5_000)
            if (done._tag === "None") {
              yield* deletePod(name, 0).pipe(Effect.ignore)
              yield* Deferred.succeed(exited, null)
            }
            yield* exit
          })
      }
      return worker
    })

    /** Deletes the Sluice pods in the namespace whose workload is no longer active. */
    const collectOrphans = Effect.gen(function*() {
      const list = yield* call(`list pods in ${namespace}`, () => api.listNamespacedPod({ namespace, labelSelector: `${MANAGED_BY}=sluice` }))
      for (const pod of list.items) {
        const id = pod.metadata?.annotations?.[WORKLOAD_ANNOTATION]
        const name = pod.metadata?.name
        if (name === undefined || (id !== undefined && (yield* options.isActive(id)))) continue
        yield* Effect.logInfo(`deleting the orphaned pod ${namespace}/${name} (workload ${id ?? "unknown"} is not active)`)
        yield* deletePod(name, 0)
      }
    })
    yield* collectOrphans

    return Launcher.of({ kind: "kubernetes", launch })
  })

/** The launcher as a layer; building it collects orphaned pods and fails on API errors (e.g. 403). */
export const layer = (options: KubernetesLauncherOptions) => Layer.effect(Launcher, make(options))

