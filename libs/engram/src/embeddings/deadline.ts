/**
 * A deadline on one call of an embedding model. A model the caller passes may never answer (a
 * request with no timeout of its own to a server that stopped answering, a local model stuck):
 * without one, the drain that waits on it never ends, and `flush()` and `close()`, which wait for
 * drains, never returned. A call past its deadline is abandoned: LangChain's `embedDocuments` takes
 * no signal, so the call itself runs on, and its late answer (or failure) is dropped.
 */
import { EngramError } from "../core/errors.js";

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
