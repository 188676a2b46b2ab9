/**
 * The socket-mode codec's errors and frame size cap. Must not import anything outside effect and this
 * folder's Jsonl.ts (for InvalidMessage); every other Protobuf module imports this one.
 */
import * as Data from "effect/Data"
import type { InvalidMessage } from "./Jsonl.ts"

// ---------------------------------------------------------------------------------------------- ERRORS

/** Default cap on one frame: a larger length prefix fails the read before any allocation. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024

/** A frame whose length prefix is over the configured maximum. `offset` is where the frame starts. */
export class FrameTooLarge extends Data.TaggedError("FrameTooLarge")<{
  readonly offset: number
  readonly sizeBytes: number
  readonly maxBytes: number
}> {
  override get message() {
    return `frame at byte ${this.offset} is ${this.sizeBytes} bytes, over the maximum of ${this.maxBytes} bytes; ` +
      `raise maxFrameBytes or make the source emit smaller records`
  }
}

/** Bytes that are not a valid frame: a bad length varint, undecodable protobuf or an unusable payload. */
export class MalformedFrame extends Data.TaggedError("MalformedFrame")<{
  readonly offset: number
  readonly detail: string
}> {
  override get message() {
    return `malformed frame at byte ${this.offset}: ${this.detail}`
  }
}

/** A record of a stream the catalog does not declare: its positional values cannot be interpreted. */
export class UnknownStream extends Data.TaggedError("UnknownStream")<{
  readonly namespace: string | undefined
  readonly stream: string
}> {
  override get message() {
    const name = this.namespace === undefined ? this.stream : `${this.namespace}.${this.stream}`
    return `stream '${name}' is not in the catalog, so its record values cannot be mapped to columns`
  }
}

/** Everything the frame decoder can fail with. InvalidMessage's `lineNumber` holds the frame number. */
export type FrameError = FrameTooLarge | MalformedFrame | UnknownStream | InvalidMessage
