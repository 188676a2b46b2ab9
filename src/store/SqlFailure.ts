/**
 * Turns what the driver and row decoding can fail with (SqlError, SchemaError) into the ports'
 * StoreError, keeping domain errors as they are. Store-internal.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { SqlError } from "effect/sql"
import { StoreError } from "../scheduler/StoreErrors.ts"

type Infrastructure = SqlError.SqlError | Schema.SchemaError

const isInfrastructure = (error: unknown): error is Infrastructure =>
  SqlError.isSqlError(error) || Schema.isSchemaError(error)

export const toStoreError = (operation: string, error: Infrastructure): StoreError =>
  SqlError.isSqlError(error)
    ? new StoreError({ operation, detail: error.message, retryable: error.isRetryable, cause: error })
    : new StoreError({ operation, detail: `a stored row does not decode: ${error.message}`, retryable: false, cause: error })

/** Maps infrastructure failures of `effect` to StoreError naming `operation`. */
export const orStoreError = (operation: string) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, Exclude<E, Infrastructure> | StoreError, R> =>
  Effect.mapError(effect, (error) =>
    isInfrastructure(error) ? toStoreError(operation, error) : error as Exclude<E, Infrastructure>)

/** The violated constraint when `error` is a unique violation (SQLSTATE 23505), else undefined. */
export const uniqueViolation = (error: unknown): string | undefined =>
  SqlError.isSqlError(error) && error.reason._tag === "UniqueViolation" ? error.reason.constraint : undefined
