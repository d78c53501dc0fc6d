/**
 * `engram/store`: LangGraph's `BaseStore` on Chroma (semantic search, filter operators, TTL with
 * refresh on read), for a graph's `store`.
 */
export {
  EngramStore,
  type EngramGetOperation,
  type EngramPutOperation,
  type EngramSearchOperation,
  type EngramStoreIndexConfig,
  type EngramStoreOptions,
  type EngramStoreTtlConfig,
} from "../adapters/store/index.js";
