export { EngramError, isEngramError, type EngramErrorCode, type EngramErrorOptions } from "./core/errors.js";
export { LocalEmbeddings, type LocalEmbeddingsOptions } from "./embeddings/local.js";
export { startChromaServer, type ChromaServer, type ChromaServerOptions } from "./store/chroma_server.js";
