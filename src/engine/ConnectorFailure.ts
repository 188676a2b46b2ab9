/**
 * How a connector run fails, as seen from the engine: an origin (source or destination), a type
 * (config_error, system_error, transient_error) and messages for users and operators. Built from
 * TRACE ERROR messages, exit codes, signals, timeouts and protocol violations. Imports only `effect`.
 */
import * as Data from "effect/Data"
import type * as M from "./protocol/AirbyteMessage.ts"

export type ConnectorRole = "source" | "destination"
export type ConnectorCommand = "spec" | "check" | "discover" | "read" | "write"
export type ConnectorFailureType = M.FailureType

export class ConnectorFailure extends Data.TaggedError("ConnectorFailure")<{
  readonly origin: ConnectorRole
  readonly failureType: ConnectorFailureType
  readonly command: ConnectorCommand
  /** For users: what went wrong and, where possible, what to do. */
  readonly externalMessage: string
  /** For operators: the underlying detail (stderr tail, exit code, parse error). */
  readonly internalMessage: string
  readonly stacktrace?: string | undefined
  readonly streamDescriptor?: M.StreamDescriptor | undefined
  readonly exitCode?: number | undefined
  readonly signal?: string | undefined
  readonly fromTraceMessage: boolean
}> {
  override get message() {
    return `${this.origin} ${this.command} failed (${this.failureType}): ${this.externalMessage}`
  }
  /** Config errors need a user to act; retrying them cannot help. */
  get retryable(): boolean {
    return this.failureType !== "config_error"
  }
}

const FAILURE_TYPES: ReadonlyArray<string> = ["system_error", "config_error", "transient_error"]

/** A TRACE ERROR as a failure; an unknown `failure_type` falls back to system_error, as Airbyte does. */
export const fromErrorTrace = (
  origin: ConnectorRole,
  command: ConnectorCommand,
  error: M.AirbyteErrorTraceMessage,
  exitCode: number | undefined
): ConnectorFailure =>
  new ConnectorFailure({
    origin,
    command,
    failureType: error.failure_type !== undefined && FAILURE_TYPES.includes(error.failure_type)
      ? error.failure_type as ConnectorFailureType
      : "system_error",
    externalMessage: error.message,
    internalMessage: error.internal_message ?? error.message,
    stacktrace: error.stack_trace,
    streamDescriptor: error.stream_descriptor,
    exitCode,
    fromTraceMessage: true
  })
