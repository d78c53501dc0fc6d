export { EngramRetriever, type EngramRetrieverOptions, type EngramDocumentMetadata } from "./retriever.js";
export { selectMemories, jaccard, type SelectOptions, type Selection } from "./select.js";
