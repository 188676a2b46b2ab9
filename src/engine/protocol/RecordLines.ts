/**
 * Records a source already wrote as JSONL bytes (the connector kit's `RecordWriter`): a generator that
 * writes JSON directly skips building objects and `JSON.stringify`, most of a fast source's CPU. The kit
 * writes the bytes as they are on stdout and JSONL sockets (adding each line's `partition_id` there) and
 * parses them only for a protobuf socket. Pure; must not import anything outside this folder.
 */
import type * as M from "./AirbyteMessage.ts"

/**
 * Where a consumer gets buffers it writes into and gives them back once they were written (a pool, so
 * a fast stream allocates no new memory per batch).
 */
export interface BytePool {
  /** `n` writable bytes. */
  readonly alloc: (n: number) => Uint8Array
  /**
   * Takes back bytes `alloc` returned; they must not be used afterwards. Anything else is ignored, and
   * so is bytes released already (a socket write may hand the same bytes back twice).
   */
  readonly release: (bytes: Uint8Array) => void
}

/** Records of one stream as complete JSONL RECORD lines. */
export interface RecordLines {
  readonly type: "RECORD_LINES"
  readonly stream: string
  readonly namespace: string | undefined
  /** `{"type":"RECORD","record":{…}}\n` per record, nothing else. */
  readonly bytes: Uint8Array
  /** Where each record's line ends in `bytes` (exclusive, after its newline), increasing. */
  readonly ends: ReadonlyArray<number>
  /** Set by the socket router: every line then carries this `partition_id`. */
  readonly partitionId?: string | undefined
  /**
   * Set by a writer that reuses its buffer: a consumer calls it once it no longer needs `bytes` (it
   * copied or wrote them), and must not read them afterwards. Not calling it only costs garbage.
   */
  readonly release?: (() => void) | undefined
}

/** What a source built with the kit emits: protocol messages, or records it wrote as JSONL itself. */
export type SourceMessage = M.AirbyteMessage | RecordLines

export const isRecordLines = (message: SourceMessage): message is RecordLines => message.type === "RECORD_LINES"

/** Lines that are not the RECORDs of their stream: a bug in the source that wrote them. */
export class MalformedRecordLines extends Error {
  readonly stream: string
  readonly index: number
  constructor(stream: string, index: number, detail: string) {
    super(`record line ${index + 1} written for stream '${stream}' is malformed: ${detail}`)
    this.stream = stream
    this.index = index
  }
}

const TAIL = [0x7d, 0x7d, 0x0a] // `}}\n`
const decoder = new TextDecoder()

const startOf = (lines: RecordLines, i: number) => (i === 0 ? 0 : lines.ends[i - 1]!)

/**
 * The lines with `,"partition_id":"<id>"` added to each record (before its closing `}}`), in new bytes
 * (from `pool` when given), or the bytes as they are when no partition was set.
 */
export const jsonlBytes = (lines: RecordLines, pool?: BytePool): Uint8Array | MalformedRecordLines => {
  if (lines.partitionId === undefined) return lines.bytes
  const tail = Buffer.from(`,"partition_id":${JSON.stringify(lines.partitionId)}}}\n`)
  const b = Buffer.from(lines.bytes.buffer, lines.bytes.byteOffset, lines.bytes.byteLength)
  const size = b.length + lines.ends.length * (tail.length - TAIL.length)
  const out = pool === undefined ? Buffer.allocUnsafe(size) : pool.alloc(size)
  let at = 0
  let start = 0
  for (let i = 0; i < lines.ends.length; i++) {
    const end = lines.ends[i]!
    if (end - start < 4 || b[end - 3] !== TAIL[0] || b[end - 2] !== TAIL[1] || b[end - 1] !== TAIL[2]) {
      pool?.release(out)
      return new MalformedRecordLines(lines.stream, i, "it does not end with }}\\n")
    }
    // Buffer#copy takes offsets: no view per record.
    at += b.copy(out, at, start, end - TAIL.length)
    at += tail.copy(out, at)
    start = end
  }
  return out
}

/** The lines as RECORD messages (with `partition_id` when set): for a protobuf socket, and for tests. */
export const recordsOf = (lines: RecordLines): Array<M.RecordMessage> | MalformedRecordLines => {
  const out: Array<M.RecordMessage> = []
  for (let i = 0; i < lines.ends.length; i++) {
    const text = decoder.decode(lines.bytes.subarray(startOf(lines, i), lines.ends[i]! - 1))
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (cause) {
      return new MalformedRecordLines(lines.stream, i, cause instanceof Error ? cause.message : String(cause))
    }
    const message = parsed as Partial<M.RecordMessage>
    const record = message.record
    if (message.type !== "RECORD" || typeof record !== "object" || record === null || record.stream !== lines.stream ||
      record.namespace !== lines.namespace || typeof record.data !== "object" || record.data === null || Array.isArray(record.data)) {
      return new MalformedRecordLines(lines.stream, i, "it is not a RECORD of this stream")
    }
    out.push(lines.partitionId === undefined
      ? message as M.RecordMessage
      : { type: "RECORD", record: { ...record, partition_id: lines.partitionId } })
  }
  return out
}

/** Every message with record lines expanded to RECORD messages. */
export const expand = (messages: ReadonlyArray<SourceMessage>): Array<M.AirbyteMessage> | MalformedRecordLines => {
  const out: Array<M.AirbyteMessage> = []
  for (const message of messages) {
    if (!isRecordLines(message)) {
      out.push(message)
      continue
    }
    const records = recordsOf(message)
    if (records instanceof MalformedRecordLines) return records
    for (const record of records) out.push(record)
  }
  return out
}
