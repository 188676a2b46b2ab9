import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { AirbyteMessage, ConnectorRuntime, runConnector } from "sluice"

describe("package entry point", () => {
  it("files inside the repository can import from 'sluice'", () => {
    const decoded = Schema.decodeUnknownSync(AirbyteMessage.AirbyteMessage)({ type: "LOG", log: { level: "INFO", message: "hi" } })
    assert.strictEqual(decoded.type, "LOG")
    assert.isFunction(ConnectorRuntime.read)
    assert.isFunction(runConnector)
  })
})
