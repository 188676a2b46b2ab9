import { Schema, Exit, Cause } from "effect"
import * as M from "../src/engine/protocol/AirbyteMessage.ts"
const dec = Schema.decodeUnknownExit(M.AirbyteMessage)
const show = (u: unknown) => { const e = dec(u); if (Exit.isSuccess(e)) console.log("OK", JSON.stringify(e.value)); else { const s = Cause.squash(e.cause); console.log("ERR", s instanceof Error ? s.message : s) } }
show({ type: "RECORD", record: { stream: "s", data: { a: 1 }, emitted_at: 1, x: { y: 1 } }, extra: 2 })
show({ type: "RECORD", record: { stream: 1, data: { a: 1 }, emitted_at: 1 } })
show({ type: "STATE", state: { type: "STREAM", stream: { stream_descriptor: { name: 1 } } } })
show({ type: "LOG", log: { level: "NOPE", message: "x" } })
show({ type: "TRACE", trace: { type: "STREAM_STATUS", emitted_at: 1, stream_status: { stream_descriptor: { name: "a" }, status: "STARTED", reasons: [{ type: "X" }] } } })
const d = Schema.decodeUnknownExit(M.StateEnvelope)
const e = d({ type: "STATE", state: { type: "STREAM", stream: { stream_descriptor: { name: 1 } } } })
if (Exit.isFailure(e)) { const s = Cause.squash(e.cause); console.log("ERR2", s instanceof Error ? s.message : s) }
const enc = Schema.encodeUnknownSync(M.AirbyteMessage)
console.log(JSON.stringify(enc({ type: "RECORD", record: { stream: "s", data: { a: 1 }, emitted_at: 1, x: { y: 1 } }, extra: 2 })))
console.log(Object.keys(Schema).filter(k => /decode|encode/.test(k)).join(" "))
