import * as O from "../test/support/OfficialSchema.ts"
console.log(O.validateAirbyteMessage({ type: "RECORD" }))
console.log(O.validateAirbyteMessage({ type: "RECORD", record: { stream: 1, data: [], emitted_at: 1.5 } }))
console.log(O.validateAirbyteMessage({ type: "LOG", log: { level: "x" } }))
console.log(O.validateAirbyteMessage({ type: "SPEC", spec: { connectionSpecification: {}, documentationUrl: "not a uri" } }))
console.log(O.validateConfiguredCatalog({ streams: [{}] }))
try { O.assertValidLines('{"type":"LOG","log":{"level":"INFO","message":"x"}}\r\nnope\n{"type":1}\n') } catch (e) { console.log(String(e)) }
