/**
 * Kubernetes job-type configuration as Airbyte's kube-job-configs (reference §7.1): resources, node
 * selectors, tolerations, annotations and labels for the default (sync), check, discover and spec
 * pods from JOB_*, CHECK_JOB_*, DISCOVER_JOB_*, SPEC_JOB_* env vars, each field falling back to the
 * default, plus per-connection overrides. Pure; imports only `effect`.
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"

export type JobKind = "default" | "check" | "discover" | "spec"

export interface Resources {
  readonly cpuRequest?: string
  readonly cpuLimit?: string
  readonly memoryRequest?: string
  readonly memoryLimit?: string
}

export interface Toleration {
  readonly key?: string
  readonly operator?: string
  readonly value?: string
  readonly effect?: string
  readonly tolerationSeconds?: number
}

export interface JobTypeConfig {
  readonly resources: Resources
  readonly nodeSelectors: Readonly<Record<string, string>>
  readonly tolerations: ReadonlyArray<Toleration>
  readonly annotations: Readonly<Record<string, string>>
  readonly labels: Readonly<Record<string, string>>
}

/** A field left out falls back to the job type's value, then to the default's. */
export type JobTypeOverride = { readonly [K in keyof JobTypeConfig]?: JobTypeConfig[K] }

export type JobTypeConfigs = { readonly [K in JobKind]: JobTypeOverride }

export class InvalidKubeSetting extends Data.TaggedError("InvalidKubeSetting")<{ readonly variable: string; readonly value: string; readonly expected: string }> {
  override get message() {
    return `${this.variable} must be ${this.expected}, got ${JSON.stringify(this.value)}`
  }
}

export const prefixes: { readonly [K in JobKind]: string } = { default: "JOB_", check: "CHECK_JOB_", discover: "DISCOVER_JOB_", spec: "SPEC_JOB_" }

export const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/

/** `k=v,k2=v2` (Airbyte's JOB_KUBE_LABELS / _ANNOTATIONS / _NODE_SELECTORS format). */
export const parsePairs = (variable: string, raw: string) =>
  Effect.gen(function*() {
    const out: Record<string, string> = {}
    for (const part of raw.split(",")) {
      const item = part.trim()
      if (item === "") continue
      const eq = item.indexOf("=")
      if (eq <= 0) return yield* new InvalidKubeSetting({ variable, value: raw, expected: "a comma list of key=value" })
      out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim()
    }
    return out
  })

/** `key=k,operator=Equal,value=v,effect=NoSchedule;key=…` (Airbyte's JOB_KUBE_TOLERATIONS format). */
export const parseTolerations = (variable: string, raw: string) =>
  Effect.gen(function*() {
    const out: Array<Toleration> = []
    for (const group of raw.split(";")) {
      if (group.trim() === "") continue
      const pairs = yield* parsePairs(variable, group)
      const { key, operator, value, effect, tolerationSeconds } = pairs
      const seconds = tolerationSeconds === undefined ? undefined : Number(tolerationSeconds)
      if (seconds !== undefined && !Number.isInteger(seconds)) {
        return yield* new InvalidKubeSetting({ variable, value: raw, expected: "tolerations with an integer tolerationSeconds" })
      }
      out.push({
        ...(key === undefined ? {} : { key }),
        operator: operator ?? (value === undefined ? "Exists" : "Equal"),
        ...(value === undefined ? {} : { value }),
        ...(effect === undefined ? {} : { effect }),
        ...(seconds === undefined ? {} : { tolerationSeconds: seconds })
      })
    }
    return out
  })

const resourceVars = [
  ["cpuRequest", "MAIN_CONTAINER_CPU_REQUEST"],
  ["cpuLimit", "MAIN_CONTAINER_CPU_LIMIT"],
  ["memoryRequest", "MAIN_CONTAINER_MEMORY_REQUEST"],
  ["memoryLimit", "MAIN_CONTAINER_MEMORY_LIMIT"]
] as const

/** One job type's settings from the environment: only the variables that are set. */
export const fromEnvFor = (env: Readonly<Record<string, string | undefined>>, kind: JobKind) =>
  Effect.gen(function*() {
    const prefix = prefixes[kind]
    const read = (name: string) => {
      const raw = env[prefix + name]?.trim()
      return raw === undefined || raw === "" ? undefined : raw
    }
    const resources: { -readonly [K in keyof Resources]: string } = {}
    for (const [field, name] of resourceVars) {
      const raw = read(name)
      if (raw === undefined) continue
      if (!QUANTITY.test(raw)) return yield* new InvalidKubeSetting({ variable: prefix + name, value: raw, expected: "a Kubernetes quantity (e.g. 500m, 2, 1Gi)" })
      resources[field] = raw
    }
    const pairs = (name: string) => {
      const raw = read(name)
      return raw === undefined ? Effect.succeed(undefined) : parsePairs(prefix + name, raw)
    }
    const nodeSelectors = yield* pairs("KUBE_NODE_SELECTORS")
    const annotations = yield* pairs("KUBE_ANNOTATIONS")
    const labels = yield* pairs("KUBE_LABELS")
    const rawTolerations = read("KUBE_TOLERATIONS")
    const tolerations = rawTolerations === undefined ? undefined : yield* parseTolerations(prefix + "KUBE_TOLERATIONS", rawTolerations)
    const config: JobTypeOverride = {
      ...(Object.keys(resources).length === 0 ? {} : { resources }),
      ...(nodeSelectors === undefined ? {} : { nodeSelectors }),
      ...(tolerations === undefined ? {} : { tolerations }),
      ...(annotations === undefined ? {} : { annotations }),
      ...(labels === undefined ? {} : { labels })
    }
    return config
  })

export const fromEnv = (env: Readonly<Record<string, string | undefined>>) =>
  Effect.gen(function*() {
    const configs: JobTypeConfigs = {
      default: yield* fromEnvFor(env, "default"),
      check: yield* fromEnvFor(env, "check"),
      discover: yield* fromEnvFor(env, "discover"),
      spec: yield* fromEnvFor(env, "spec")
    }
    return configs
  })

const mergeResources = (...layers: ReadonlyArray<Resources | undefined>): Resources => {
  const out: { -readonly [K in keyof Resources]: string } = {}
  for (const layer of layers) {
    if (layer === undefined) continue
    for (const [field] of resourceVars) {
      const value = layer[field]
      if (value !== undefined && out[field] === undefined) out[field] = value
    }
  }
  return out
}

/**
 * The effective settings of one pod: the per-connection override first, then the job type's
 * settings, then the default's. Resources merge field by field; maps and lists are taken whole.
 */
export const resolve = (configs: JobTypeConfigs, kind: JobKind, override?: JobTypeOverride): JobTypeConfig => {
  const chain = [override, kind === "default" ? undefined : configs[kind], configs.default]
  const first = <K extends Exclude<keyof JobTypeConfig, "resources">>(key: K, fallback: JobTypeConfig[K]): JobTypeConfig[K] => {
    for (const layer of chain) {
      const value = layer?.[key]
      if (value !== undefined) return value as JobTypeConfig[K]
    }
    return fallback
  }
  return {
    resources: mergeResources(...chain.map((layer) => layer?.resources)),
    nodeSelectors: first("nodeSelectors", {}),
    tolerations: first("tolerations", []),
    annotations: first("annotations", {}),
    labels: first("labels", {})
  }
}

/** A CPU quantity in cores (`500m` → 0.5, `2` → 2); NaN when unparsable. */
export const cpuCores = (quantity: string | undefined): number => {
  if (quantity === undefined) return Number.NaN
  const match = /^([0-9]+(?:\.[0-9]+)?)(m?)$/.exec(quantity.trim())
  if (match === null) return Number.NaN
  const value = Number(match[1])
  return match[2] === "m" ? value / 1000 : value
}
