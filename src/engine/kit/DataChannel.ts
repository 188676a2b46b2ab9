/**
 * The data channel a connector process was started with, parsed from the environment exactly as
 * Airbyte passes it (`DATA_CHANNEL_MEDIUM`, `DATA_CHANNEL_FORMAT`, `DATA_CHANNEL_SOCKET_PATHS`) plus
 * Sluice's timing knobs. Pure: imports only the connector contract and IpcOptions.
 */
import type { Serialization } from "../IpcOptions.ts"
import { ConnectorError } from "./Connector.ts"

/** How long the source waits for the destination to connect (and the destination tries to connect). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5 * 60 * 1000
/** A socket idle for this long gets a probe frame. */
export const DEFAULT_PROBE_INTERVAL_MS = 10 * 1000

export const ENV = {
  medium: "DATA_CHANNEL_MEDIUM",
  format: "DATA_CHANNEL_FORMAT",
  socketPaths: "DATA_CHANNEL_SOCKET_PATHS",
  connectTimeoutMs: "SLUICE_SOCKET_CONNECT_TIMEOUT_MS",
  probeIntervalMs: "SLUICE_SOCKET_PROBE_INTERVAL_MS"
} as const

/** Records travel over the sockets; stdout carries states (dual emission), logs and traces. */
export interface SocketChannel {
  readonly _tag: "Socket"
  readonly format: Serialization
  readonly paths: readonly [string, ...Array<string>]
  readonly connectTimeoutMs: number
  readonly probeIntervalMs: number
}

/** Every message on stdout/stdin as JSONL: the classic protocol, unchanged. */
export interface StdioChannel {
  readonly _tag: "Stdio"
}

export type DataChannel = StdioChannel | SocketChannel

const STDIO: StdioChannel = { _tag: "Stdio" }

const invalid = (message: string) =>
  new ConnectorError({ failureType: "system_error", message: `invalid data channel environment: ${message}` })

const positiveMs = (env: NodeJS.ProcessEnv, name: string, fallback: number): number | ConnectorError => {
  const raw = env[name]?.trim()
  if (raw === undefined || raw === "") return fallback
  const n = Number(raw)
  return Number.isSafeInteger(n) && n > 0 ? n : invalid(`${name} must be a positive integer of milliseconds, got '${raw}'`)
}

const formatOf = (raw: string | undefined): Serialization | ConnectorError => {
  const value = raw?.trim().toUpperCase()
  if (value === undefined || value === "") return invalid(`DATA_CHANNEL_MEDIUM=SOCKET needs ${ENV.format}=PROTOBUF|JSONL|SLUICE_PROTOBUF`)
  if (value === "PROTOBUF" || value === "JSONL" || value === "SLUICE_PROTOBUF") return value
  return invalid(`${ENV.format} must be PROTOBUF, JSONL or SLUICE_PROTOBUF, got '${raw}'`)
}

const pathsOf = (raw: string | undefined): SocketChannel["paths"] | ConnectorError => {
  const paths = (raw ?? "").split(",").map((p) => p.trim()).filter((p) => p.length > 0)
  const [first, ...rest] = paths
  if (first === undefined) {
    return invalid(`DATA_CHANNEL_MEDIUM=SOCKET needs ${ENV.socketPaths}=/path/a.sock,/path/b.sock,… (got ${raw === undefined ? "nothing" : `'${raw}'`})`)
  }
  const duplicate = paths.find((p, i) => paths.indexOf(p) !== i)
  if (duplicate !== undefined) return invalid(`${ENV.socketPaths} lists ${duplicate} twice`)
  return [first, ...rest]
}

/**
 * The channel of this process. MEDIUM unset or STDIO is the classic stdio protocol (FORMAT is then
 * not consulted: stdio always speaks JSONL). SOCKET needs a format and at least one path.
 */
export const fromEnv = (env: NodeJS.ProcessEnv): DataChannel | ConnectorError => {
  const medium = env[ENV.medium]?.trim().toUpperCase()
  if (medium === undefined || medium === "" || medium === "STDIO") return STDIO
  if (medium !== "SOCKET") return invalid(`${ENV.medium} must be SOCKET or STDIO, got '${env[ENV.medium]}'`)
  const format = formatOf(env[ENV.format])
  if (format instanceof ConnectorError) return format
  const paths = pathsOf(env[ENV.socketPaths])
  if (paths instanceof ConnectorError) return paths
  const connectTimeoutMs = positiveMs(env, ENV.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS)
  if (connectTimeoutMs instanceof ConnectorError) return connectTimeoutMs
  const probeIntervalMs = positiveMs(env, ENV.probeIntervalMs, DEFAULT_PROBE_INTERVAL_MS)
  if (probeIntervalMs instanceof ConnectorError) return probeIntervalMs
  return { _tag: "Socket", format, paths, connectTimeoutMs, probeIntervalMs }
}
