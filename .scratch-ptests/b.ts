import { Schema, Exit, Cause } from "effect"
import * as M from "../src/engine/protocol/AirbyteMessage.ts"
const dec = Schema.decodeUnknownExit(M.AirbyteMessage)
const show = (u: unknown) => { const e = dec(u); if (Exit.isSuccess(e)) console.log("OK", JSON.stringify(e.value)); else { const s = Cause.squash(e.cause); console.log("ERR", s instanceof Error ? s.message : s) } }
show({ type: "RECORD", record: { stream: "s", data: [1], emitted_at: 1 } })
show({ type: "RECORD", record: { stream: "s", emitted_at: 1 } })
show({ type: "RECORD" })
show({ type: "BANANA" })
show({ record: {stream: "s", data: {}, emitted_at: 1} })
show(JSON.parse('{"type":"RECORD","record":{"stream":"s","data":{},"emitted_at":1,"__proto__":{"a":1}},"__proto__":{"b":2}}'))
show({ type: "STATE", state: { data: null, type: "LEGACY" } })
show({ type: "STATE", state: { data: [1] } })
show({ type: "CATALOG", catalog: { streams: [{ name: "a", json_schema: {}, supported_sync_modes: [] }] } })
show({ type: "RECORD", record: { stream: "s", data: {}, emitted_at: 1, meta: { changes: [{ field: "a", change: "X", reason: "Y" }] } } })
