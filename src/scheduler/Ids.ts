/**
 * Branded ids of the scheduler's domain: jobs, attempts and connections. Schema-first so they decode
 * at every edge (SQL rows, HTTP). Imports only `effect`.
 */
import * as Schema from "effect/Schema"

/** A job's id: the `jobs.id` bigserial, a positive integer. */
export const JobId = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).pipe(Schema.brand("JobId"))
export type JobId = typeof JobId.Type

/** The 0-based number of an attempt within its job (Airbyte's DB numbering). */
export const AttemptNumber = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).pipe(Schema.brand("AttemptNumber"))
export type AttemptNumber = typeof AttemptNumber.Type

/** An attempt's own id: the `attempts.id` bigserial, a positive integer. */
export const AttemptId = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).pipe(Schema.brand("AttemptId"))
export type AttemptId = typeof AttemptId.Type

/** A connection's id: its name in the pipeline file (`connections: { name: {...} }`). */
export const ConnectionId = Schema.NonEmptyString.pipe(Schema.brand("ConnectionId"))
export type ConnectionId = typeof ConnectionId.Type
