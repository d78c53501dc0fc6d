export { EngramStore, type EngramGetOperation, type EngramPutOperation, type EngramSearchOperation } from "./engram_store.js";
export type { EngramStoreIndexConfig, EngramStoreOptions, EngramStoreTtlConfig } from "../../store/langgraph/options.js";
export { collectionNameForLabel } from "../../store/langgraph/collections.js";
