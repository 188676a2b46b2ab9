/**
 * Handlers of the workload group, for workers: each call checks that the caller's token is the
 * workload's own, refuses ended workloads with 410 (the worker then stops), and records states,
 * stats, logs and the attempt's end through the stores. The input carries the connection resolved by
 * ConnectionSpecs — secrets included — and goes only to the holder of the workload's token.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { HttpApiBuilder } from "effect/http-api"
import * as AttemptEnd from "../../scheduler/AttemptEnd.ts"
import { ConnectionSpecs } from "../../scheduler/ConnectionSpecs.ts"
import { ConnectionStore } from "../../scheduler/ConnectionStore.ts"
import { ConnectionId } from "../../scheduler/Ids.ts"
import type { Job } from "../../scheduler/Job.ts"
import { JobStore } from "../../scheduler/JobStore.ts"
import * as W from "../../scheduler/Workload.ts"
import { WorkloadGone, WorkloadNotFound, WorkloadTransitionInvalid } from "../../scheduler/WorkloadErrors.ts"
import { WorkloadStore } from "../../scheduler/WorkloadStore.ts"
import { Api } from "../Api.ts"
import { Forbidden } from "../ApiErrors.ts"
import { CurrentCaller } from "../Auth.ts"
import { ApiSettings } from "./ApiSettings.ts"

type Declared = WorkloadNotFound | WorkloadGone | WorkloadTransitionInvalid | Forbidden
const isDeclared = (error: unknown): error is Declared =>
  error instanceof WorkloadNotFound || error instanceof WorkloadGone || error instanceof WorkloadTransitionInvalid ||
  error instanceof Forbidden

/** Declared errors stay; anything else (a store failure) is a 500. */
const declared = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, Extract<E, Declared>, R> =>
  Effect.catch(self, (error) => isDeclared(error) ? Effect.fail(error as Extract<E, Declared>) : Effect.die(error))

const connectionOf = (workload: W.Workload) => workload.connection ?? ConnectionId.make("unknown")

/** The connector a check or spec job runs: by its config type (check) or its config's `kind` (spec). */
const targetOf = (job: Job): "source" | "destination" =>
  job.configType === "check_connection_destination" || (job.configType === "get_spec" && job.config["kind"] === "destination")
    ? "destination"
    : "source"

export const workloadsHandlers = HttpApiBuilder.group(
  Api,
  "workloads",
  Effect.fn(function*(handlers) {
    const store = yield* WorkloadStore
    const jobs = yield* JobStore
    const connections = yield* ConnectionStore
    const specs = yield* ConnectionSpecs
    const settings = yield* ApiSettings

    /** The workload, if the caller may act on it and it is still active (else 403 / 410). */
    const activeWorkload = (id: W.WorkloadId, call: string) =>
      Effect.gen(function*() {
        const caller = yield* CurrentCaller
        if ("workload" in caller && caller.workload.id !== id) {
          return yield* new Forbidden({ message: `this token belongs to workload ${caller.workload.id}, not ${id}` })
        }
        const workload = yield* store.get(id)
        if (W.isTerminal(workload.status)) return yield* new WorkloadGone({ workloadId: id, status: workload.status, call })
        return workload
      })

    const deadline = Effect.map(Clock.currentTimeMillis, (now) => now + settings.heartbeatTimeoutMs)

    const end = (id: W.WorkloadId, result: AttemptEnd.AttemptEnd, call: "success" | "failure") =>
      Effect.gen(function*() {
        const workload = yield* activeWorkload(id, call)
        // The attempt is recorded before the workload ends: whoever waits for the end finds it.
        yield* AttemptEnd.record(workload.jobId, workload.attemptNumber, result)
        const first = AttemptEnd.failuresOf(result)[0]
        const done = call === "success"
          ? yield* store.succeed(id)
          : yield* store.fail(id, { source: "worker", reason: first?.externalMessage ?? first?.internalMessage ?? "the attempt failed" })
        return { id, status: done.workload.status }
      })

    const input = Effect.fn("WorkloadsApi.input")(function*(id: W.WorkloadId) {
      const workload = yield* activeWorkload(id, "input")
      const connection = connectionOf(workload)
      const record = yield* connections.get(connection)
      const resolved = yield* specs.resolve(connection, record.spec).pipe(Effect.result)
      if (resolved._tag === "Failure") {
        const at = yield* Clock.currentTimeMillis
        const message = resolved.failure.message
        yield* AttemptEnd.record(workload.jobId, workload.attemptNumber, {
          _tag: "SetupFailed",
          reason: { failureOrigin: "airbyte_platform", failureType: "config_error", externalMessage: message, retryable: false, timestamp: at }
        })
        yield* store.fail(id, { source: "workload-api", reason: message })
        return yield* new WorkloadGone({ workloadId: id, status: "failure", call: "input" })
      }
      const state = workload.type === "sync" ? yield* connections.getState(connection) : undefined
      const target = workload.type === "check" || workload.type === "spec"
        ? targetOf((yield* jobs.getJob(workload.jobId)).job)
        : undefined
      const value = resolved.success
      return {
        workloadId: id,
        type: workload.type,
        jobId: workload.jobId,
        attemptNumber: workload.attemptNumber,
        connection,
        ...(target === undefined ? {} : { target }),
        source: value.source,
        destination: value.destination,
        ...(value.streams === undefined ? {} : { streams: value.streams }),
        ...(value.mappers === undefined ? {} : { mappers: value.mappers }),
        transport: value.transport,
        ...(state === undefined ? {} : { state }),
        heartbeatIntervalMs: settings.heartbeatIntervalMs,
        heartbeatTimeoutMs: settings.heartbeatTimeoutMs,
        ...settings.replication
      }
    })

    return handlers.handleAll({
      input: ({ params }) => declared(input(params.id)),
      running: ({ params }) =>
        declared(Effect.gen(function*() {
          yield* activeWorkload(params.id, "running")
          const changed = yield* store.running(params.id, yield* deadline)
          return { id: params.id, status: changed.workload.status }
        })),
      heartbeat: ({ params }) =>
        declared(Effect.gen(function*() {
          yield* activeWorkload(params.id, "heartbeat")
          yield* store.heartbeat(params.id, yield* deadline)
        })),
      state: ({ params, payload }) =>
        declared(Effect.gen(function*() {
          const workload = yield* activeWorkload(params.id, "state")
          yield* connections.commitState(connectionOf(workload), {
            jobId: workload.jobId,
            attemptNumber: workload.attemptNumber,
            state: payload.state
          })
        })),
      stats: ({ params, payload }) =>
        declared(Effect.gen(function*() {
          const workload = yield* activeWorkload(params.id, "stats")
          yield* jobs.writeStats(workload.jobId, workload.attemptNumber, payload.stats, payload.streamStats)
        })),
      logs: ({ params, payload }) =>
        declared(Effect.gen(function*() {
          const workload = yield* activeWorkload(params.id, "logs")
          yield* jobs.appendLogs(workload.jobId, workload.attemptNumber, payload.lines)
        })),
      success: ({ params, payload }) => declared(end(params.id, payload.end, "success")),
      failure: ({ params, payload }) => declared(end(params.id, payload.end, "failure"))
    })
  })
)
