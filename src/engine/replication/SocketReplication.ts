/**
 * The socket transport (bookkeeper mode). Being built: until then it reports itself unavailable.
 */
import { Effect } from "effect"
import * as FailureReason from "./FailureReason.ts"
import { ReplicationError, type TransportContext } from "./ReplicationContext.ts"

export const runSocket = (_context: TransportContext) =>
  Effect.fail(new ReplicationError({
    reason: FailureReason.make({
      failureOrigin: "replication",
      failureType: "config_error",
      externalMessage: "the socket transport is not available in this build; use transport: stdio",
      retryable: false,
      timestamp: Date.now()
    })
  }))
