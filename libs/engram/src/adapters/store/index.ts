export { EngramStore, type EngramGetOperation, type EngramPutOperation, type EngramSearchOperation } from "./engram_store.js";
export type { EngramStoreIndexConfig, EngramStoreOptions, EngramStoreTtlConfig } from "./options.js";
export { collectionNameForLabel } from "./collections.js";
