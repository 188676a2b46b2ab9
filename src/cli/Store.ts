/**
 * The CLI's wiring of the store: the embedded PGlite in `.sluice/` beside the config file, or
 * PostgreSQL when SLUICE_DATABASE_URL is set; and how the CLI reports the errors users can act on.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Database from "../store/Database.ts"
import * as ConnectionStoreSql from "../store/ConnectionStoreSql.ts"
import * as JobStoreSql from "../store/JobStoreSql.ts"
import * as DataplaneStoreSql from "../store/DataplaneStoreSql.ts"
import * as RetryStateStoreSql from "../store/RetryStateStoreSql.ts"
import * as WorkloadStoreSql from "../store/WorkloadStoreSql.ts"

/** The three stores on the database chosen by the environment. */
export const layer = (dataDir: string) =>
  Layer.mergeAll(JobStoreSql.layer, ConnectionStoreSql.layer, RetryStateStoreSql.layer).pipe(
    Layer.provide(Database.layerFromEnv({ dataDir }))
  )

/** The stores of a server: also workloads and dataplane heartbeats, on the same database. */
export const serverLayer = (dataDir: string) =>
  Layer.mergeAll(JobStoreSql.layer, ConnectionStoreSql.layer, RetryStateStoreSql.layer, WorkloadStoreSql.layer, DataplaneStoreSql.layer).pipe(
    Layer.provide(Database.layerFromEnv({ dataDir }))
  )

/** This process owns the store (embedded, locked) and may clean up after a crashed run. */
export const ownsStore = (): boolean => (process.env["SLUICE_DATABASE_URL"] ?? "").length === 0

/** Exit codes: 2 for configuration and usage problems, 1 for everything else. */
const CONFIG_ERRORS: ReadonlySet<string> = new Set([
  "ConfigNotFound",
  "ConfigImportFailed",
  "ConfigInvalid",
  "UnknownConnection",
  "MissingSecret",
  "ConnectorUnavailable",
  "InvalidRetrySetting",
  "InvalidServeSetting"
])

/** Prints an expected failure as one clear message and turns it into an exit code. */
export const reportErrors = <E extends { readonly _tag: string; readonly message: string }, R>(
  self: Effect.Effect<number, E, R>
): Effect.Effect<number, never, R> =>
  self.pipe(
    Effect.catch((error: E) =>
      Effect.sync(() => {
        process.stderr.write(`error: ${error.message}\n`)
        return CONFIG_ERRORS.has(error._tag) ? 2 : 1
      })
    ),
    Effect.catchDefect((defect) =>
      Effect.sync(() => {
        process.stderr.write(`sluice crashed: ${defect instanceof Error ? defect.stack ?? defect.message : String(defect)}\n`)
        return 1
      })
    )
  )
