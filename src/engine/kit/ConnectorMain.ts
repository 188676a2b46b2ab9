/**
 * The process side of a connector: parses `spec|check|discover|read|write [--config F] [--catalog F]
 * [--state F]`, decodes the files, runs the implementation and writes protocol messages to stdout
 * with backpressure. Failures become a TRACE ERROR and a non-zero exit code, as the protocol asks.
 * With DATA_CHANNEL_MEDIUM=SOCKET, `read` and `write` move records over SocketSource/SocketDestination.
 */
import * as NodeSink from "@effect/platform-node/NodeSink"
import * as NodeStream from "@effect/platform-node/NodeStream"
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { readFile } from "node:fs/promises"
import { parseArgs } from "node:util"
import * as M from "../protocol/AirbyteMessage.ts"
import * as Jsonl from "../protocol/Jsonl.ts"
import { isRecordLines, MalformedRecordLines, type RecordLines, type SourceMessage } from "../protocol/RecordLines.ts"
import * as SchemaErrors from "../SchemaErrors.ts"
import { type AnyConnector, ConnectorError, type ConnectorContext, type InputState } from "./Connector.ts"
import * as DataChannel from "./DataChannel.ts"
import { malformedLinesError } from "./SourceMessages.ts"

export const COMMANDS = ["spec", "check", "discover", "read", "write"] as const
export type ConnectorCommandName = typeof COMMANDS[number]

class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

/** The process I/O the harness talks to (real stdio in production, anything in tests). */
export interface ConnectorIO {
  readonly stdin: NodeJS.ReadableStream
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
  readonly env: NodeJS.ProcessEnv
}

const now = () => Date.now()

export const traceError = (error: ConnectorError): M.TraceMessage => ({
  type: "TRACE",
  trace: {
    type: "ERROR",
    emitted_at: now(),
    error: {
      message: error.message,
      failure_type: error.failureType,
      ...(error.internalMessage === undefined ? {} : { internal_message: error.internalMessage }),
      ...(error.streamDescriptor === undefined ? {} : { stream_descriptor: error.streamDescriptor })
    }
  }
})

const configError = (message: string) => new ConnectorError({ failureType: "config_error", message })

const readJsonFile = (flag: string, path: string | undefined) =>
  Effect.gen(function*() {
    if (path === undefined) return yield* configError(`missing --${flag} <file>`)
    const text = yield* Effect.tryPromise({
      try: () => readFile(path, "utf8"),
      catch: (cause) => configError(`cannot read --${flag} file ${path}: ${(cause as Error).message}`)
    })
    return yield* Effect.try({
      try: (): unknown => JSON.parse(text),
      catch: (cause) => configError(`--${flag} file ${path} is not valid JSON: ${(cause as Error).message}`)
    })
  })

const decodeWith = <A>(schema: Schema.Codec<A, unknown>, what: string) => {
  const decode = SchemaErrors.decodeAll(schema)
  return (input: unknown): Effect.Effect<A, ConnectorError> => {
    const exit = decode(input)
    return Exit.isSuccess(exit)
      ? Effect.succeed(exit.value)
      : Effect.fail(configError(`invalid ${what}:\n${Exit.isFailure(exit) ? Cause.squash(exit.cause) : ""}`))
  }
}

const decodeCatalog = decodeWith(M.ConfiguredAirbyteCatalog, "configured catalog")
const decodeStates = decodeWith(Schema.Array(M.AirbyteStateMessage), "state")

/** `--state` holds an array of STREAM/GLOBAL states, or a LEGACY blob (any other JSON object). */
const toInputState = (raw: unknown): Effect.Effect<InputState, ConnectorError> => {
  if (raw === null || raw === undefined) return Effect.succeed({ _tag: "None" })
  if (Array.isArray(raw)) {
    return Effect.map(decodeStates(raw), (states): InputState => (states.length === 0 ? { _tag: "None" } : { _tag: "PerStream", states }))
  }
  if (typeof raw === "object") return Effect.succeed({ _tag: "Legacy", data: raw as M.JsonObject })
  return Effect.fail(configError("state file must hold a JSON array of state messages or a JSON object"))
}

const contextOf = (env: NodeJS.ProcessEnv): ConnectorContext => {
  const attempt = env["WORKER_JOB_ATTEMPT"] === undefined ? undefined : Number(env["WORKER_JOB_ATTEMPT"])
  return { jobId: env["WORKER_JOB_ID"], attempt: attempt !== undefined && Number.isFinite(attempt) ? attempt : undefined }
}

const parse = (argv: ReadonlyArray<string>) =>
  Effect.try({
    try: () =>
      parseArgs({
        args: [...argv],
        allowPositionals: true,
        options: { config: { type: "string" }, catalog: { type: "string" }, state: { type: "string" } }
      }),
    catch: (cause) => new UsageError({ message: (cause as Error).message })
  })

/** The messages a command produces, before framing. */
const messagesFor = (
  connector: AnyConnector,
  command: ConnectorCommandName,
  flags: { readonly config?: string | undefined; readonly catalog?: string | undefined; readonly state?: string | undefined },
  io: ConnectorIO
): Stream.Stream<SourceMessage, ConnectorError> => {
  const context = contextOf(io.env)
  const config = readJsonFile("config", flags.config).pipe(Effect.flatMap(decodeWith(connector.config, "config")))
  const one = <A>(effect: Effect.Effect<A, ConnectorError>, wrap: (a: A) => M.AirbyteMessage) =>
    Stream.fromEffect(Effect.map(effect, wrap))

  switch (command) {
    case "spec":
      return Stream.succeed({ type: "SPEC", spec: connector.spec })
    case "check":
      // A bad config is a FAILED status (exit 0), not a crash: that is what `check` is for.
      return one(
        readJsonFile("config", flags.config).pipe(
          Effect.flatMap((raw) => {
            const decoded = SchemaErrors.decodeAll(connector.config)(raw)
            return Exit.isSuccess(decoded)
              ? connector.check(decoded.value, context)
              : Effect.succeed<M.AirbyteConnectionStatus>({
                status: "FAILED",
                message: `invalid config: ${Exit.isFailure(decoded) ? Cause.squash(decoded.cause) : ""}`.replaceAll("\n", "; ")
              })
          }),
          Effect.catch((error) => Effect.succeed<M.AirbyteConnectionStatus>({ status: "FAILED", message: error.message }))
        ),
        (connectionStatus) => ({ type: "CONNECTION_STATUS", connectionStatus })
      )
    case "discover":
      if (connector.kind !== "source") return Stream.fail(configError(`${connector.id} is a destination: it has no discover`))
      return one(Effect.flatMap(config, (c) => connector.discover(c, context)), (catalog) => ({ type: "CATALOG", catalog }))
    case "read": {
      if (connector.kind !== "source") return Stream.fail(configError(`${connector.id} is a destination: it cannot read`))
      const channel = DataChannel.fromEnv(io.env)
      if (channel instanceof ConnectorError) return Stream.fail(channel)
      const inputs = Effect.all({
        config,
        catalog: readJsonFile("catalog", flags.catalog).pipe(Effect.flatMap(decodeCatalog)),
        state: flags.state === undefined ? Effect.succeed<InputState>({ _tag: "None" }) : readJsonFile("state", flags.state).pipe(Effect.flatMap(toInputState))
      })
      return Stream.unwrap(Effect.flatMap(inputs, ({ catalog, config, state }) => {
        const jsonLines = channel._tag === "Stdio" || channel.format === "JSONL"
        const messages = connector.read({ config, catalog, state, context, jsonLines })
        if (channel._tag === "Stdio") return Effect.succeed(messages)
        // Socket mode (loaded on demand, so stdio start-up stays as it was): records go to the sockets,
        // the returned stream (states, logs, traces) to stdout.
        return Effect.map(Effect.promise(() => import("./SocketSource.ts")), (SocketSource) => SocketSource.serve(channel, catalog)(messages))
      }))
    }
    case "write": {
      if (connector.kind !== "destination") return Stream.fail(configError(`${connector.id} is a source: it cannot write`))
      const channel = DataChannel.fromEnv(io.env)
      if (channel instanceof ConnectorError) return Stream.fail(channel)
      const inputs = Effect.all({ config, catalog: readJsonFile("catalog", flags.catalog).pipe(Effect.flatMap(decodeCatalog)) })
      return Stream.unwrap(Effect.flatMap(inputs, ({ catalog, config }) => {
        if (channel._tag === "Socket") {
          // Socket mode: stdin is not read; the input is the sockets, merged and count-checked.
          return Effect.map(Effect.promise(() => import("./SocketDestination.ts")), (SocketDestination) =>
            SocketDestination.serve({
              channel,
              catalog,
              stderr: io.stderr,
              readsRecordData: connector.readsRecordData !== false,
              write: (messages) => connector.write({ config, catalog, messages, context })
            }))
        }
        const messages = NodeStream.fromReadable<Uint8Array, ConnectorError>({
          evaluate: () => io.stdin as NodeJS.ReadableStream & import("node:stream").Readable,
          onError: (cause) => new ConnectorError({ failureType: "system_error", message: `reading stdin failed: ${String(cause)}` }),
          closeOnDone: false
        }).pipe(
          Jsonl.decodeMessages({
            skimRecords: connector.readsRecordData === false,
            onNotProtocol: (line, n) => io.stderr.write(`ignoring non-protocol input line ${n}: ${line.slice(0, 200)}\n`)
          }),
          Stream.mapError((error) =>
            error instanceof ConnectorError ? error : new ConnectorError({ failureType: "system_error", message: `bad input on stdin: ${error.message}` })
          )
        )
        return Effect.succeed(connector.write({ config, catalog, messages, context }))
      }))
    }
  }
}

/** The bytes a writable still holds (written to it, not yet to the OS); undefined when it cannot say. */
const bufferedBytes = (stream: NodeJS.WritableStream): number | undefined =>
  "writableLength" in stream && typeof stream.writableLength === "number" ? stream.writableLength : undefined

/**
 * Runs one connector command to completion and returns the process exit code: 0 on success,
 * 1 after a TRACE ERROR, 2 for a usage error.
 */
export const runConnector = (connector: AnyConnector, argv: ReadonlyArray<string>, io: ConnectorIO): Effect.Effect<number> =>
  Effect.gen(function*() {
    const parsed = yield* parse(argv)
    const command = parsed.positionals[0]
    if (command === undefined || !COMMANDS.includes(command as ConnectorCommandName)) {
      return yield* new UsageError({ message: `unknown command '${command ?? ""}': expected one of ${COMMANDS.join(", ")}` })
    }
    const sink = NodeSink.fromWritable<ConnectorError, Uint8Array>({
      evaluate: () => io.stdout as NodeJS.WritableStream & import("node:stream").Writable,
      onError: (cause) => new ConnectorError({ failureType: "system_error", message: `writing stdout failed: ${String(cause)}` }),
      endOnDone: false
    })
    // Record lines written to stdout as they are: released once stdout holds nothing (the kernel has
    // their bytes), checked when the next batch is encoded; lines copied by the encoder are released
    // there and then.
    let sent: ReadonlyArray<RecordLines> = []
    const write = (messages: Stream.Stream<SourceMessage, ConnectorError>) =>
      Stream.run(Stream.mapArrayEffect(messages, (batch) => {
        if (sent.length > 0 && bufferedBytes(io.stdout) === 0) for (const lines of sent) lines.release?.()
        sent = []
        const bytes = Jsonl.encodeSourceBatch(batch)
        if (bytes instanceof MalformedRecordLines) return Effect.fail(malformedLinesError(bytes))
        sent = batch.filter((m): m is RecordLines => isRecordLines(m) && m.bytes === bytes)
        return Effect.succeed([bytes] as const)
      }), sink)
    const result = yield* Effect.exit(write(messagesFor(connector, command as ConnectorCommandName, parsed.values, io)))
    if (Exit.isSuccess(result)) return 0
    const failure = Cause.findErrorOption(result.cause)
    const error = failure._tag === "Some"
      ? failure.value
      : new ConnectorError({ failureType: "system_error", message: `${connector.id} crashed`, internalMessage: Cause.pretty(result.cause) })
    yield* write(Stream.succeed(traceError(error))).pipe(Effect.ignore)
    io.stderr.write(`${connector.id} ${command} failed: ${error.message}\n`)
    return 1
  }).pipe(
    Effect.catchTag("UsageError", (error) =>
      Effect.sync(() => {
        io.stderr.write(`${error.message}\nusage: <spec|check|discover|read|write> [--config FILE] [--catalog FILE] [--state FILE]\n`)
        return 2
      }))
  )
