/**
 * What `sluice sync` shows while data flows and at the end: a live progress line on a TTY (records,
 * rate, per stream), periodic plain lines otherwise, and the per-stream summary table. Pure
 * rendering plus a tiny writer; no engine state.
 */
import type { StreamSyncStats, SyncStats } from "../engine/replication/SyncStats.ts"

export interface ProgressSnapshot {
  readonly stats: SyncStats
  readonly streamStats: ReadonlyArray<StreamSyncStats>
}

const UNITS = ["", "k", "M", "G"] as const

/** 1234567 → "1.23M". */
export const compact = (n: number): string => {
  let value = n
  let unit = 0
  while (Math.abs(value) >= 1000 && unit < UNITS.length - 1) {
    value /= 1000
    unit++
  }
  return unit === 0 ? String(Math.round(value)) : `${value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2)}${UNITS[unit]}`
}

export const bytes = (n: number): string => {
  const units = ["B", "KB", "MB", "GB", "TB"]
  let value = n
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`
}

export const duration = (ms: number): string => {
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  return m < 60 ? `${m}m${String(s % 60).padStart(2, "0")}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`
}

/** One line: total records, rate, committed, per-stream counts. */
export const progressLine = (snapshot: ProgressSnapshot, elapsedMs: number): string => {
  const { stats } = snapshot
  const rate = elapsedMs > 0 ? (stats.recordsEmitted / elapsedMs) * 1000 : 0
  const streams = snapshot.streamStats
    .filter((s) => s.stats.recordsEmitted > 0)
    .map((s) => `${s.streamName} ${compact(s.stats.recordsEmitted)}`)
    .join(" · ")
  const estimate = stats.estimatedRecords !== undefined && stats.estimatedRecords > 0
    ? ` (${Math.min(100, Math.floor((stats.recordsEmitted / stats.estimatedRecords) * 100))}%)`
    : ""
  return `${compact(stats.recordsEmitted)} records${estimate}, ${compact(rate)}/s, ${compact(stats.recordsCommitted)} committed, ` +
    `${duration(elapsedMs)}${streams.length > 0 ? ` — ${streams}` : ""}`
}

/** A live progress display: rewrites one line on a TTY, prints a line every `plainEveryMs` otherwise. */
export const makeProgressDisplay = (out: NodeJS.WriteStream, options: { readonly plainEveryMs?: number } = {}) => {
  const started = Date.now()
  const tty = out.isTTY === true
  const every = options.plainEveryMs ?? 10_000
  let lastPlain = started
  let shown = false
  return {
    update(snapshot: ProgressSnapshot) {
      const now = Date.now()
      const line = progressLine(snapshot, now - started)
      if (tty) {
        const width = out.columns ?? 120
        out.write(`\r\x1b[2K${line.length > width - 1 ? `${line.slice(0, width - 2)}…` : line}`)
        shown = true
      } else if (now - lastPlain >= every) {
        lastPlain = now
        out.write(`progress: ${line}\n`)
      }
    },
    /** Prints a message on its own line (keeps the progress line intact on a TTY). */
    message(text: string) {
      if (tty && shown) out.write("\r\x1b[2K")
      out.write(`${text}\n`)
      shown = false
    },
    done() {
      if (tty && shown) out.write("\r\x1b[2K")
      shown = false
    }
  }
}

const pad = (text: string, width: number, right: boolean) => (right ? text.padStart(width) : text.padEnd(width))

/** The per-stream table printed at the end of a sync. */
export const summaryTable = (snapshot: ProgressSnapshot): string => {
  const header = ["stream", "emitted", "committed", "filtered", "rejected", "bytes", "states"]
  const row = (name: string, s: SyncStats) => [
    name,
    String(s.recordsEmitted),
    String(s.recordsCommitted),
    String(s.recordsFilteredOut),
    String(s.recordsRejected),
    bytes(s.bytesCommitted),
    `${s.destinationStateMessagesEmitted}/${s.sourceStateMessagesEmitted}`
  ]
  const rows = snapshot.streamStats.map((s) =>
    row(s.streamNamespace === undefined ? s.streamName : `${s.streamNamespace}.${s.streamName}`, s.stats)
  )
  const total = row("total", snapshot.stats)
  const all = [header, ...rows, total]
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)))
  const format = (r: ReadonlyArray<string>) => r.map((cell, i) => pad(cell, widths[i]!, i > 0)).join("  ")
  const rule = widths.map((w) => "─".repeat(w)).join("  ")
  return [format(header), rule, ...rows.map(format), rule, format(total)].join("\n")
}
