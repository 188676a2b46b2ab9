/**
 * The public shape of a job with its attempts, as Airbyte's JobInfoRead: what `sluice sync --json`,
 * `sluice jobs get` and the HTTP API return. Pure mapping from the store's models.
 */
import type { Attempt } from "./Attempt.ts"
import type { JobInfo } from "./JobStore.ts"

export const toJobRead = (job: JobInfo["job"]) => ({
  id: job.id,
  configType: job.configType,
  configId: job.scope,
  status: job.status,
  createdAt: job.createdAt,
  updatedAt: job.updatedAt
})

export const toAttemptRead = (attempt: Attempt) => ({
  id: attempt.id,
  attemptNumber: attempt.attemptNumber,
  status: attempt.status,
  createdAt: attempt.createdAt,
  updatedAt: attempt.updatedAt,
  ...(attempt.endedAt === undefined ? {} : { endedAt: attempt.endedAt }),
  ...(attempt.totalStats === undefined ? {} : { totalStats: attempt.totalStats }),
  streamStats: attempt.streamStats.map((s) => ({
    streamName: s.streamName,
    ...(s.streamNamespace === undefined ? {} : { streamNamespace: s.streamNamespace }),
    stats: s.stats
  })),
  ...(attempt.failureSummary === undefined ? {} : { failureSummary: attempt.failureSummary }),
  ...(attempt.transport === undefined ? {} : { transport: attempt.transport }),
  ...(attempt.output === undefined ? {} : { output: attempt.output })
})

export const toJobInfoRead = (info: JobInfo) => ({
  job: toJobRead(info.job),
  attempts: info.attempts.map(toAttemptRead)
})
