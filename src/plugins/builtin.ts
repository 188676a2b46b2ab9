/**
 * THE list of built-in connectors. Adding one means adding it here; ids must be unique (checked
 * when the list is first used). No registration by import side effect.
 */
import { fileURLToPath } from "node:url"
import type { AnyConnector } from "../engine/kit/Connector.ts"
import { devNull } from "./dev-null/DevNull.ts"
import { faker } from "./faker/Faker.ts"
import { jsonl } from "./jsonl/JsonlDestination.ts"
import { postgresDestination } from "./postgres/PostgresDestination.ts"
import { postgresSource } from "./postgres/PostgresSource.ts"

export const builtinConnectors: ReadonlyArray<AnyConnector> = [faker, jsonl, devNull, postgresSource, postgresDestination]

let byId: ReadonlyMap<string, AnyConnector> | undefined

const index = (): ReadonlyMap<string, AnyConnector> => {
  if (byId !== undefined) return byId
  const map = new Map<string, AnyConnector>()
  for (const connector of builtinConnectors) {
    if (map.has(connector.id)) throw new Error(`duplicate built-in connector id '${connector.id}' in src/plugins/builtin.ts`)
    map.set(connector.id, connector)
  }
  byId = map
  return map
}

export const findBuiltinConnector = (id: string): AnyConnector | undefined => index().get(id)
export const builtinConnectorIds = (): ReadonlyArray<string> => [...index().keys()]

/**
 * V8 flags for the Sluice process (`bin/sluice.js` sets the same in its shebang): a smaller young
 * generation keeps the resident memory of a long sync low and flat (~220 MB instead of ~320 MB) for a
 * little more GC time.
 */
export const NODE_FLAGS: ReadonlyArray<string> = ["--max-semi-space-size=8"]

/**
 * V8 flags for built-in connector processes: they allocate a record per row, and a young generation
 * smaller than 16 MB makes a source like faker ~60 % slower (measured: 300 k users in 3.9 s at 4 MB,
 * 2.4 s at 16 MB) for no memory gain.
 */
export const CONNECTOR_NODE_FLAGS: ReadonlyArray<string> = ["--max-semi-space-size=16"]

/** The `sluice` executable of this installation. */
export const sluiceBin = (): string => fileURLToPath(new URL("../../bin/sluice.js", import.meta.url))

/** The argv that runs a built-in connector as a real process on this Node. */
export const builtinConnectorCommand = (id: string): ReadonlyArray<string> => [
  process.execPath,
  ...CONNECTOR_NODE_FLAGS,
  sluiceBin(),
  "connector",
  id
]
