/**
 * What the handlers need to know about their server: the API token (absent: open, loopback only),
 * the dataplane id and version for /health, and the worker heartbeat timing and replication limits
 * sent in each input.
 */
import * as Context from "effect/Context"
import type * as Redacted from "effect/Redacted"
import type { ReplicationSettings } from "../../scheduler/SyncAttempt.ts"

export class ApiSettings extends Context.Service<ApiSettings, {
  readonly apiToken: Redacted.Redacted<string> | undefined
  readonly dataplane: string
  readonly version: string
  readonly heartbeatIntervalMs: number
  readonly heartbeatTimeoutMs: number
  /** The replication limits the operator set (SLUICE_DESTINATION_TIMEOUT_SECONDS and the others of ServeSettings). */
  readonly replication?: ReplicationSettings
}>()("sluice/api/ApiSettings") {}
