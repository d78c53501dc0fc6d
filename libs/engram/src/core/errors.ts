/**
 * Every error Engram raises on purpose is an `EngramError` with a stable `code`, so callers can
 * branch on the code rather than on message text. Driver errors are wrapped with `{ cause }`.
 */
export type EngramErrorCode =
  // Input validation: raised before anything is written.
  | "INVALID_USER_ID"
  | "INVALID_SCOPE"
  | "INVALID_CONTENT"
  | "CONTENT_TOO_LARGE"
  | "INVALID_METADATA"
  | "INVALID_ID"
  | "INVALID_OPTIONS"
  | "NOT_FOUND"
  // A graph node given a state without a channel it needs (graph/channels.ts).
  | "MISSING_STATE_CHANNEL"
  // Core memory blocks (memory/blocks.ts): refused before anything is written.
  | "BLOCK_LIMIT"
  | "UNKNOWN_BLOCK"
  | "BLOCK_TEXT_NOT_FOUND"
  // The LangGraph store (store/langgraph, adapters/store): refused before anything is written.
  | "INVALID_NAMESPACE"
  | "INVALID_VALUE"
  | "INVALID_TTL"
  | "INVALID_FILTER"
  // The CLI's import (cli/): a bad line of the file, refused before anything is written.
  | "INVALID_IMPORT"
  // The local Chroma server and connections to a Chroma server.
  | "CHROMA_PORT_IN_USE"
  | "CHROMA_DATA_DIR_NOT_WRITABLE"
  | "CHROMA_EXITED"
  | "CHROMA_START_TIMEOUT"
  | "CHROMA_CLI_NOT_FOUND"
  | "STORE_UNAVAILABLE"
  | "STORE_ERROR"
  // Embeddings.
  | "EMBEDDING_FAILED"
  | "EMBEDDINGS_MISMATCH"
  // `engram reembed` refused: another run is moving the same data folder (memory/reembed_lock.ts).
  | "REEMBED_RUNNING"
  // Chat models used by memory (fact extraction and reconciliation).
  | "MODEL_ERROR"
  | "MODEL_OUTPUT_INVALID"
  // The durable outbox and history log.
  | "OUTBOX_ERROR"
  // The PostgreSQL state backend (state/postgres) cannot be reached.
  | "STATE_UNAVAILABLE"
  | "CLOSED";

export interface EngramErrorOptions {
  cause?: unknown;
  /** Extra machine-readable detail (a port, a path, the server's stderr...). */
  details?: Record<string, unknown>;
}

export class EngramError extends Error {
  readonly code: EngramErrorCode;

  readonly details: Record<string, unknown>;

  constructor(code: EngramErrorCode, message: string, options: EngramErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "EngramError";
    this.code = code;
    this.details = options.details ?? {};
  }
}

export function isEngramError(error: unknown, code?: EngramErrorCode): error is EngramError {
  return error instanceof EngramError && (code === undefined || error.code === code);
}
