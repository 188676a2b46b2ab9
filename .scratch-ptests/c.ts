import { Effect, Stream, Exit } from "effect"
import * as J from "../src/engine/protocol/Jsonl.ts"
for (const t of ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"]) {
  try { const r = J.decodeLine(JSON.stringify({ type: t }), 1); console.log(t, r._tag) } catch (e) { console.log(t, "THROWS", String(e)) }
}
const enc = new TextEncoder()
const line = JSON.stringify({ type: "RECORD", record: { stream: "users", data: { big: "x".repeat(200) }, emitted_at: 1 } }) + "\n"
const bytes = enc.encode(line)
const chunks: Uint8Array[] = []
for (let i = 0; i < bytes.length; i += 10) chunks.push(bytes.subarray(i, i + 10))
const r = await Effect.runPromiseExit(Stream.fromArrays(...chunks.map(c => [c])).pipe(J.decodeMessages({ maxLineBytes: 100 }), Stream.runCollect))
console.log(Exit.isFailure(r) ? JSON.stringify(r.cause) : "ok")
const r2 = await Effect.runPromiseExit(Stream.fromArrays([bytes]).pipe(J.decodeMessages({ maxLineBytes: 100 }), Stream.runCollect))
console.log(Exit.isFailure(r2) ? String(r2.cause) : "ok")
const s = Stream.fromArrays([1,2],[3],[4,5,6])
console.log(JSON.stringify(await Effect.runPromise(Stream.runCollect(Stream.chunks(s)))))
