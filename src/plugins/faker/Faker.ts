/**
 * `faker` source: deterministic fake `users`, `products` and `purchases` for tests and benchmarks,
 * with incremental STREAM state on `updated_at` and deterministic fault injection (fail on early
 * attempts, fail after N records). Imports only `src/engine` and `effect`.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { ConnectorError, type ConnectorContext, type InputState, type SourceConnector } from "../../engine/kit/Connector.ts"
import { makeSpec } from "../../engine/kit/Spec.ts"
import { streamEstimateTrace, streamStateOf, streamStatusTrace } from "../../engine/kit/SourceMessages.ts"
import { jsonLinesIpc } from "../../engine/IpcOptions.ts"
import type * as M from "../../engine/protocol/AirbyteMessage.ts"
import type { SourceMessage } from "../../engine/protocol/RecordLines.ts"
import { isoTimestamp, JsonLinesWriter, ObjectRecordWriter } from "../../engine/kit/RecordWriter.ts"
import * as FakerData from "./FakerData.ts"

const PositiveInt = Schema.Int.check(Schema.isGreaterThan(0))
const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

export const FakerConfig = Schema.Struct({
  // A one-member union so that every bad value, also a non-number, reads "expected a positive integer, got …".
  count: Schema.Union([Schema.Number.check(Schema.isInt({ expected: "a positive integer" }), Schema.isGreaterThan(0, { expected: "a positive integer" }))])
    .annotate({ expected: "a positive integer", title: "Count", description: "Number of records generated for each stream." }),
  seed: Schema.optionalKey(
    Schema.Int.annotate({ title: "Seed", description: "Seed of the generator: the same seed always yields the same records.", default: 0 })
  ),
  records_per_state: Schema.optionalKey(
    PositiveInt.annotate({ title: "Records per state", description: "Emit a STREAM state after this many records of a stream.", default: 1000 })
  ),
  fail_until_attempt: Schema.optionalKey(
    NonNegativeInt.annotate({
      title: "Fail until attempt",
      description: "Test knob: reads fail (transient_error) while the job attempt (WORKER_JOB_ATTEMPT, 0 when unset) is below this."
    })
  ),
  fail_after_records: Schema.optionalKey(
    NonNegativeInt.annotate({
      title: "Fail after records",
      description: "Test knob: the read fails after emitting this many records over all streams (only on failing attempts when fail_until_attempt is set)."
    })
  )
})
export type FakerConfig = typeof FakerConfig.Type

export const DEFAULT_RECORDS_PER_STATE = 1000
/**
 * Messages per emitted chunk. Small enough that a batch's objects stay in cache and its bytes fit the
 * pipe's buffer, so the source goes on generating while the reader works: faker → dev-null over stdio
 * ran 15–20 % faster with 100 than with 1000 (three interleaved runs each, bench/README.md).
 */
const BATCH_SIZE = 100

const airbyteStream = (stream: FakerData.FakeStream): M.AirbyteStream => ({
  name: stream.name,
  json_schema: stream.jsonSchema,
  supported_sync_modes: ["full_refresh", "incremental"],
  source_defined_cursor: true,
  default_cursor_field: ["updated_at"],
  source_defined_primary_key: [["id"]],
  is_resumable: true
})

export const catalog: M.AirbyteCatalog = { streams: FakerData.STREAMS.map(airbyteStream) }

const configError = (message: string) => new ConnectorError({ failureType: "config_error", message })

// ------------------------------------------------------------------------------------------------ State

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

interface Cursor {
  readonly text: string
  readonly ms: number
}

/** The `updated_at` cursor of a stream's input state; a null/absent blob means "from the start". */
const cursorOf = (state: InputState, name: string, namespace: string | undefined): Cursor | undefined | ConnectorError => {
  const blob = streamStateOf(state, name, namespace)
  if (blob === undefined || blob === null) return undefined
  if (!isObject(blob)) return configError(`state of stream '${name}' must be an object like {"updated_at": "<ISO timestamp>"}`)
  const value = blob["updated_at"]
  if (value === undefined || value === null) return undefined
  const ms = typeof value === "string" ? Date.parse(value) : Number.NaN
  if (typeof value !== "string" || Number.isNaN(ms)) {
    return configError(`state of stream '${name}': updated_at must be an ISO timestamp, got ${JSON.stringify(value)}`)
  }
  return { text: value, ms }
}

// ------------------------------------------------------------------------------------------------- Read

interface Plan {
  readonly stream: FakerData.FakeStream
  readonly descriptor: M.StreamDescriptor
  readonly namespace: string | undefined
  readonly start: number
  readonly cursor: Cursor | undefined
}

const plan = (config: FakerConfig, configured: M.ConfiguredAirbyteCatalog, state: InputState): ReadonlyArray<Plan> | ConnectorError => {
  const seed = config.seed ?? 0
  const plans: Array<Plan> = []
  for (const entry of configured.streams) {
    const { name, namespace } = entry.stream
    const stream = FakerData.streamNamed(name)
    if (stream === undefined) {
      return configError(`unknown stream '${name}' in the configured catalog: faker has ${FakerData.STREAMS.map((s) => s.name).join(", ")}`)
    }
    const descriptor: M.StreamDescriptor = namespace === undefined ? { name } : { name, namespace }
    if (entry.sync_mode === "full_refresh") {
      plans.push({ stream, descriptor, namespace, start: 0, cursor: undefined })
      continue
    }
    const cursor = cursorOf(state, name, namespace)
    if (cursor instanceof ConnectorError) return cursor
    const start = cursor === undefined ? 0 : FakerData.firstIndexAfter(stream, seed, cursor.ms, config.count)
    plans.push({ stream, descriptor, namespace, start, cursor })
  }
  return plans
}

const stateMessage = (descriptor: M.StreamDescriptor, cursor: string | undefined, recordCount: number): M.AirbyteMessage => ({
  type: "STATE",
  state: {
    type: "STREAM",
    stream: { stream_descriptor: descriptor, stream_state: cursor === undefined ? {} : { updated_at: cursor } },
    sourceStats: { recordCount }
  }
})

/** When the read must fail: never, at once, or once this many records were emitted. */
const failurePoint = (config: FakerConfig, context: ConnectorContext): number | undefined => {
  const attempt = context.attempt ?? 0
  const armed = config.fail_until_attempt === undefined
    ? config.fail_after_records !== undefined
    : attempt < config.fail_until_attempt
  return armed ? config.fail_after_records ?? 0 : undefined
}

const injected = (config: FakerConfig, context: ConnectorContext, emitted: number) =>
  new ConnectorError({
    failureType: "transient_error",
    message: `injected test failure after ${emitted} records (faker fail_until_attempt=${config.fail_until_attempt ?? "unset"}, ` +
      `fail_after_records=${config.fail_after_records ?? "unset"}, attempt=${context.attempt ?? 0})`
  })

/**
 * How a stream's records are written: as RECORD objects, or (jsonLines) straight into JSONL bytes with
 * the same writer calls, which costs a fraction of building objects and stringifying them.
 */
interface Emitter {
  /** Writes record `index`; returns its `updated_at` in epoch ms. */
  readonly record: (index: number) => number
  /** The records written since the last flush, appended to `out`. */
  readonly flush: (out: Array<SourceMessage>) => void
}

const emitterFor = (p: Plan, seed: number, count: number, jsonLines: boolean): Emitter => {
  if (jsonLines) {
    const w = new JsonLinesWriter(p.stream.name, p.namespace)
    return {
      record: (index) => {
        w.begin()
        const updatedAt = FakerData.writeRecord(w, p.stream, seed, index, count)
        w.end(Date.now())
        return updatedAt
      },
      flush: (out) => {
        const lines = w.take()
        if (lines !== undefined) out.push(lines)
      }
    }
  }
  const w = new ObjectRecordWriter()
  let pending: Array<M.RecordMessage> = []
  return {
    record: (index) => {
      w.begin()
      const updatedAt = FakerData.writeRecord(w, p.stream, seed, index, count)
      const data = w.end()
      pending.push({
        type: "RECORD",
        record: p.namespace === undefined
          ? { stream: p.stream.name, data, emitted_at: Date.now() }
          : { stream: p.stream.name, namespace: p.namespace, data, emitted_at: Date.now() }
      })
      return updatedAt
    },
    flush: (out) => {
      for (const record of pending) out.push(record)
      pending = []
    }
  }
}

/**
 * The whole read as batches of messages (each at most BATCH_SIZE records long), or a final
 * ConnectorError. Record i of a stream is generated on demand, so memory stays flat whatever `count`
 * is. With a failure point N: after the N-th record (and the states a normal run emits there) the read
 * fails; if the read has fewer than N records, it fails at its end.
 */
function* batches(
  config: FakerConfig,
  plans: ReadonlyArray<Plan>,
  context: ConnectorContext,
  jsonLines: boolean
): Generator<ReadonlyArray<SourceMessage> | ConnectorError> {
  const seed = config.seed ?? 0
  const perState = config.records_per_state ?? DEFAULT_RECORDS_PER_STATE
  const failAt = failurePoint(config, context)
  if (failAt === 0) return yield injected(config, context, 0)
  let emitted = 0
  // Every stream's estimate up front, so progress can be shown against the whole read.
  yield plans.map((p) => streamEstimateTrace(p.descriptor, Math.max(0, config.count - p.start)))
  for (const p of plans) {
    const emitter = emitterFor(p, seed, config.count, jsonLines)
    let out: Array<SourceMessage> = [streamStatusTrace(p.descriptor, "STARTED")]
    let cursorMs: number | undefined
    const cursor = () => (cursorMs === undefined ? p.cursor?.text : isoTimestamp(cursorMs))
    let sinceState = 0
    let inBatch = 0
    for (let index = p.start; index < config.count; index++) {
      cursorMs = emitter.record(index)
      emitted++
      sinceState++
      inBatch++
      const last = index === config.count - 1
      if (sinceState === perState || (last && failAt === emitted)) {
        emitter.flush(out)
        out.push(stateMessage(p.descriptor, cursor(), sinceState))
        sinceState = 0
      }
      if (failAt === emitted) {
        emitter.flush(out)
        out.push(streamStatusTrace(p.descriptor, last ? "COMPLETE" : "INCOMPLETE"))
        yield out
        return yield injected(config, context, emitted)
      }
      if (inBatch >= BATCH_SIZE) {
        emitter.flush(out)
        yield out
        out = []
        inBatch = 0
      }
    }
    emitter.flush(out)
    // The final state of a stream, also for a stream that emitted nothing (the platform needs one).
    if (sinceState > 0 || p.start >= config.count) out.push(stateMessage(p.descriptor, cursor(), sinceState))
    out.push(streamStatusTrace(p.descriptor, "COMPLETE"))
    yield out
  }
  if (failAt !== undefined) yield injected(config, context, emitted)
}

const read: SourceConnector<FakerConfig>["read"] = ({ catalog: configured, config, context, jsonLines, state }) =>
  Stream.suspend(() => {
    const plans = plan(config, configured, state)
    if (plans instanceof ConnectorError) return Stream.fail(plans)
    const iterator = batches(config, plans, context, jsonLines)
    return Stream.paginate(undefined, () => {
      const next = iterator.next()
      if (next.done === true) return Effect.succeed([[], Option.none()] as const)
      if (next.value instanceof ConnectorError) return Effect.fail(next.value)
      return Effect.succeed([next.value, Option.some(undefined)] as const)
    })
  })

export const faker: SourceConnector<FakerConfig> = {
  id: "faker",
  kind: "source",
  description: "Deterministic fake users, products and purchases (incremental on updated_at), with fault-injection knobs.",
  config: FakerConfig,
  spec: makeSpec({ config: FakerConfig, title: "faker source", supportsIncremental: true }),
  ipc: jsonLinesIpc,
  check: () => Effect.succeed({ status: "SUCCEEDED" }),
  discover: () => Effect.succeed(catalog),
  read
}
