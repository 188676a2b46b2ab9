/**
 * Chooses the transport of an attempt by Airbyte's rules (reference §6.1) plus Sluice's per-connection
 * override, and says why. Pure and table-tested; imports only engine modules.
 */
import type { IpcOptions, Serialization } from "../IpcOptions.ts"

export type TransportPreference = "auto" | "stdio" | "socket"

export interface ArchitectureInput {
  readonly preference: TransportPreference
  readonly source: IpcOptions | undefined
  readonly destination: IpcOptions | undefined
  /** Mappers or hashed fields are configured (they need the stdio relay). */
  readonly hasMiddleware: boolean
  readonly isReset?: boolean
  readonly isFileTransfer?: boolean
}

export type Architecture =
  | { readonly transport: "stdio"; readonly serialization: "JSONL"; readonly reason: string }
  | { readonly transport: "socket"; readonly serialization: Serialization; readonly reason: string }

/** `transport: "socket"` was asked for but cannot work; a config_error. */
export interface ArchitectureRejected {
  readonly _tag: "Rejected"
  readonly reason: string
}

const stdio = (reason: string): Architecture => ({ transport: "stdio", serialization: "JSONL", reason })

/** Why socket mode is impossible, or undefined when it is possible. */
const socketBlocker = (input: ArchitectureInput): string | undefined => {
  if (input.isFileTransfer === true) return "file transfer runs over stdio"
  if (input.isReset === true) return "resets run over stdio"
  if (input.hasMiddleware) return "mappers or hashed fields run in the stdio relay"
  if (input.source === undefined) return "the source declares no IPC options (socket support)"
  if (input.destination === undefined) return "the destination declares no IPC options (socket support)"
  const s = input.source.dataChannel
  const d = input.destination.dataChannel
  if (s.version !== d.version) return `data-channel versions differ (source ${s.version}, destination ${d.version})`
  if (!s.supportedTransport.includes("SOCKET")) return "the source does not support the SOCKET transport"
  if (!d.supportedTransport.includes("SOCKET")) return "the destination does not support the SOCKET transport"
  if (commonSerialization(input) === undefined) return "source and destination share no serialization"
  return undefined
}

/** Both connectors are Sluice's: both declare its own SLUICE_PROTOBUF. */
const bothSluice = (input: ArchitectureInput) =>
  input.source?.dataChannel.supportedSerialization.includes("SLUICE_PROTOBUF") === true &&
  input.destination?.dataChannel.supportedSerialization.includes("SLUICE_PROTOBUF") === true

/**
 * Airbyte prefers PROTOBUF to JSONL. Between two of Sluice's connectors (both declare SLUICE_PROTOBUF)
 * the source's own order decides, its first serialization the destination speaks: the source knows
 * what it writes cheapest (faker writes JSON lines itself and lists JSONL first; a source of row
 * objects lists SLUICE_PROTOBUF first, which beats JSON.stringify; bench/README.md).
 */
const commonSerialization = (input: ArchitectureInput): Serialization | undefined => {
  const s = input.source?.dataChannel.supportedSerialization ?? []
  const d = input.destination?.dataChannel.supportedSerialization ?? []
  const order = bothSluice(input) ? s : (["PROTOBUF", "JSONL"] as const)
  return order.find((format) => s.includes(format) && d.includes(format))
}

export const decide = (input: ArchitectureInput): Architecture | ArchitectureRejected => {
  if (input.preference === "stdio") return stdio("transport: stdio was configured")
  const blocker = socketBlocker(input)
  if (blocker !== undefined) {
    return input.preference === "socket"
      ? { _tag: "Rejected", reason: `transport: socket was configured, but ${blocker}; use transport: auto or stdio` }
      : stdio(`stdio because ${blocker}`)
  }
  const serialization = commonSerialization(input)!
  return {
    transport: "socket",
    serialization,
    reason: `${input.preference === "socket" ? "transport: socket was configured" : "both connectors support sockets"}; ` +
      (bothSluice(input)
        ? `${serialization} is the source's first choice among the serializations both speak`
        : `${serialization} is the best common serialization`)
  }
}

/** Airbyte's socket count: 2 × min(source CPUs, destination CPUs), at least 1, at most 1024. */
export const socketCount = (sourceCpus: number, destinationCpus: number): number => {
  const floor = (n: number) => (Number.isFinite(n) && n >= 1 ? Math.floor(n) : 1)
  return Math.min(1024, 2 * Math.min(floor(sourceCpus), floor(destinationCpus)))
}
