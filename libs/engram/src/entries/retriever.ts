/** `engram/retriever`: a LangChain `BaseRetriever` over a user's memories, for RAG chains and retriever slots. */
export { EngramRetriever, type EngramRetrieverOptions, type EngramDocumentMetadata } from "../adapters/retriever/index.js";
