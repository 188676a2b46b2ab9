/**
 * The port through which the scheduler and the API understand a stored connection spec without
 * knowing the config language: validate a spec (create/update), resolve it for a worker (connector
 * commands, configs with secrets resolved at run time), read its schedule and retry policy. The CLI
 * implements it with src/config. Declares no I/O.
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import type { JsonObject } from "../engine/protocol/AirbyteMessage.ts"
import type { IpcOptions } from "../engine/IpcOptions.ts"
import type { RetryPolicy } from "./RetryPolicy.ts"

export interface SpecIssue {
  readonly path: string
  readonly message: string
}

/** The spec does not validate; every problem with its path. */
export class SpecInvalid extends Data.TaggedError("SpecInvalid")<{ readonly issues: ReadonlyArray<SpecIssue> }> {
  override get message() {
    return this.issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ")
  }
}

/** The spec cannot run here (a missing secret, an unavailable connector). */
export class SpecUnresolvable extends Data.TaggedError("SpecUnresolvable")<{ readonly message: string }> {}

export interface ResolvedConnector {
  readonly command: ReadonlyArray<string>
  readonly ipc?: IpcOptions
  readonly env?: Readonly<Record<string, string>>
  readonly cwd?: string
  readonly config: JsonObject
}

export interface ResolvedConnection {
  readonly source: ResolvedConnector
  readonly destination: ResolvedConnector
  readonly streams?: JsonObject
  readonly mappers?: ReadonlyArray<JsonObject>
  readonly transport: "auto" | "stdio" | "socket"
}

export type ConnectionSchedule =
  | { readonly _tag: "manual" }
  | { readonly _tag: "interval"; readonly everyMs: number }
  | { readonly _tag: "cron"; readonly cron: string; readonly timezone?: string }

export class ConnectionSpecs extends Context.Service<ConnectionSpecs, {
  /** Validates a spec for connection `name`; returns it redacted, as it is to be stored. */
  validate(name: string, spec: JsonObject): Effect.Effect<JsonObject, SpecInvalid>
  /** What a worker runs for the stored spec; secrets are resolved here, on the server. */
  resolve(name: string, spec: JsonObject): Effect.Effect<ResolvedConnection, SpecInvalid | SpecUnresolvable>
  /** The spec's schedule (manual when it has none or does not decode). */
  schedule(spec: JsonObject): ConnectionSchedule
  /** The retry policy: the server's defaults with the spec's overrides. */
  policy(spec: JsonObject): Effect.Effect<RetryPolicy, SpecInvalid>
}>()("sluice/scheduler/ConnectionSpecs") {}
