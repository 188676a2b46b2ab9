/**
 * `dev-null` destination: discards records, counts them, and echoes every STATE with
 * `destinationStats` at once. For benchmarks and tests of the engine without disk cost. It declares
 * `readsRecordData: false`, so the kit reads only each record's envelope: record data is not validated.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { DestinationConnector } from "../../engine/kit/Connector.ts"
import { makeSpec } from "../../engine/kit/Spec.ts"
import { fullIpc } from "../../engine/IpcOptions.ts"
import * as Batch from "../../engine/Batch.ts"
import type * as M from "../../engine/protocol/AirbyteMessage.ts"

export const DevNullConfig = Schema.Record(Schema.String, Schema.Unknown)
export type DevNullConfig = typeof DevNullConfig.Type

export const devNull: DestinationConnector<DevNullConfig> = {
  id: "dev-null",
  kind: "destination",
  description: "Discards every record and acknowledges every state; for benchmarks.",
  config: DevNullConfig,
  spec: makeSpec({ config: DevNullConfig, title: "dev-null destination", destinationSyncModes: ["append", "overwrite", "append_dedup"] }),
  ipc: fullIpc,
  // It counts records and never looks at their data: the kit skips parsing it (RecordSkim.ts).
  readsRecordData: false,
  check: () => Effect.succeed({ status: "SUCCEEDED" }),
  write: ({ messages }) =>
    Stream.suspend(() => {
      let sinceState = 0
      return messages.pipe(Batch.mapBatch((batch) => {
        const out: Array<M.AirbyteMessage> = []
        for (const message of batch) {
          if (message.type === "RECORD") sinceState++
          else if (message.type === "STATE") {
            out.push({ ...message, state: { ...message.state, destinationStats: { recordCount: sinceState } } })
            sinceState = 0
          }
        }
        return out
      }))
    })
}
