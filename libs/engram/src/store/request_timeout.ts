/*
 * A deadline on every request of a Chroma client. chromadb's client has none: a server that is
 * alive but does not answer (seen after its disk filled up: the heartbeat answers, every collection
 * request hangs) held every Engram call, `flush()` and `close()` included, for ever. With a
 * deadline the request fails as an outage (STORE_UNAVAILABLE: writes stay queued, nothing is
 * lost), and the connection can restart a local server that hangs (connection.ts `recover`).
 */
import { ChromaConnectionError, type ChromaClient } from "chromadb";
import { EngramError } from "../core/errors.js";
import { describeValue } from "../core/describe.js";

/** How long one request to Chroma may take, unless `chroma.timeoutMs` says otherwise. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/** The fetch layer of chromadb's client (@hey-api/client-fetch), whose fetch can be replaced. */
interface ApiClient {
  getConfig?(): { fetch?: unknown };
  setConfig?(config: { fetch: (request: Request) => Promise<Response> }): unknown;
}

type Fetch = (request: Request) => Promise<Response>;

/** `chroma.timeoutMs`, checked: a number of milliseconds > 0, or 0 for no deadline. */
export function resolveRequestTimeout(value: unknown): number {
  if (value === undefined) return DEFAULT_REQUEST_TIMEOUT_MS;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new EngramError("INVALID_OPTIONS", `chroma.timeoutMs must be a number of milliseconds >= 0 (0: no deadline), got ${describeValue(value)}.`);
  }
  return value;
}

/**
 * Gives every request `client` sends a deadline of `ms` (0: none), from its start to the end of
 * its answer's body, and returns the client. The request is aborted at the deadline, which the
 * client reports as a connection failure.
 * @throws EngramError `STORE_ERROR` when this chromadb version's client has no fetch to wrap (an
 *   upgrade changed it; Engram's tests catch that before a release).
 */
export function withRequestTimeout(client: ChromaClient, ms: number): ChromaClient {
  if (ms === 0) return client;
  // A private field of ChromaClient: chromadb exposes no per-request option. Pinned by its tests.
  // The client's own fetch (chromadb's, which turns error statuses into its errors) is wrapped
  // whole, so every request ends its timer however it ends: answered, refused or failed.
  const api = (client as unknown as { apiClient?: ApiClient }).apiClient;
  const inner = api?.getConfig?.().fetch;
  if (!api?.setConfig || typeof inner !== "function") {
    throw new EngramError("STORE_ERROR", "This chromadb client has no fetch for Engram's request deadline (chroma.timeoutMs) to wrap; set chroma.timeoutMs to 0.");
  }
  api.setConfig({ fetch: (request) => timed(inner as Fetch, request, ms) });
  return client;
}

/**
 * Sends `request` through `fetch` with a deadline of `ms` over the whole exchange. The timer keeps
 * the process alive while the request is in flight, as the socket of an answering server would: a
 * script awaiting a call on a server that hangs (whose socket does not) used to end, mid-call,
 * before its deadline (exit code 13 under a top-level await, 0 otherwise). It is cleared as soon
 * as the exchange ends, so none lives on after its answer (a busy process sends thousands).
 */
async function timed(fetch: Fetch, request: Request, ms: number): Promise<Response> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`Chroma did not answer within ${ms} ms.`, "TimeoutError")), ms);
  try {
    // The client sets no signal of its own (no fetchOptions are given), so the deadline is the only one.
    return await wholly(await fetch(new Request(request, { signal: controller.signal })));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `response` with its body read to the end, under the request's deadline. fetch resolves when the
 * headers arrive, and the client reads the body after it: a server that hangs in the middle of a
 * body held the call for ever once the timer was cleared. The client reads every body whole
 * anyway (JSON), so keeping it here costs no memory the call would not use.
 * @throws ChromaConnectionError when the body does not come whole: the deadline aborted it, or the
 *   server hung up; both are the server not answering, an outage.
 */
async function wholly(response: Response): Promise<Response> {
  if (response.body === null) return response;
  let body: ArrayBuffer;
  try {
    body = await response.arrayBuffer();
  } catch (cause) {
    throw new ChromaConnectionError(`Chroma's answer did not come whole: ${(cause as Error)?.message ?? String(cause)}`, cause);
  }
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
