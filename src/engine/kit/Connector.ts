/**
 * The contract a connector implementation fulfils to run through the connector kit: a data spec (id,
 * kind, config Schema, spec, IPC options) plus check/discover/read or check/write. The kit owns
 * argv, files, stdout framing and transports; implementations only produce or consume messages.
 * Must not import plugins, SQL, HTTP or k8s.
 */
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import type * as Stream from "effect/Stream"
import type * as M from "../protocol/AirbyteMessage.ts"
import type { SourceMessage } from "../protocol/RecordLines.ts"
import type { IpcOptions } from "../IpcOptions.ts"

/** A failure a connector reports; the kit prints it as a TRACE ERROR and exits non-zero. */
export class ConnectorError extends Data.TaggedError("ConnectorError")<{
  readonly failureType: M.FailureType
  readonly message: string
  readonly internalMessage?: string | undefined
  readonly streamDescriptor?: M.StreamDescriptor | undefined
}> {}

/** What the process was started with (Airbyte passes the same to its connectors). */
export interface ConnectorContext {
  /** `WORKER_JOB_ID`, when run by a scheduler. */
  readonly jobId: string | undefined
  /** `WORKER_JOB_ATTEMPT`, when run by a scheduler. */
  readonly attempt: number | undefined
}

/** The `--state` input: an array of STREAM/GLOBAL states, or the bare `data` of a LEGACY state. */
export type InputState =
  | { readonly _tag: "None" }
  | { readonly _tag: "PerStream"; readonly states: ReadonlyArray<M.AirbyteStateMessage> }
  | { readonly _tag: "Legacy"; readonly data: M.JsonObject }

interface ConnectorBase<C> {
  readonly id: string
  readonly description: string
  /** Decodes the JSON config; errors name the bad field. */
  readonly config: Schema.Codec<C, unknown>
  readonly spec: M.ConnectorSpecification
  readonly ipc: IpcOptions
  check(config: C, context: ConnectorContext): Effect.Effect<M.AirbyteConnectionStatus, ConnectorError>
}

export interface SourceConnector<C> extends ConnectorBase<C> {
  readonly kind: "source"
  discover(config: C, context: ConnectorContext): Effect.Effect<M.AirbyteCatalog, ConnectorError>
  /**
   * RECORD, STATE, LOG and TRACE messages in order; the kit frames and routes them. Records may also
   * come as RecordLines the source wrote itself (kit/RecordWriter.ts).
   */
  read(input: {
    readonly config: C
    readonly catalog: M.ConfiguredAirbyteCatalog
    readonly state: InputState
    readonly context: ConnectorContext
    /**
     * true when the kit writes this read's records as JSON lines (stdout, JSONL sockets): RecordLines
     * then go out as they are. false for a protobuf socket, which must parse them back: emit objects.
     */
    readonly jsonLines: boolean
  }): Stream.Stream<SourceMessage, ConnectorError>
}

export interface DestinationConnector<C> extends ConnectorBase<C> {
  readonly kind: "destination"
  /**
   * `false` when `write` never looks at a record's `data` (dev-null). The kit then hands it records with
   * empty `data` and does not parse what it can skip: JSONL records in the plain shape
   * (protocol/RecordSkim.ts), SLUICE_PROTOBUF typed data and PROTOBUF cells. Envelopes, states and socket-mode counts
   * are checked as always; the data itself is not validated. Default true.
   */
  readonly readsRecordData?: boolean | undefined
  /**
   * Consumes RECORD and STATE messages and emits echoed STATEs (plus LOG/TRACE). Contract: a STATE is
   * emitted only after every record received before it is durably written.
   */
  write<E>(input: {
    readonly config: C
    readonly catalog: M.ConfiguredAirbyteCatalog
    readonly messages: Stream.Stream<M.AirbyteMessage, E>
    readonly context: ConnectorContext
  }): Stream.Stream<M.AirbyteMessage, ConnectorError | E>
}

/** Any connector, whatever its config type (methods are bivariant in their parameters). */
export type AnyConnector = SourceConnector<unknown> | DestinationConnector<unknown>
