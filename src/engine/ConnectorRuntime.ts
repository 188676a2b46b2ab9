/**
 * Runs any Airbyte-protocol connector given as a command: spec, check, discover, read and write.
 * stdout becomes a typed Stream of messages (backpressured, batch by batch); LOG messages, stderr
 * and non-protocol lines go to the log callback; exit codes, signals, TRACE ERRORs, invalid output
 * and timeouts become ConnectorFailures. Interrupting the consumer terminates the process. Processes
 * start on the ConnectorHost in the context (a local child by default, a sidecar container in a pod).
 */
import * as NodeSink from "@effect/platform-node/NodeSink"
import * as NodeStream from "@effect/platform-node/NodeStream"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as Batch from "./Batch.ts"
import { type ConnectorCommand, ConnectorFailure, fromErrorTrace } from "./ConnectorFailure.ts"
import { ConnectorHost } from "./ConnectorHost.ts"
import type { ExitStatus, ProcessOptions, RunningProcess } from "./ConnectorProcess.ts"
import type * as M from "./protocol/AirbyteMessage.ts"
import * as Jsonl from "./protocol/Jsonl.ts"

export interface RunOptions extends ProcessOptions {
  /** Fails the run with a transient_error when it takes longer. Defaults per command below. */
  readonly timeout?: Duration.Input | undefined
  readonly maxLineBytes?: number | undefined
  /** Keep each RECORD's JSON text for a relay that forwards records unchanged (see Jsonl.rawLineOf). */
  readonly keepRawRecords?: boolean | undefined
}

/** Default time limits: spec/check are quick; discover may scan a large database; read/write are unbounded. */
export const DEFAULT_TIMEOUTS: Readonly<Record<ConnectorCommand, Duration.Input | undefined>> = {
  spec: "5 minutes",
  check: "10 minutes",
  discover: "30 minutes",
  read: undefined,
  write: undefined
}

const describeExit = (status: ExitStatus): string =>
  status.signal !== null ? `was killed by ${status.signal}` : `exited with code ${status.code}`

/** The failure a finished process represents, if any: TRACE ERROR first, then the exit status. */
const classifyExit = (
  options: RunOptions,
  command: ConnectorCommand,
  proc: RunningProcess,
  status: ExitStatus,
  errors: ReadonlyArray<M.AirbyteErrorTraceMessage>
): ConnectorFailure | undefined => {
  const exitCode = status.code ?? undefined
  const first = errors[0]
  if (first !== undefined) return fromErrorTrace(options.role, command, first, exitCode)
  if (status.code === 0) return undefined
  const tail = proc.stderrTail()
  const hint = status.signal === "SIGKILL" ? " (possibly out of memory)" : ""
  return new ConnectorFailure({
    origin: options.role,
    command,
    failureType: "system_error",
    externalMessage: `the ${options.role} ${describeExit(status)}${hint} without reporting an error; see its logs`,
    internalMessage: `${options.connector.command.join(" ")} ${command} ${describeExit(status)}` +
      (tail.length > 0 ? `; last stderr lines:\n${tail}` : ""),
    exitCode,
    signal: status.signal ?? undefined,
    fromTraceMessage: false
  })
}

const timeoutFailure = (options: RunOptions, command: ConnectorCommand, timeout: Duration.Duration) =>
  new ConnectorFailure({
    origin: options.role,
    command,
    failureType: "transient_error",
    externalMessage: `the ${options.role} ${command} did not finish within ${Duration.format(timeout)}`,
    internalMessage: `${options.connector.command.join(" ")} ${command} timed out after ${Duration.format(timeout)}`,
    fromTraceMessage: false
  })

/**
 * The messages on a running connector's stdout, then its exit status checked. LOG messages are sent
 * to `onLog` and not emitted; TRACE ERRORs are emitted and remembered to classify the exit.
 */
const outputOf = (
  options: RunOptions,
  command: ConnectorCommand,
  proc: RunningProcess
): Stream.Stream<M.AirbyteMessage, ConnectorFailure> => {
  const errors: Array<M.AirbyteErrorTraceMessage> = []
  const onLog = options.onLog
  const messages = NodeStream.fromReadable<Uint8Array, ConnectorFailure>({
    evaluate: () => proc.stdout,
    onError: (cause) =>
      new ConnectorFailure({
        origin: options.role,
        command,
        failureType: "system_error",
        externalMessage: `reading the ${options.role}'s output failed`,
        internalMessage: String(cause),
        fromTraceMessage: false
      }),
    chunkSize: 1
  }).pipe(
    Jsonl.decodeMessages({
      maxLineBytes: options.maxLineBytes,
      keepRaw: options.keepRawRecords,
      onNotProtocol: (line) =>
        onLog?.({ origin: options.role, channel: "stdout", level: "INFO", message: line, timestamp: Date.now() })
    }),
    Stream.mapError((error) =>
      error instanceof ConnectorFailure ? error : new ConnectorFailure({
        origin: options.role,
        command,
        failureType: "system_error",
        externalMessage: `the ${options.role} broke the Airbyte protocol: ${error.message}`,
        internalMessage: error.message,
        fromTraceMessage: false
      })
    ),
    Batch.mapBatch((batch) => {
      let kept: Array<M.AirbyteMessage> | undefined
      for (let i = 0; i < batch.length; i++) {
        const message = batch[i]!
        if (message.type === "LOG") {
          onLog?.({ origin: options.role, channel: "log", level: message.log.level, message: message.log.message, timestamp: Date.now() })
          kept ??= batch.slice(0, i)
          continue
        }
        if (message.type === "TRACE" && message.trace.type === "ERROR" && message.trace.error !== undefined) {
          errors.push(message.trace.error)
        }
        kept?.push(message)
      }
      return kept ?? batch
    })
  )
  const verdict = Effect.flatMap(proc.exit, (status) => {
    const failure = classifyExit(options, command, proc, status, errors)
    return failure === undefined ? Effect.void : Effect.fail(failure)
  })
  const output = Stream.concat(messages, Stream.drain(Stream.fromEffect(verdict)))
  return proc.lost === undefined ? output : Stream.interruptWhen(output, proc.lost)
}

/** Starts a command on the host in the context. */
const start = (options: RunOptions, command: ConnectorCommand, inputs: Readonly<Record<string, unknown>>) =>
  ConnectorHost.use((host) => host.start(options, command, inputs))

const withTimeout = (options: RunOptions, command: ConnectorCommand) =>
<A, E>(stream: Stream.Stream<A, E>): Stream.Stream<A, E | ConnectorFailure> => {
  const input = options.timeout ?? DEFAULT_TIMEOUTS[command]
  if (input === undefined) return stream
  const timeout = Duration.fromInputUnsafe(input)
  return Stream.interruptWhen(stream, Effect.flatMap(Effect.sleep(timeout), () => Effect.fail(timeoutFailure(options, command, timeout))))
}

/** Runs a command and streams everything it prints (except LOG messages). */
const run = (
  options: RunOptions,
  command: ConnectorCommand,
  inputs: Readonly<Record<string, unknown>>
): Stream.Stream<M.AirbyteMessage, ConnectorFailure> =>
  Stream.unwrap(Effect.map(start(options, command, inputs), (proc) => outputOf(options, command, proc))).pipe(
    withTimeout(options, command)
  )

const missing = (options: RunOptions, command: ConnectorCommand, expected: string) =>
  new ConnectorFailure({
    origin: options.role,
    command,
    failureType: "system_error",
    externalMessage: `the ${options.role} exited without printing a ${expected} message`,
    internalMessage: `${options.connector.command.join(" ")} ${command}: no ${expected} message on stdout`,
    fromTraceMessage: false
  })

/** Runs a command whose answer is one message of a given type; the last one wins. */
const single = <T extends M.AirbyteMessageType, A>(
  options: RunOptions,
  command: ConnectorCommand,
  inputs: Readonly<Record<string, unknown>>,
  type: T,
  pick: (message: Extract<M.AirbyteMessage, { readonly type: T }>) => A
): Effect.Effect<A, ConnectorFailure> =>
  Effect.gen(function*() {
    let found: A | undefined
    const exit = yield* Effect.exit(Stream.runForEach(run(options, command, inputs), (message) =>
      Effect.sync(() => {
        if (message.type === type) found = pick(message as Extract<M.AirbyteMessage, { readonly type: T }>)
      })))
    // A connector that answered and then exited non-zero still answered (check often does this).
    if (found !== undefined && (command === "check" || Exit.isSuccess(exit))) return found
    if (Exit.isFailure(exit)) return yield* Effect.failCause(exit.cause)
    return yield* missing(options, command, type)
  })

export const spec = (options: RunOptions): Effect.Effect<M.ConnectorSpecification, ConnectorFailure> =>
  single(options, "spec", {}, "SPEC", (m) => m.spec)

export const check = (options: RunOptions, config: unknown): Effect.Effect<M.AirbyteConnectionStatus, ConnectorFailure> =>
  single(options, "check", { config }, "CONNECTION_STATUS", (m) => m.connectionStatus)

export const discover = (options: RunOptions, config: unknown): Effect.Effect<M.AirbyteCatalog, ConnectorFailure> =>
  single(options, "discover", { config }, "CATALOG", (m) => m.catalog)

export interface ReadInput {
  readonly config: unknown
  readonly catalog: M.ConfiguredAirbyteCatalog
  /** An array of STREAM/GLOBAL state messages, or a LEGACY blob; omitted for a first sync. */
  readonly state?: unknown
}

/** A source's output: RECORD, STATE, TRACE and CONTROL messages in order, then its exit checked. */
export const read = (options: RunOptions, input: ReadInput): Stream.Stream<M.AirbyteMessage, ConnectorFailure> =>
  run(options, "read", { config: input.config, catalog: input.catalog, state: input.state })

export interface WriteInput<E> {
  readonly config: unknown
  readonly catalog: M.ConfiguredAirbyteCatalog
  /** JSONL bytes for the destination's stdin (see Jsonl.encodeMessages). */
  readonly input: Stream.Stream<Uint8Array, E>
}

/**
 * A destination's output (echoed STATEs, TRACE, CONTROL) while `input` is fed to its stdin. A failure
 * of `input` fails the stream and terminates the destination (its stdin is not closed cleanly, so it
 * cannot mistake a broken input for a complete one).
 */
export const write = <E>(options: RunOptions, input: WriteInput<E>): Stream.Stream<M.AirbyteMessage, ConnectorFailure | E> =>
  Stream.unwrap(Effect.gen(function*() {
    const proc = yield* start(options, "write", { config: input.config, catalog: input.catalog })
    const sink = NodeSink.fromWritable<"StdinClosed", Uint8Array>({
      evaluate: () => proc.stdin,
      onError: () => "StdinClosed" as const,
      endOnDone: true
    })
    // The destination closing its stdin early is judged by its exit status, not here.
    const feeder = yield* Stream.run(input.input, sink).pipe(
      Effect.catchIf((error): error is "StdinClosed" => error === "StdinClosed", () => Effect.void),
      Effect.forkScoped
    )
    return Stream.merge(outputOf(options, "write", proc), Stream.drain(Stream.fromEffect(Fiber.join(feeder))))
  })).pipe(withTimeout(options, "write"))
