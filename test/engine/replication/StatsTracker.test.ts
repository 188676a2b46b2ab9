/** Emitted/committed accounting as reference §4.2 describes it. */
import { assert, describe, it } from "@effect/vitest"
import type * as M from "../../../src/engine/protocol/AirbyteMessage.ts"
import { StatsTracker } from "../../../src/engine/replication/StatsTracker.ts"

const stream = (name: string): M.ConfiguredAirbyteStream => ({
  stream: { name, json_schema: {}, supported_sync_modes: ["full_refresh"] },
  sync_mode: "full_refresh",
  destination_sync_mode: "append"
})
const catalog: M.ConfiguredAirbyteCatalog = { streams: [stream("a"), stream("b")] }
const state = (name: string, extra: object = {}): M.StateMessage => ({
  type: "STATE",
  state: { type: "STREAM", stream: { stream_descriptor: { name }, stream_state: { at: 1 } }, ...extra }
})

const emitAndForward = (tracker: StatsTracker, name: string, emitted: number, forwarded: number) => {
  const counters = tracker.counters(name, undefined)!
  for (let i = 0; i < emitted; i++) tracker.emitted(counters)
  for (let i = 0; i < forwarded; i++) tracker.forwarded(counters, 10)
}

describe("StatsTracker", () => {
  it("gives ids from 1 and fills recordCount with the forwarded records (filtered ones subtracted)", () => {
    const tracker = new StatsTracker(catalog)
    emitAndForward(tracker, "a", 5, 3)
    const first = tracker.sourceState(state("a"), 0)
    assert.strictEqual(first.state["id"], 1)
    assert.strictEqual(first.state.sourceStats?.recordCount, 3)
    emitAndForward(tracker, "a", 4, 4)
    const second = tracker.sourceState(state("a", { sourceStats: { recordCount: 6 } }), 0)
    assert.strictEqual(second.state["id"], 2)
    assert.strictEqual(second.state.sourceStats?.recordCount, 6, "the source's own count minus 0 filtered")
    assert.strictEqual(tracker.totals().recordsFilteredOut, 2)
  })

  it("an acknowledgement commits every staged state up to and including its id", () => {
    const tracker = new StatsTracker(catalog)
    emitAndForward(tracker, "a", 2, 2)
    tracker.sourceState(state("a"), 0)
    emitAndForward(tracker, "b", 3, 3)
    const second = tracker.sourceState(state("b"), 1000)
    emitAndForward(tracker, "a", 4, 4)
    tracker.sourceState(state("a"), 2000)
    assert.strictEqual(tracker.pendingStates, 3)
    const acked = tracker.destinationState(second.state, 3000)
    assert.deepStrictEqual(acked, { _tag: "Committed", id: 2, records: 5 })
    assert.strictEqual(tracker.pendingStates, 1)
    const totals = tracker.totals()
    assert.strictEqual(totals.recordsCommitted, 5)
    assert.strictEqual(totals.recordsEmitted, 9)
    assert.strictEqual(totals.maxSecondsBetweenStateMessageEmittedandCommitted, 3)
  })

  it("an unknown id is reported; an echo without id matches by content", () => {
    const tracker = new StatsTracker(catalog)
    emitAndForward(tracker, "a", 1, 1)
    tracker.sourceState(state("a"), 0)
    assert.deepStrictEqual(tracker.destinationState({ ...state("a").state, id: 99 }, 0), { _tag: "Unknown", id: 99 })
    assert.strictEqual(tracker.destinationState(state("a").state, 0)._tag, "Committed")
  })

  it("rejected records move from committed to rejected", () => {
    const tracker = new StatsTracker(catalog)
    emitAndForward(tracker, "a", 4, 4)
    const staged = tracker.sourceState(state("a"), 0)
    tracker.destinationState({ ...staged.state, destinationStats: { recordCount: 3, rejectedRecordCount: 1 } }, 0)
    const a = tracker.streamStats().find((s) => s.streamName === "a")!.stats
    assert.deepStrictEqual([a.recordsCommitted, a.recordsRejected], [3, 1])
  })

  it("socket mode: counts come from the source's state and the acknowledgement may name its id", () => {
    const tracker = new StatsTracker(catalog)
    const id = tracker.socketSourceState({ ...state("b").state, id: 1, sourceStats: { recordCount: 7 }, sluice_bytes: 700 }, 0)
    assert.strictEqual(id, 1)
    assert.strictEqual(tracker.lastStagedId, 1)
    tracker.destinationState({ ...state("b").state, id: 1 }, 0)
    const b = tracker.streamStats().find((s) => s.streamName === "b")!.stats
    assert.deepStrictEqual([b.recordsEmitted, b.recordsCommitted, b.bytesCommitted], [7, 7, 700])
  })
})
