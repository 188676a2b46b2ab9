/**
 * The API's own errors (beyond the store's): each a Schema.TaggedError with its HTTP status.
 * Imports only `effect`.
 */
import * as Schema from "effect/Schema"

export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", {
  message: Schema.String
}, { httpApiStatus: 401 }) {}

/** A worker token used for another workload's endpoints. */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", {
  message: Schema.String
}, { httpApiStatus: 403 }) {}

export const Issue = Schema.Struct({ path: Schema.String, message: Schema.String })

/** A connection spec that does not validate: every problem with its path. */
export class ConnectionInvalid extends Schema.TaggedError<ConnectionInvalid>()("ConnectionInvalid", {
  message: Schema.String,
  issues: Schema.Array(Issue)
}, { httpApiStatus: 400 }) {}

export class ConnectionExists extends Schema.TaggedError<ConnectionExists>()("ConnectionExists", {
  connection: Schema.String
}, { httpApiStatus: 409 }) {
  override get message() {
    return `connection ${this.connection} exists already; update it with PUT`
  }
}
