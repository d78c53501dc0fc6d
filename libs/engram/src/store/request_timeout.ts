/*
 * A deadline on every request of a Chroma client. chromadb's client has none: a server that is
 * alive but does not answer (seen after its disk filled up: the heartbeat answers, every collection
 * request hangs) held every Engram call, `flush()` and `close()` included, for ever. With a
 * deadline the request fails as an outage (STORE_UNAVAILABLE: writes stay queued, nothing is
 * lost), and the connection can restart a local server that hangs (connection.ts `recover`).
 */
import type { ChromaClient } from "chromadb";
import { EngramError } from "../core/errors.js";
import { describeValue } from "../core/describe.js";

/** How long one request to Chroma may take, unless `chroma.timeoutMs` says otherwise. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/** The fetch layer of chromadb's client (@hey-api/client-fetch), where requests can be changed. */
interface ApiClient {
  interceptors?: { request?: { use(fn: (request: Request) => Request | Promise<Request>): unknown } };
}

/** `chroma.timeoutMs`, checked: a number of milliseconds > 0, or 0 for no deadline. */
export function resolveRequestTimeout(value: unknown): number {
  if (value === undefined) return DEFAULT_REQUEST_TIMEOUT_MS;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new EngramError("INVALID_OPTIONS", `chroma.timeoutMs must be a number of milliseconds >= 0 (0: no deadline), got ${describeValue(value)}.`);
  }
  return value;
}

/**
 * Gives every request `client` sends a deadline of `ms` (0: none), and returns the client. The
 * request is aborted at the deadline, which the client reports as a connection failure.
 * @throws EngramError `STORE_ERROR` when this chromadb version's client has no request hook (an
 *   upgrade changed it; Engram's tests catch that before a release).
 */
export function withRequestTimeout(client: ChromaClient, ms: number): ChromaClient {
  if (ms === 0) return client;
  // A private field of ChromaClient: chromadb exposes no per-request option. Pinned by its tests.
  const api = (client as unknown as { apiClient?: ApiClient }).apiClient;
  const hook = api?.interceptors?.request;
  if (!hook) throw new EngramError("STORE_ERROR", "This chromadb client has no request hook for Engram's request deadline (chroma.timeoutMs); set chroma.timeoutMs to 0.");
  hook.use((request) => {
    const deadline = AbortSignal.timeout(ms);
    return new Request(request, { signal: request.signal ? AbortSignal.any([request.signal, deadline]) : deadline });
  });
  return client;
}
