/**
 * Loads `sluice.config.ts` (or .mts/.js/.mjs) with no build step: Node imports it (stripping types),
 * its default export is validated (Validation.ts), and one connection is picked from it. A config
 * file outside this package still resolves `import … from "sluice"` to the running Sluice (a module
 * resolution hook, registered on first load, used only when Node's own resolution fails).
 * Imports src/engine, src/plugins, `effect` and `node:`.
 */
import * as Effect from "effect/Effect"
import { stat } from "node:fs/promises"
import * as NodeModule from "node:module"
import { dirname, extname, join, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import type { Config } from "./Config.ts"
import { ConfigImportFailed, ConfigInvalid, ConfigNotFound, UnknownConnection } from "./ConfigErrors.ts"
import { decodeConfig } from "./Validation.ts"

/** The extensions a config file may have, and the names tried when a directory is given. */
export const CONFIG_EXTENSIONS: ReadonlyArray<string> = [".ts", ".mts", ".js", ".mjs"]
export const DEFAULT_CONFIG_NAMES: ReadonlyArray<string> = CONFIG_EXTENSIONS.map((ext) => `sluice.config${ext}`)

export interface LoadedConfig {
  /** The absolute path of the file. */
  readonly path: string
  /** Its directory: relative paths in the config resolve against it. */
  readonly directory: string
  readonly config: Config
}

// --------------------------------------------------------------------------- "sluice" outside the repo

const ownEntry = new URL("../index.ts", import.meta.url).href
const ownPackageJson = new URL("../../package.json", import.meta.url).href
let hooksRegistered = false

/**
 * Lets a config file anywhere `import … from "sluice"`: when Node cannot resolve `sluice` from the
 * file's directory (no installed copy, not inside this package), it resolves to the running Sluice.
 * An installed copy, when there is one, wins. Registered once, on the first load.
 */
const registerSelfResolution = (): void => {
  if (hooksRegistered || typeof NodeModule.registerHooks !== "function") return
  hooksRegistered = true
  NodeModule.registerHooks({
    resolve(specifier, context, nextResolve) {
      try {
        return nextResolve(specifier, context)
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code === "ERR_MODULE_NOT_FOUND" && specifier === "sluice") return { url: ownEntry, shortCircuit: true }
        if (code === "ERR_MODULE_NOT_FOUND" && specifier === "sluice/package.json") return { url: ownPackageJson, shortCircuit: true }
        throw error
      }
    }
  })
}

// ------------------------------------------------------------------------------------- import errors

const isErrno = (error: unknown): error is NodeJS.ErrnoException => error instanceof Error

/** The lines of a stack that point into the config file (Node's code frame for syntax errors). */
const locationIn = (error: Error, file: string): string | undefined => {
  const stack = error.stack ?? ""
  if (stack.startsWith(file) || stack.startsWith(pathToFileURL(file).href)) {
    const frame = stack.split(/\n\s*\n/)[0]
    return frame !== undefined && frame.length < 2000 ? frame : undefined
  }
  const href = pathToFileURL(file).href
  const line = stack.split("\n").find((l) => l.includes(href) || l.includes(file))
  return line === undefined ? undefined : line.trim().replace(/\?mtime=\d+(\.\d+)?/, "")
}

const HINTS: Readonly<Record<string, string>> = {
  ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX:
    "config files run with Node's type stripping, which supports erasable syntax only: no enums, namespaces or parameter properties",
  ERR_INVALID_TYPESCRIPT_SYNTAX: "fix the syntax error; `npx tsc --noEmit` shows it with the file's types checked",
  ERR_MODULE_NOT_FOUND: "config files resolve imports from their own directory: install the package there (npm install …) or import it by relative path"
}

/** The underlying message, where in the file, and a hint when the cause is a known one. */
export const describeImportError = (error: unknown, file: string): string => {
  if (!isErrno(error)) return `threw a non-error: ${String(error)}`
  const lines = [`${error.name}: ${error.message.replace(/\?mtime=\d+(\.\d+)?/g, "")}`]
  const location = locationIn(error, file)
  if (location !== undefined) lines.push(location.startsWith("at ") ? location : `at ${location}`)
  const hint = error.code === "ERR_MODULE_NOT_FOUND" && !error.message.startsWith("Cannot find package")
    ? "check the import path: relative imports name the file with its extension, e.g. \"./shared.ts\""
    : error.code === undefined ? undefined : HINTS[error.code]
  if (hint !== undefined) lines.push(`hint: ${hint}`)
  return lines.join("\n")
}

// ----------------------------------------------------------------------------------------- loading

interface Found {
  readonly path: string
  readonly mtimeMs: number
}

const statFile = (path: string) =>
  Effect.tryPromise({ try: () => stat(path), catch: () => new ConfigNotFound({ path }) })

/** The file itself, or `sluice.config.{ts,mts,js,mjs}` inside a directory. */
const locate = Effect.fn("config.locate")(function*(path: string) {
  const absolute = resolve(path)
  const info = yield* statFile(absolute)
  if (info.isFile()) return { path: absolute, mtimeMs: info.mtimeMs } satisfies Found
  if (!info.isDirectory()) return yield* new ConfigNotFound({ path: absolute })
  for (const name of DEFAULT_CONFIG_NAMES) {
    const candidate = join(absolute, name)
    const found = yield* statFile(candidate).pipe(Effect.option)
    if (found._tag === "Some" && found.value.isFile()) return { path: candidate, mtimeMs: found.value.mtimeMs } satisfies Found
  }
  return yield* new ConfigNotFound({ path: join(absolute, DEFAULT_CONFIG_NAMES[0]!) })
})

/**
 * Imports a config file (a directory means its `sluice.config.ts`) and validates its default export.
 * An edited file is imported afresh (the module URL carries its mtime). Fails with ConfigNotFound,
 * ConfigImportFailed (syntax error, a throw while evaluating, an unresolvable import: the underlying
 * message, where, and a hint) or ConfigInvalid (every problem with its path).
 */
export const loadConfig = Effect.fn("config.loadConfig")(function*(path: string) {
  const found = yield* locate(path)
  const extension = extname(found.path)
  if (!CONFIG_EXTENSIONS.includes(extension)) {
    return yield* new ConfigImportFailed({
      path: found.path,
      detail: `unsupported extension ${JSON.stringify(extension)}: a config file is ${CONFIG_EXTENSIONS.join(", ")}`
    })
  }
  registerSelfResolution()
  const url = `${pathToFileURL(found.path).href}?mtime=${found.mtimeMs}`
  const module = yield* Effect.tryPromise({
    try: (): Promise<Readonly<Record<string, unknown>>> => import(url),
    catch: (error) => new ConfigImportFailed({ path: found.path, detail: describeImportError(error, found.path) })
  })
  if (module["default"] === undefined) {
    return yield* new ConfigInvalid({
      path: found.path,
      issues: [{
        path: "(default export)",
        message: "the file has no default export: end it with `export default defineConfig({ connections: { ... } })`"
      }]
    })
  }
  const directory = dirname(found.path)
  const config = yield* decodeConfig(module["default"], { baseDir: directory, file: found.path })
  return { path: found.path, directory, config } satisfies LoadedConfig
})

/**
 * The connection to run: `name`, or the only one when the config defines exactly one. Fails with
 * UnknownConnection listing the available names.
 */
export const resolveConnection = <C>(
  config: { readonly connections: { readonly [name: string]: C } },
  name?: string
): Effect.Effect<{ readonly name: string; readonly connection: C }, UnknownConnection> =>
  Effect.suspend(() => {
    const available = Object.keys(config.connections)
    const chosen = name ?? (available.length === 1 ? available[0] : undefined)
    if (chosen !== undefined && Object.hasOwn(config.connections, chosen)) {
      return Effect.succeed({ name: chosen, connection: config.connections[chosen]! })
    }
    return Effect.fail(new UnknownConnection({ name, available }))
  })
