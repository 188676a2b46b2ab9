/**
 * Mapper specs for config as code: `mappers.*` build the plain-data configs of the middleware plugins
 * in src/plugins/middleware.ts (`{ type, ... }`), with `secret("NAME")` allowed for keys and salts.
 * Decoded against the plugins' own Schemas when the config is loaded. Imports src/plugins types only.
 */
import type * as Plugins from "../plugins/mappers/Mappers.ts"
import type { PiiHashConfig } from "../plugins/pii-hash/PiiHash.ts"
import type { Secret } from "./Secret.ts"

type WithSecret<T, K extends keyof T> = { readonly [P in keyof T]: P extends K ? Exclude<T[P], undefined> | Secret : T[P] }

export type HashMapperSpec = WithSecret<Plugins.HashMapperConfig, "salt">
export type RenameMapperSpec = Plugins.RenameMapperConfig
export type DropMapperSpec = Plugins.DropMapperConfig
export type FilterMapperSpec = Plugins.FilterMapperConfig
export type EncryptMapperSpec = WithSecret<Plugins.EncryptMapperConfig, "key">
export type PiiHashMapperSpec = WithSecret<PiiHashConfig, "salt"> & { readonly type: "pii-hash" }

/** What a connection may list under `mappers`, applied in order (stdio transport only). */
export type MapperSpec =
  | HashMapperSpec
  | RenameMapperSpec
  | DropMapperSpec
  | FilterMapperSpec
  | EncryptMapperSpec
  | PiiHashMapperSpec

type Options<T> = Omit<T, "type">

export const mappers = {
  /** Replaces `field` with the hex digest (sha256 by default) of its value, optionally salted. */
  hash: (options: Options<HashMapperSpec>): HashMapperSpec => ({ type: "hash", ...options }),
  /** Renames `field` to `to` in records, schema, primary key and cursor. */
  rename: (options: Options<RenameMapperSpec>): RenameMapperSpec => ({ type: "rename", ...options }),
  /** Removes `field` from records and schema (not a primary-key or cursor field). */
  drop: (options: Options<DropMapperSpec>): DropMapperSpec => ({ type: "drop", ...options }),
  /** Keeps the records of `stream` for which the declarative predicate `keep` holds. */
  filter: (options: Options<FilterMapperSpec>): FilterMapperSpec => ({ type: "filter", ...options }),
  /** Replaces `field` with its AES-256-GCM ciphertext; `key` is 32 bytes (base64 or hex), usually a secret(). */
  encrypt: (options: Options<EncryptMapperSpec>): EncryptMapperSpec => ({ type: "encrypt", ...options }),
  /** Replaces `fields` of one stream (or every stream) with the salted sha256 of their values. */
  piiHash: (options: Options<PiiHashMapperSpec>): PiiHashMapperSpec => ({ type: "pii-hash", ...options })
}
