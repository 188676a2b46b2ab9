/**
 * The field mappers (hash, rename, drop, filter, encrypt), one module each; registered by the explicit
 * list in `src/plugins/middleware.ts`. Imports only src/engine, effect and node builtins.
 */
export { dropMapper, DropMapperConfig } from "./DropMapper.ts"
export { decryptValue, DecryptError, encryptMapper, EncryptMapperConfig } from "./EncryptMapper.ts"
export { filterMapper, FilterMapperConfig } from "./FilterMapper.ts"
export { hashMapper, HashMapperConfig, HashMethod } from "./HashMapper.ts"
export { Predicate, PredicateOp } from "./Predicate.ts"
export { renameMapper, RenameMapperConfig } from "./RenameMapper.ts"
