/**
 * Emitted/committed accounting of one attempt, as Airbyte's StreamStatsTracker (reference §4.2): each
 * source STATE gets an integer id and closes the "since last state" buckets of its streams; a
 * destination STATE commits every staged bucket up to and including its id. Synchronous and
 * allocation-light: it is called once per message on the hot path. Imports nothing from outside the engine.
 */
import type * as M from "../protocol/AirbyteMessage.ts"
import { emptyStats, type StreamSyncStats, type SyncStats } from "./SyncStats.ts"

export const streamKey = (name: string, namespace: string | undefined): string =>
  namespace === undefined ? name : `${namespace}\u0000${name}`

class Timing {
  count = 0
  sum = 0
  max = 0
  add(seconds: number) {
    this.count++
    this.sum += seconds
    if (seconds > this.max) this.max = seconds
  }
  get mean() {
    return this.count === 0 ? undefined : this.sum / this.count
  }
}

class StreamCounters {
  emitted = 0
  forwarded = 0
  forwardedBytes = 0
  committed = 0
  committedBytes = 0
  rejected = 0
  sourceStates = 0
  destinationStates = 0
  bucketEmitted = 0
  bucketForwarded = 0
  bucketBytes = 0
  readonly commitLatency = new Timing()
  readonly name: string
  readonly namespace: string | undefined
  readonly resumed: boolean
  constructor(name: string, namespace: string | undefined, resumed: boolean) {
    this.name = name
    this.namespace = namespace
    this.resumed = resumed
  }
}

interface StagedPart {
  readonly counters: StreamCounters
  readonly records: number
  readonly bytes: number
}

interface Staged {
  readonly id: number
  readonly at: number
  readonly parts: ReadonlyArray<StagedPart>
  readonly fingerprint: string
}

export type AckResult =
  | { readonly _tag: "Committed"; readonly id: number; readonly records: number }
  | { readonly _tag: "Unknown"; readonly id: number | undefined }

/** The state without the fields the engine or the destination add, to match echoes that lost their id. */
const fingerprintOf = (state: M.AirbyteStateMessage): string => {
  const { id: _id, partition_id: _p, sourceStats: _s, destinationStats: _d, ...rest } = state
  return JSON.stringify(rest)
}

export interface Phases {
  replicationStartTime?: number
  replicationEndTime?: number
  sourceReadStartTime?: number
  sourceReadEndTime?: number
  destinationWriteStartTime?: number
  destinationWriteEndTime?: number
}

export class StatsTracker {
  private readonly streams = new Map<string, StreamCounters>()
  private readonly staged: Array<Staged> = []
  private nextId = 1
  private highestStaged = 0
  private sourceStates = 0
  private destinationStates = 0
  private lastSourceStateAt: number | undefined
  private readonly betweenSourceStates = new Timing()
  private readonly commitLatency = new Timing()
  private estimatedRecords: number | undefined
  private estimatedBytes: number | undefined
  readonly phases: Phases = {}

  /** `resumed` names the streams that start from an earlier state. */
  constructor(catalog: M.ConfiguredAirbyteCatalog, resumed: ReadonlySet<string> = new Set()) {
    for (const { stream } of catalog.streams) {
      const key = streamKey(stream.name, stream.namespace)
      this.streams.set(key, new StreamCounters(stream.name, stream.namespace, resumed.has(key)))
    }
  }

  /** The counters of a configured stream, or undefined for a stream outside the catalog. */
  counters(name: string, namespace: string | undefined): StreamCounters | undefined {
    return this.streams.get(streamKey(name, namespace))
  }

  /** A record as the source emitted it (before middleware). */
  emitted(counters: StreamCounters) {
    counters.emitted++
    counters.bucketEmitted++
  }

  /** A record as forwarded to the destination (after middleware), with its encoded size. */
  forwarded(counters: StreamCounters, bytes: number) {
    counters.forwarded++
    counters.forwardedBytes += bytes
    counters.bucketForwarded++
    counters.bucketBytes += bytes
  }

  get pendingStates(): number {
    return this.staged.length
  }

  /**
   * A source STATE, after middleware: closes the buckets of its streams, stages them, and returns the
   * state to forward with an `id` and `sourceStats.recordCount` (the source's count minus filtered
   * records, or the forwarded count when the source gave none).
   */
  sourceState(message: M.StateMessage, now: number): M.StateMessage {
    const state = message.state
    const parts: Array<StagedPart> = []
    let filtered = 0
    let forwarded = 0
    const close = (counters: StreamCounters) => {
      parts.push({ counters, records: counters.bucketForwarded, bytes: counters.bucketBytes })
      filtered += counters.bucketEmitted - counters.bucketForwarded
      forwarded += counters.bucketForwarded
      counters.bucketEmitted = 0
      counters.bucketForwarded = 0
      counters.bucketBytes = 0
    }
    const descriptor = state.type === "STREAM" ? state.stream?.stream_descriptor : undefined
    if (descriptor !== undefined) {
      const counters = this.counters(descriptor.name, descriptor.namespace)
      if (counters !== undefined) {
        counters.sourceStates++
        close(counters)
      }
    } else {
      for (const counters of this.streams.values()) close(counters)
    }
    this.sourceStates++
    if (this.lastSourceStateAt !== undefined) this.betweenSourceStates.add((now - this.lastSourceStateAt) / 1000)
    this.lastSourceStateAt = now
    const id = this.nextId++
    this.staged.push({ id, at: now, parts, fingerprint: fingerprintOf(state) })
    this.highestStaged = id
    const fromSource = state.sourceStats?.recordCount
    const recordCount = fromSource === undefined ? forwarded : Math.max(0, fromSource - filtered)
    return { ...message, state: { ...state, id, sourceStats: { ...state.sourceStats, recordCount } } }
  }

  /**
   * Socket mode: a source STATE as the bookkeeper sees it on the source's stdout, carrying its own
   * `id` and the counts of the partitions it closes (records never pass through Sluice). Returns the
   * id, or undefined for a state without one (it cannot be matched to an acknowledgement).
   */
  socketSourceState(state: M.AirbyteStateMessage, now: number): number | undefined {
    const id = typeof state["id"] === "number" ? state["id"] : undefined
    this.sourceStates++
    if (this.lastSourceStateAt !== undefined) this.betweenSourceStates.add((now - this.lastSourceStateAt) / 1000)
    this.lastSourceStateAt = now
    if (id === undefined) return undefined
    const total = state.sourceStats?.recordCount ?? 0
    const bytes = typeof state["sluice_bytes"] === "number" ? state["sluice_bytes"] : 0
    const parts: Array<StagedPart> = []
    const add = (counters: StreamCounters | undefined, records: number, share: number) => {
      if (counters === undefined) return
      counters.emitted += records
      counters.forwarded += records
      counters.forwardedBytes += share
      parts.push({ counters, records, bytes: share })
    }
    const descriptor = state.type === "STREAM" ? state.stream?.stream_descriptor : undefined
    const perStream = state["sluice_stream_counts"]
    if (descriptor !== undefined) {
      const counters = this.counters(descriptor.name, descriptor.namespace)
      if (counters !== undefined) counters.sourceStates++
      add(counters, total, bytes)
    } else if (Array.isArray(perStream)) {
      for (const entry of perStream as ReadonlyArray<{ name?: unknown; namespace?: unknown; count?: unknown }>) {
        if (typeof entry.name !== "string" || typeof entry.count !== "number") continue
        const share = total === 0 ? 0 : Math.round(bytes * entry.count / total)
        add(this.counters(entry.name, typeof entry.namespace === "string" ? entry.namespace : undefined), entry.count, share)
      }
    }
    this.staged.push({ id, at: now, parts, fingerprint: fingerprintOf(state) })
    this.highestStaged = Math.max(this.highestStaged, id)
    return id
  }

  /** The highest id staged so far (socket mode: acknowledgements may overtake their source state). */
  get lastStagedId(): number {
    return this.highestStaged
  }

  /**
   * A STATE echoed by the destination: commits every staged bucket up to and including it. A state
   * that matches nothing staged (an unknown id) is reported, not guessed.
   */
  destinationState(state: M.AirbyteStateMessage, now: number): AckResult {
    this.destinationStates++
    const rawId = state["id"]
    const id = typeof rawId === "number" ? rawId : undefined
    const index = id !== undefined
      ? this.staged.findIndex((s) => s.id === id)
      : this.staged.findIndex((s) => s.fingerprint === fingerprintOf(state))
    if (index === -1) return { _tag: "Unknown", id }
    const popped = this.staged.splice(0, index + 1)
    let records = 0
    for (const staged of popped) {
      const seconds = (now - staged.at) / 1000
      this.commitLatency.add(seconds)
      for (const part of staged.parts) {
        part.counters.committed += part.records
        part.counters.committedBytes += part.bytes
        part.counters.commitLatency.add(seconds)
        records += part.records
      }
    }
    const matched = popped[popped.length - 1]!
    for (const part of matched.parts) part.counters.destinationStates++
    const rejected = state.destinationStats?.rejectedRecordCount ?? 0
    const first = matched.parts[0]
    if (rejected > 0 && first !== undefined) {
      const moved = Math.min(rejected, first.counters.committed)
      first.counters.committed -= moved
      first.counters.rejected += moved
      records -= moved
    }
    return { _tag: "Committed", id: matched.id, records }
  }

  estimate(trace: NonNullable<M.AirbyteTraceMessage["estimate"]>) {
    if (trace.row_estimate !== undefined) this.estimatedRecords = (this.estimatedRecords ?? 0) + trace.row_estimate
    if (trace.byte_estimate !== undefined) this.estimatedBytes = (this.estimatedBytes ?? 0) + trace.byte_estimate
  }

  /**
   * At the end of a successful replication everything forwarded is committed (Airbyte's
   * `hasReplicationCompleted`): the destination exited 0 after reading all its input.
   */
  completed() {
    for (const counters of this.streams.values()) {
      counters.committed = counters.forwarded - counters.rejected
      counters.committedBytes = counters.forwardedBytes
    }
    this.staged.length = 0
  }

  private statsOf(counters: StreamCounters): SyncStats {
    const mean = counters.commitLatency.mean
    return {
      ...emptyStats(),
      recordsEmitted: counters.emitted,
      bytesEmitted: counters.forwardedBytes,
      recordsCommitted: counters.committed,
      bytesCommitted: counters.committedBytes,
      recordsRejected: counters.rejected,
      recordsFilteredOut: counters.emitted - counters.forwarded,
      sourceStateMessagesEmitted: counters.sourceStates,
      destinationStateMessagesEmitted: counters.destinationStates,
      ...(mean === undefined ? {} : {
        meanSecondsBetweenStateMessageEmittedandCommitted: mean,
        maxSecondsBetweenStateMessageEmittedandCommitted: counters.commitLatency.max
      })
    }
  }

  streamStats(): ReadonlyArray<StreamSyncStats> {
    return [...this.streams.values()].map((counters) => ({
      streamName: counters.name,
      ...(counters.namespace === undefined ? {} : { streamNamespace: counters.namespace }),
      stats: this.statsOf(counters),
      wasResumed: counters.resumed
    }))
  }

  totals(): SyncStats {
    const totals: { -readonly [K in keyof SyncStats]: SyncStats[K] } = emptyStats()
    for (const { stats } of this.streamStats()) {
      totals.recordsEmitted += stats.recordsEmitted
      totals.bytesEmitted += stats.bytesEmitted
      totals.recordsCommitted += stats.recordsCommitted
      totals.bytesCommitted += stats.bytesCommitted
      totals.recordsRejected += stats.recordsRejected
      totals.recordsFilteredOut += stats.recordsFilteredOut
    }
    totals.sourceStateMessagesEmitted = this.sourceStates
    totals.destinationStateMessagesEmitted = this.destinationStates
    const commitMean = this.commitLatency.mean
    if (commitMean !== undefined) {
      totals.meanSecondsBetweenStateMessageEmittedandCommitted = commitMean
      totals.maxSecondsBetweenStateMessageEmittedandCommitted = this.commitLatency.max
    }
    const betweenMean = this.betweenSourceStates.mean
    if (betweenMean !== undefined) {
      totals.meanSecondsBeforeSourceStateMessageEmitted = betweenMean
      totals.maxSecondsBeforeSourceStateMessageEmitted = this.betweenSourceStates.max
    }
    if (this.estimatedRecords !== undefined) totals.estimatedRecords = this.estimatedRecords
    if (this.estimatedBytes !== undefined) totals.estimatedBytes = this.estimatedBytes
    return { ...totals, ...this.phases }
  }
}
