/**
 * Per-connection pod settings as a connection spec holds them (`kubernetes: { resources, source,
 * destination, nodeSelectors, tolerations, annotations, labels }`, plus the older `resources:
 * { source: { cpu, memory }, destination }`): the Schema the config language validates with (paths in
 * errors), and the ConnectionOverride the pod builder applies. Pure; imports only `effect`.
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { QUANTITY, type Resources } from "./JobTypeConfig.ts"
import type { ConnectionOverride } from "./PodSpec.ts"

const Quantity = Schema.String.check(Schema.makeFilter((q: string) =>
  QUANTITY.test(q) ? undefined : `expected a Kubernetes quantity like "500m", "2" or "1Gi", got ${JSON.stringify(q)}`
))

const NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/** Why `key` is not a label/annotation/selector key (`[prefix/]name`), or undefined. */
export const keyProblem = (key: string): string | undefined => {
  const slash = key.lastIndexOf("/")
  const prefix = slash < 0 ? undefined : key.slice(0, slash)
  const name = slash < 0 ? key : key.slice(slash + 1)
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return `expected a DNS subdomain prefix in ${JSON.stringify(key)}`
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
    return `expected a key of at most 63 characters of A-Z, a-z, 0-9, -, _ and . (optionally prefix/), got ${JSON.stringify(key)}`
  }
  return undefined
}

const Key = Schema.String.check(Schema.makeFilter(keyProblem))
const LabelValue = Schema.String.check(Schema.makeFilter((value: string) =>
  value === "" || (value.length <= 63 && NAME.test(value)) ? undefined : `expected a label value of at most 63 characters of A-Z, a-z, 0-9, -, _ and ., got ${JSON.stringify(value)}`
))

export const PodResources = Schema.Struct({
  cpuRequest: Schema.optionalKey(Quantity),
  cpuLimit: Schema.optionalKey(Quantity),
  memoryRequest: Schema.optionalKey(Quantity),
  memoryLimit: Schema.optionalKey(Quantity)
})

export const PodToleration = Schema.Struct({
  key: Schema.optionalKey(Schema.String),
  operator: Schema.optionalKey(Schema.Literals(["Exists", "Equal"])),
  value: Schema.optionalKey(Schema.String),
  effect: Schema.optionalKey(Schema.Literals(["NoSchedule", "PreferNoSchedule", "NoExecute"])),
  tolerationSeconds: Schema.optionalKey(Schema.Int)
})

/**
 * A connection's pod settings. `resources` apply to every connector container of its pods (the
 * worker keeps its own 1 CPU / 1 GiB); `source` and `destination` refine them for sync pods. Anything
 * left out falls back to the job type's settings (JOB_*, CHECK_JOB_*, …), then the default's.
 */
export const PodOverrides = Schema.Struct({
  resources: Schema.optionalKey(PodResources),
  source: Schema.optionalKey(PodResources),
  destination: Schema.optionalKey(PodResources),
  nodeSelectors: Schema.optionalKey(Schema.Record(Key, LabelValue)),
  tolerations: Schema.optionalKey(Schema.Array(PodToleration)),
  annotations: Schema.optionalKey(Schema.Record(Key, Schema.String)),
  labels: Schema.optionalKey(Schema.Record(Key, LabelValue))
})
export type PodOverrides = typeof PodOverrides.Type

/** The older `resources: { source: { cpu, memory } }` of a connection: each quantity is the request and the limit. */
const LegacyResources = Schema.Struct({
  source: Schema.optionalKey(Schema.Struct({ cpu: Schema.optionalKey(Schema.Union([Schema.Finite, Schema.String])), memory: Schema.optionalKey(Schema.Union([Schema.Finite, Schema.String])) })),
  destination: Schema.optionalKey(Schema.Struct({ cpu: Schema.optionalKey(Schema.Union([Schema.Finite, Schema.String])), memory: Schema.optionalKey(Schema.Union([Schema.Finite, Schema.String])) }))
})

const fromLegacy = (side: { readonly cpu?: number | string; readonly memory?: number | string } | undefined): Resources | undefined => {
  if (side === undefined) return undefined
  const cpu = side.cpu === undefined ? undefined : String(side.cpu)
  const memory = side.memory === undefined ? undefined : String(side.memory)
  return {
    ...(cpu === undefined ? {} : { cpuRequest: cpu, cpuLimit: cpu }),
    ...(memory === undefined ? {} : { memoryRequest: memory, memoryLimit: memory })
  }
}

const both = (first: Resources | undefined, second: Resources | undefined): Resources | undefined =>
  first === undefined && second === undefined ? undefined : { ...second, ...first }

/**
 * The override a stored connection spec asks for (`kubernetes`, then the older `resources`), or
 * undefined when it asks for none. Specs are validated when stored; parts that do not decode are ignored.
 */
export const fromSpec = (spec: Readonly<Record<string, unknown>>): ConnectionOverride | undefined => {
  const kube = Option.getOrUndefined(Schema.decodeUnknownOption(PodOverrides)(spec["kubernetes"] ?? {}))
  const legacy = Option.getOrUndefined(Schema.decodeUnknownOption(LegacyResources)(spec["resources"] ?? {}))
  const source = both(kube?.source, fromLegacy(legacy?.source))
  const destination = both(kube?.destination, fromLegacy(legacy?.destination))
  const override: ConnectionOverride = {
    ...(kube?.resources === undefined ? {} : { resources: kube.resources }),
    ...(source === undefined ? {} : { source }),
    ...(destination === undefined ? {} : { destination }),
    ...(kube?.nodeSelectors === undefined ? {} : { nodeSelectors: kube.nodeSelectors }),
    ...(kube?.tolerations === undefined ? {} : { tolerations: kube.tolerations }),
    ...(kube?.annotations === undefined ? {} : { annotations: kube.annotations }),
    ...(kube?.labels === undefined ? {} : { labels: kube.labels })
  }
  return Object.keys(override).length === 0 ? undefined : override
}
