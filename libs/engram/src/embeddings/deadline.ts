/**
 * A deadline on one call of an embedding model. A model the caller passes may never answer (a
 * request with no timeout of its own to a server that stopped answering, a local model stuck):
 * without one, the drain that waits on it never ends, and `flush()` and `close()`, which wait for
 * drains, never returned. A call past its deadline is abandoned: LangChain's `embedDocuments` takes
 * no signal, so the call itself runs on, and its late answer (or failure) is dropped.
 */
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { EngramError } from "../core/errors.js";
import { validateLimit } from "../core/validate.js";
import { LocalEmbeddings } from "./local.js";
import { StaticEmbeddings } from "./static.js";

/** `call`, or `EMBEDDING_FAILED` once `timeoutMs` passed (0: no deadline). */
export function withDeadline<T>(call: Promise<T>, timeoutMs: number, texts: number): Promise<T> {
  if (timeoutMs === 0) return call;
  // Abandoned calls that fail later must not become unhandled rejections.
  call.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    // Not unref'd: a call in flight keeps the process alive until it is answered or abandoned.
    timer = setTimeout(
      () =>
        reject(
          new EngramError("EMBEDDING_FAILED", `The embedding model did not answer within ${timeoutMs} ms (${texts} text(s)); the call was abandoned.`, {
            details: { timeoutMs, texts },
          }),
        ),
      timeoutMs,
    );
  });
  return Promise.race([call, expired]).finally(() => clearTimeout(timer));
}

/**
 * The `embeddingTimeoutMs` option of `Memory` and `EngramStore`, resolved. A model the caller passes
 * may never answer (a request without a timeout to a server that stopped answering) and gets a
 * deadline of two minutes by default; Engram's own models fail rather than hang (a crashed worker
 * fails its calls; the static model is a table lookup), and a large drain slice on a loaded machine
 * may take USE-Lite a minute: they get none. `embeddings` undefined: Engram's default model.
 * @throws EngramError `INVALID_OPTIONS` unless an integer from 0 (no limit) to 3,600,000
 */
export function resolveEmbeddingTimeout(value: unknown, embeddings: EmbeddingsInterface | undefined): number {
  const ownModel = embeddings === undefined || embeddings instanceof LocalEmbeddings || embeddings instanceof StaticEmbeddings;
  return validateLimit(value, "embeddingTimeoutMs", ownModel ? 0 : 120_000, 3_600_000);
}
