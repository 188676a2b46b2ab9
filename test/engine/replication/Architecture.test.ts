/** The transport selection rules (Airbyte's ArchitectureDecider plus the per-connection override), as a table. */
import { assert, describe, it } from "@effect/vitest"
import { type ArchitectureInput, decide, socketCount } from "../../../src/engine/replication/Architecture.ts"
import type { IpcOptions } from "../../../src/engine/IpcOptions.ts"

const ipc = (version: string, serialization: IpcOptions["dataChannel"]["supportedSerialization"], transport: IpcOptions["dataChannel"]["supportedTransport"]): IpcOptions => ({
  dataChannel: { version, supportedSerialization: serialization, supportedTransport: transport }
})
const full = ipc("0.0.2", ["PROTOBUF", "JSONL"], ["SOCKET", "STDIO"])
const base: ArchitectureInput = { preference: "auto", source: full, destination: full, hasMiddleware: false }

const table: ReadonlyArray<readonly [string, Partial<ArchitectureInput>, string, string | undefined, string]> = [
  ["both support everything", {}, "socket", "PROTOBUF", "both connectors support sockets"],
  ["both Sluice kits", { source: ipc("0.0.2", ["SLUICE_PROTOBUF", "PROTOBUF", "JSONL"], ["SOCKET"]), destination: ipc("0.0.2", ["JSONL", "PROTOBUF", "SLUICE_PROTOBUF"], ["SOCKET"]) }, "socket", "SLUICE_PROTOBUF", "SLUICE_PROTOBUF is the source's first choice among the serializations both speak"],
  ["both Sluice kits, the source writes JSON lines", { source: ipc("0.0.2", ["JSONL", "SLUICE_PROTOBUF", "PROTOBUF"], ["SOCKET"]), destination: ipc("0.0.2", ["SLUICE_PROTOBUF", "PROTOBUF", "JSONL"], ["SOCKET"]) }, "socket", "JSONL", "JSONL is the source's first choice among the serializations both speak"],
  ["both Sluice kits, the source's first choice unknown to the destination", { source: ipc("0.0.2", ["JSONL", "SLUICE_PROTOBUF", "PROTOBUF"], ["SOCKET"]), destination: ipc("0.0.2", ["SLUICE_PROTOBUF", "PROTOBUF"], ["SOCKET"]) }, "socket", "SLUICE_PROTOBUF", "SLUICE_PROTOBUF is the source's first choice"],
  ["an Airbyte source listing JSONL first still gets PROTOBUF", { source: ipc("0.0.2", ["JSONL", "PROTOBUF"], ["SOCKET"]), destination: ipc("0.0.2", ["SLUICE_PROTOBUF", "PROTOBUF", "JSONL"], ["SOCKET"]) }, "socket", "PROTOBUF", "PROTOBUF is the best common serialization"],
  ["a Sluice kit and an Airbyte connector", { source: ipc("0.0.2", ["SLUICE_PROTOBUF", "PROTOBUF", "JSONL"], ["SOCKET"]) }, "socket", "PROTOBUF", "PROTOBUF is the best common"],
  ["only JSONL in common", { destination: ipc("0.0.2", ["JSONL"], ["SOCKET"]) }, "socket", "JSONL", "JSONL is the best common"],
  ["forced stdio", { preference: "stdio" }, "stdio", "JSONL", "transport: stdio was configured"],
  ["forced socket, possible", { preference: "socket" }, "socket", "PROTOBUF", "transport: socket was configured"],
  ["mappers", { hasMiddleware: true }, "stdio", "JSONL", "mappers or hashed fields"],
  ["reset", { isReset: true }, "stdio", "JSONL", "resets run over stdio"],
  ["file transfer", { isFileTransfer: true }, "stdio", "JSONL", "file transfer"],
  ["source without IPC options", { source: undefined }, "stdio", "JSONL", "the source declares no IPC options"],
  ["destination without IPC options", { destination: undefined }, "stdio", "JSONL", "the destination declares no IPC options"],
  ["versions differ", { destination: ipc("0.0.3", ["PROTOBUF"], ["SOCKET"]) }, "stdio", "JSONL", "versions differ"],
  ["source stdio only", { source: ipc("0.0.2", ["PROTOBUF"], ["STDIO"]) }, "stdio", "JSONL", "the source does not support the SOCKET"],
  ["destination stdio only", { destination: ipc("0.0.2", ["PROTOBUF"], ["STDIO"]) }, "stdio", "JSONL", "the destination does not support the SOCKET"],
  ["no common serialization", { destination: ipc("0.0.2", [], ["SOCKET"]) }, "stdio", "JSONL", "share no serialization"]
]

describe("Architecture.decide", () => {
  for (const [name, overrides, transport, serialization, reason] of table) {
    it(name, () => {
      const decided = decide({ ...base, ...overrides })
      assert.isFalse("_tag" in decided)
      if ("_tag" in decided) return
      assert.strictEqual(decided.transport, transport)
      assert.strictEqual(decided.serialization, serialization)
      assert.include(decided.reason, reason)
    })
  }

  it("forced socket when a rule fails is rejected, naming the rule", () => {
    for (const overrides of [{ hasMiddleware: true }, { source: undefined }, { destination: ipc("0.0.9", ["JSONL"], ["SOCKET"]) }]) {
      const decided = decide({ ...base, preference: "socket", ...overrides })
      assert.isTrue("_tag" in decided && decided._tag === "Rejected")
      if ("_tag" in decided) assert.match(decided.reason, /^transport: socket was configured, but .+; use transport: auto or stdio$/)
    }
  })

  it("socket count is 2 × min(CPU), at least 2, at most 1024", () => {
    assert.strictEqual(socketCount(4, 8), 8)
    assert.strictEqual(socketCount(2, 2), 4)
    assert.strictEqual(socketCount(0.5, 8), 2)
    assert.strictEqual(socketCount(Number.NaN, 4), 2)
    assert.strictEqual(socketCount(4000, 4000), 1024)
  })
})
