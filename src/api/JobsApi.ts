/**
 * The jobs group: list with filters and cursor paging, get (JobInfoRead), get light, cancel, and an
 * attempt's logs by offset. Declaration only (handlers in JobsHandlers.ts).
 */
import * as Schema from "effect/Schema"
import { HttpApiEndpoint, HttpApiGroup } from "effect/http-api"
import { LogPage } from "../scheduler/AttemptLog.ts"
import { AttemptNumber, JobId } from "../scheduler/Ids.ts"
import { JobConfigType } from "../scheduler/Job.ts"
import { JobStatus } from "../scheduler/JobStatus.ts"
import { AttemptNotFound, JobNotFound } from "../scheduler/StoreErrors.ts"
import { JobInfoLightRead, JobInfoRead, JobPage } from "./ApiModels.ts"
import { ApiAuth } from "./Auth.ts"

const PageSize = Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: 1000 }))
const Offset = Schema.NumberFromString.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(0))

export class JobsApi extends HttpApiGroup.make("jobs")
  .add(
    HttpApiEndpoint.get("list", "/jobs", {
      query: {
        connection: Schema.optionalKey(Schema.String),
        status: Schema.optionalKey(JobStatus),
        type: Schema.optionalKey(JobConfigType),
        limit: Schema.optionalKey(PageSize),
        cursor: Schema.optionalKey(JobId)
      },
      success: JobPage
    }),
    HttpApiEndpoint.get("get", "/jobs/:id", { params: { id: JobId }, success: JobInfoRead, error: JobNotFound }),
    HttpApiEndpoint.get("getLight", "/jobs/:id/light", { params: { id: JobId }, success: JobInfoLightRead, error: JobNotFound }),
    HttpApiEndpoint.post("cancel", "/jobs/:id/cancel", { params: { id: JobId }, success: JobInfoRead, error: JobNotFound }),
    HttpApiEndpoint.get("logs", "/jobs/:id/attempts/:attempt/logs", {
      params: { id: JobId, attempt: AttemptNumber },
      query: { offset: Schema.optionalKey(Offset), limit: Schema.optionalKey(PageSize) },
      success: LogPage,
      error: AttemptNotFound
    })
  )
  .middleware(ApiAuth)
{}
