/**
 * Buffers of one size, handed out and taken back: a stream that writes a batch, sends it and writes the
 * next reuses the same few buffers instead of allocating (and later collecting) one per batch. No
 * imports but the protocol's BytePool.
 */
import type { BytePool } from "../protocol/RecordLines.ts"

export class BufferPool implements BytePool {
  /** The views handed out, each with its pooled buffer. */
  private readonly issued = new Map<Uint8Array, Buffer>()
  private readonly free: Array<Buffer> = []

  /** The size of each pooled buffer; a larger request gets a buffer of its own. */
  readonly size: number
  /** How many returned buffers are kept for reuse at most. */
  readonly keep: number

  constructor(size: number, keep: number) {
    this.size = size
    this.keep = keep
  }

  /** `n` bytes: the start of a pooled buffer when n ≤ size, new bytes otherwise. */
  alloc = (n: number): Uint8Array => {
    if (n > this.size) return Buffer.allocUnsafe(n)
    const buffer = this.free.pop() ?? Buffer.allocUnsafeSlow(this.size)
    const view = buffer.subarray(0, n)
    this.issued.set(view, buffer)
    return view
  }

  /**
   * Takes back a view `alloc` handed out. Anything else is ignored, and so is a view released already:
   * a late second release cannot free the buffer's next use.
   */
  release = (bytes: Uint8Array): void => {
    const buffer = this.issued.get(bytes)
    if (buffer === undefined) return
    this.issued.delete(bytes)
    if (this.free.length < this.keep) this.free.push(buffer)
  }

  /** How many buffers are out (handed out and not taken back). */
  get outstanding(): number {
    return this.issued.size
  }
}
