/**
 * What the handlers need to know about their server: the API token (absent: open, loopback only),
 * the dataplane id and version for /health, and the worker heartbeat timing sent in each input.
 */
import { Context, type Redacted } from "effect"

export class ApiSettings extends Context.Service<ApiSettings, {
  readonly apiToken: Redacted.Redacted<string> | undefined
  readonly dataplane: string
  readonly version: string
  readonly heartbeatIntervalMs: number
  readonly heartbeatTimeoutMs: number
}>()("sluice/api/ApiSettings") {}
