/**
 * Turns a connection's source/destination spec into what the engine runs: a `ConnectorDefinition`
 * (built-ins as `node bin/sluice.js connector <id>`, commands as their argv) plus the config with its
 * secrets resolved from the environment, at run time only. Imports src/engine, src/plugins, `effect`.
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import { isAbsolute, resolve } from "node:path"
import { builtinConnectorCommand } from "../plugins/builtin.ts"
import type { ConnectorDefinition } from "../engine/ConnectorProcess.ts"
import type { ConnectorSpecData } from "./Config.ts"
import { findKnownConnector } from "./Connectors.ts"
import { resolveSecrets, secretNames } from "./Secret.ts"

/** The `sluice` executable that runs built-in connectors (`sluice connector <id> …`). */

/** The spec names a connector this build cannot run (postgres before it lands, or an unknown id). */
export class ConnectorUnavailable extends Data.TaggedError("ConnectorUnavailable")<{
  readonly kind: "source" | "destination"
  readonly connector: string
  readonly path: string
}> {
  override get message() {
    const known = findKnownConnector(this.kind, this.connector) !== undefined
    return known
      ? `${this.path}: the ${this.connector} ${this.kind} is not available in this version of Sluice yet`
      : `${this.path}: unknown ${this.kind} connector ${JSON.stringify(this.connector)}`
  }
}

export interface ResolvedConnector {
  readonly definition: ConnectorDefinition
  /** The config with secrets resolved: pass it to the connector, never store or log it. */
  readonly config: Readonly<Record<string, unknown>>
  /** The resolved secret values, for `redactSecrets(x, { values })` on anything logged. */
  readonly secretValues: ReadonlyArray<string>
}

export interface ResolveOptions {
  /** Where secrets come from; default `process.env`, read when the Effect runs. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
  /**
   * The config file's directory: relative paths in built-in configs resolve against it, and a command
   * connector runs in it (a relative argv[0] like `./bin/source` too). Default: the working directory.
   */
  readonly baseDir?: string | undefined
  /** Where the spec is in the config, for error paths (`connections.pg.source`). */
  readonly path?: string | undefined
}

const isRelativePath = (file: string) => file.startsWith("./") || file.startsWith("../")

/**
 * The definition and resolved config of a source or destination spec. Fails with MissingSecret when a
 * referenced variable is unset, ConnectorUnavailable when this build has no such built-in.
 */
export const resolveConnector = Effect.fn("config.resolveConnector")(function*(
  spec: ConnectorSpecData,
  options: ResolveOptions = {}
) {
  const env = options.env ?? process.env
  const path = options.path ?? spec.kind
  const config = yield* resolveSecrets(spec.config, env, `${path}.config`)
  const secretValues = [...secretNames(spec.config), ...secretNames(spec.env ?? {})].flatMap((name) => env[name] ?? [])
  if (spec.connector === "command") {
    const [file, ...args] = spec.command ?? []
    const commandEnv = spec.env === undefined ? undefined : yield* resolveSecrets(spec.env, env, `${path}.env`)
    const base = options.baseDir
    const definition: ConnectorDefinition = {
      command: file === undefined ? [] : [base !== undefined && isRelativePath(file) ? resolve(base, file) : file, ...args],
      ...(spec.ipc === undefined ? {} : { ipc: spec.ipc }),
      ...(commandEnv === undefined ? {} : { env: commandEnv }),
      ...(base === undefined ? {} : { cwd: base })
    }
    return { definition, config, secretValues } satisfies ResolvedConnector
  }
  const known = findKnownConnector(spec.kind, spec.connector)
  if (known?.builtin === undefined) {
    return yield* new ConnectorUnavailable({ kind: spec.kind, connector: spec.connector, path: `${path}.connector` })
  }
  const withPaths: Record<string, unknown> = { ...config }
  for (const key of known.pathKeys) {
    const value = withPaths[key]
    if (typeof value === "string" && !isAbsolute(value)) withPaths[key] = resolve(options.baseDir ?? process.cwd(), value)
  }
  const definition: ConnectorDefinition = {
    command: builtinConnectorCommand(known.id),
    ipc: known.builtin.ipc
  }
  return { definition, config: withPaths, secretValues } satisfies ResolvedConnector
})
