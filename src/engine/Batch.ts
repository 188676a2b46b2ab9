/**
 * Stream helpers for batch-at-a-time work: the hot paths transform whole chunks, never one Effect
 * per message. Imports only `effect`.
 */
import { Stream } from "effect"

/** Maps each chunk to any number of outputs (an empty result emits nothing). */
export const mapBatch = <A, B>(f: (batch: ReadonlyArray<A>) => ReadonlyArray<B>) =>
<E, R>(self: Stream.Stream<A, E, R>): Stream.Stream<B, E, R> =>
  Stream.mapAccumArray(self, () => undefined, (_, batch) => [undefined, f(batch)] as const)
