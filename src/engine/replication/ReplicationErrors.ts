/**
 * The failures the engine itself detects while replicating (not a connector's exit): unknown
 * acknowledgements, a destination that stops acknowledging or ends without doing so.
 */
import * as Duration from "effect/Duration"
import * as FailureReason from "./FailureReason.ts"
import { ReplicationError } from "./ReplicationContext.ts"

export const failure = (reason: Omit<FailureReason.FailureReason, "timestamp">) =>
  new ReplicationError({ reason: FailureReason.make({ ...reason, timestamp: Date.now() }) })

export const unknownAck = (id: number | undefined) =>
  failure({
    failureOrigin: "destination",
    failureType: "system_error",
    externalMessage: `the destination acknowledged a state Sluice never sent (id ${id ?? "missing"}); no state was committed for it`,
    internalMessage: `destination STATE echo with unknown id ${id ?? "(none, and no staged state matches its content)"}`,
    retryable: true
  })

/** `cap`: the states Sluice lets wait before it stops reading the source. */
export const destinationTimeout = (pending: number, timeout: Duration.Duration, cap: number) =>
  failure({
    failureOrigin: "destination",
    failureType: "destination_timeout",
    externalMessage: `the destination acknowledged no state for ${Duration.format(timeout)} while ${pending} waited; ` +
      (pending >= cap
        ? `Sluice had paused the source at its cap of ${cap} unacknowledged states, so a destination that acknowledges ` +
          `only at the end of its input cannot go on — otherwise it may be stuck; check its logs`
        : `it may be stuck — check its logs`),
    internalMessage: `no destination STATE echo for ${Duration.format(timeout)}, ${pending} states pending`,
    retryable: true
  })

export const destinationInputStalled = (timeout: Duration.Duration) =>
  failure({
    failureOrigin: "destination",
    failureType: "destination_timeout",
    externalMessage: `the destination has not read its input for ${Duration.format(timeout)}; it may be stuck — check its logs`,
    internalMessage: `a write to the destination's stdin waited ${Duration.format(timeout)} for the pipe to drain`,
    retryable: true
  })

export const sourceHeartbeatTimeout = (timeout: Duration.Duration) =>
  failure({
    failureOrigin: "source",
    failureType: "heartbeat_timeout",
    externalMessage: `the source sent no message for ${Duration.format(timeout)} while Sluice was reading it; it may be stuck — check its logs`,
    internalMessage: `no source message for ${Duration.format(timeout)} (source heartbeat, failSync on)`,
    retryable: true
  })

export const unacknowledged = (pending: number) =>
  failure({
    failureOrigin: "destination",
    failureType: "system_error",
    externalMessage: `the destination finished without acknowledging the last ${pending} state(s); ` +
      `the records after the last acknowledged state are not known to be written`,
    internalMessage: `destination exited 0 with ${pending} unacknowledged states`,
    retryable: true
  })

