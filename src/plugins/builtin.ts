/**
 * THE list of built-in connectors. Adding one means adding it here; ids must be unique (checked
 * when the list is first used). No registration by import side effect.
 */
import type { AnyConnector } from "../engine/kit/Connector.ts"
import { devNull } from "./dev-null/DevNull.ts"
import { faker } from "./faker/Faker.ts"
import { jsonl } from "./jsonl/JsonlDestination.ts"

export const builtinConnectors: ReadonlyArray<AnyConnector> = [faker, jsonl, devNull]

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
