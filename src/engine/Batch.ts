/**
 * Stream helpers for batch-at-a-time work: the hot paths transform whole chunks, never one Effect
 * per message. Imports only `effect`.
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

/** Maps each chunk to any number of outputs (an empty result emits nothing). */
export const mapBatch = <A, B>(f: (batch: ReadonlyArray<A>) => ReadonlyArray<B>) =>
<E, R>(self: Stream.Stream<A, E, R>): Stream.Stream<B, E, R> =>
  Stream.mapAccumArray(self, () => undefined, (_, batch) => [undefined, f(batch)] as const)

/**
 * Maps each chunk with an Effect to any number of outputs (an empty result emits nothing); chunks are
 * processed one at a time, in order. For batch work that needs I/O (writing, syncing).
 */
export const mapBatchEffect = <A, B, E2, R2>(f: (batch: ReadonlyArray<A>) => Effect.Effect<ReadonlyArray<B>, E2, R2>) =>
<E, R>(self: Stream.Stream<A, E, R>): Stream.Stream<B, E | E2, R | R2> =>
  Stream.mapAccumArrayEffect(self, () => undefined, (_, batch) => Effect.map(f(batch), (out) => [undefined, out] as const))
