/**
 * The API's two bearer-token schemes: `ApiAuth` (SLUICE_API_TOKEN, for users and the CLI) on the
 * connections and jobs endpoints, and `WorkerAuth` (the per-workload token a launcher hands its
 * worker) on the workload endpoints, which provides the authenticated workload. Declarations only.
 */
import * as Context from "effect/Context"
import { HttpApiMiddleware, HttpApiSecurity } from "effect/http-api"
import type { Workload } from "../scheduler/Workload.ts"
import { Unauthorized } from "./ApiErrors.ts"

export class ApiAuth extends HttpApiMiddleware.Service<ApiAuth>()("sluice/api/ApiAuth", {
  requiredForClient: true,
  security: { bearer: HttpApiSecurity.bearer },
  error: Unauthorized
}) {}

/** The caller of a workload endpoint: its workload (worker token), or `admin` (the API token). */
export class CurrentCaller extends Context.Service<CurrentCaller, { readonly workload: Workload } | { readonly admin: true }>()(
  "sluice/api/CurrentCaller"
) {}

export class WorkerAuth extends HttpApiMiddleware.Service<WorkerAuth, { provides: CurrentCaller }>()("sluice/api/WorkerAuth", {
  requiredForClient: true,
  security: { bearer: HttpApiSecurity.bearer },
  error: Unauthorized
}) {}
