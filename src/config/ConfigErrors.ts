/**
 * The typed failures of loading a config file and choosing a connection from it; each message says
 * what is wrong and where. In-process errors (Data.TaggedError). Imports only `effect`.
 */
import * as Data from "effect/Data"

/** One problem in a config, at a path such as `connections.quickstart.source.config.count`. */
export interface ConfigIssue {
  readonly path: string
  readonly message: string
}

/** No config file at `path`. */
export class ConfigNotFound extends Data.TaggedError("ConfigNotFound")<{ readonly path: string }> {
  override get message() {
    return `config file not found: ${this.path}`
  }
}

/** The file exists but importing it failed (syntax error, a throw, an unresolvable import…). */
export class ConfigImportFailed extends Data.TaggedError("ConfigImportFailed")<{
  readonly path: string
  /** The underlying error: its message, where in the file, and how to fix it when known. */
  readonly detail: string
}> {
  override get message() {
    return `cannot load config file ${this.path}:\n${this.detail}`
  }
}

/** The file's default export is not a valid config: every problem, with its path. */
export class ConfigInvalid extends Data.TaggedError("ConfigInvalid")<{
  /** The config file, when the config came from one. */
  readonly path: string | undefined
  readonly issues: ReadonlyArray<ConfigIssue>
}> {
  override get message() {
    const where = this.path === undefined ? "invalid config" : `invalid config ${this.path}`
    return `${where}:\n${this.issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}`
  }
}

/** No connection by that name, or a name is needed because the config defines several. */
export class UnknownConnection extends Data.TaggedError("UnknownConnection")<{
  /** The name asked for; undefined when none was given. */
  readonly name: string | undefined
  readonly available: ReadonlyArray<string>
}> {
  override get message() {
    const list = this.available.join(", ")
    return this.name === undefined
      ? `the config defines ${this.available.length} connections; name one (--connection NAME): ${list}`
      : `no connection ${JSON.stringify(this.name)} in the config; available connections: ${list}`
  }
}
