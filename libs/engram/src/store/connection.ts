import { resolve } from "node:path";
import { ChromaClient } from "chromadb";
import { EngramError } from "../core/errors.js";
import { startChromaServer, type ChromaServer } from "./chroma_server.js";
import { ownFetchPool, type FetchPool } from "./fetch_pool.js";
import { describeValue } from "../core/describe.js";
import { resolveRequestTimeout, withRequestTimeout } from "./request_timeout.js";

/**
 * How to reach Chroma. Exactly one of three shapes:
 * - embedded (the default): Engram starts the Chroma server shipped on npm in a data folder;
 * - `url`: an existing server or Chroma Cloud;
 * - `client`: a `ChromaClient` you built yourself (tests, custom fetch options).
 */
export type ChromaConnectionOptions =
  | {
      /** Data folder of the local server. @default "<dataDir>/chroma" */
      path?: string;
      /** Port of the local server. @default a free port */
      port?: number;
      /**
       * Restarts within a minute of a local server that dies, before Engram gives up with
       * `CHROMA_EXITED`; 0 never restarts. @default 5
       */
      maxRestarts?: number;
      /**
       * How long to wait for the local server's first heartbeat before failing with
       * `CHROMA_START_TIMEOUT`. @default 60000
       */
      startTimeoutMs?: number;
      /**
       * How long one request may take before it fails as an outage (`STORE_UNAVAILABLE`; writes
       * stay queued). A local server whose requests time out while its process lives is hung: it
       * is stopped and started again (counted in `maxRestarts`). 0: no deadline. @default 60000
       */
      timeoutMs?: number;
      url?: never;
      client?: never;
    }
  | {
      /** e.g. `http://localhost:8000` or `https://api.trychroma.com` (SSL follows the scheme). */
      url: string;
      tenant?: string;
      database?: string;
      /** Extra HTTP headers, e.g. `{ "x-chroma-token": "..." }` for Chroma Cloud. */
      headers?: Record<string, string>;
      /** How long one request may take before it fails as an outage (`STORE_UNAVAILABLE`); 0: no deadline. @default 60000 */
      timeoutMs?: number;
      client?: never;
    }
  | { client: ChromaClient; url?: never };

/** How long a store waits before its one retry against a server given by URL. */
const URL_RETRY_DELAY_MS = 250;

/**
 * Resolves the connection once, lazily, and owns the local server when it started one. A local
 * server that dies is restarted (possibly on another port): `client()` then hands out a client for
 * the new address, and stores drop what they cached from the old one when the client changes.
 */
export class ChromaConnection {
  private ready?: Promise<void>;

  private server?: ChromaServer;

  /** The client of a `url` or `client` connection: never changes. */
  private fixed?: ChromaClient;

  /** The client of the local server, and the address it was made for. */
  private local?: { url: string; client: ChromaClient };

  /**
   * The local server's clients' connections, destroyed on close: through Node's process-wide pool
   * each server's port stayed in it for ever (fetch_pool.ts).
   */
  private pool?: FetchPool;

  /** Each request's deadline (ms; 0: none); a `client` you built keeps its own settings. */
  private readonly timeoutMs: number;

  constructor(
    private readonly options: ChromaConnectionOptions,
    private readonly defaultPath: string,
  ) {
    this.timeoutMs = "client" in options && options.client ? 0 : resolveRequestTimeout((options as { timeoutMs?: unknown }).timeoutMs);
  }

  async client(): Promise<ChromaClient> {
    this.ready ??= this.connect().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    await this.ready;
    if (this.fixed) return this.fixed;
    const server = this.server!;
    // A restart in progress is waited for rather than failed against.
    await server.settled();
    if (this.local?.url !== server.url) {
      this.pool ??= ownFetchPool();
      const fetchOptions = this.pool?.init;
      this.local = { url: server.url, client: withRequestTimeout(new ChromaClient({ host: server.host, port: server.port, ...(fetchOptions ? { fetchOptions } : {}) }), this.timeoutMs) };
    }
    return this.local.client;
  }

  /**
   * Called by a store after a request found the server unreachable, before its one retry. The
   * local server is restarted if it died (rejects with `CHROMA_EXITED` if it keeps dying), or if
   * it lives but hangs: the call failed after `elapsedMs`, past the request deadline, and the
   * server still does not answer a plain read. A server given by URL or client is never
   * restarted, only retried after a short pause.
   */
  async recover(elapsedMs = 0): Promise<void> {
    if (!this.ready) return;
    await this.ready.catch(() => undefined);
    if (this.server) return this.timeoutMs > 0 && elapsedMs >= this.timeoutMs ? this.server.recycle() : this.server.heal();
    await new Promise((done) => setTimeout(done, URL_RETRY_DELAY_MS));
  }

  /** Description for messages, e.g. "local Chroma at http://127.0.0.1:40123". */
  describe(): string {
    if ("client" in this.options && this.options.client) return "the given Chroma client";
    if ("url" in this.options && this.options.url) return `Chroma at ${this.options.url}`;
    return this.server ? `local Chroma at ${this.server.url}` : "local Chroma";
  }

  private async connect(): Promise<void> {
    const options = this.options;
    if ("client" in options && options.client) {
      this.fixed = options.client;
      return;
    }
    if ("url" in options && options.url) {
      let url: URL;
      try {
        url = new URL(options.url);
      } catch (cause) {
        throw new EngramError("INVALID_OPTIONS", `chroma.url is not a valid URL: ${describeValue(options.url)}.`, { cause });
      }
      const ssl = url.protocol === "https:";
      const client = new ChromaClient({
        host: url.hostname,
        port: url.port ? Number(url.port) : ssl ? 443 : 8000,
        ssl,
        tenant: options.tenant,
        database: options.database,
        headers: options.headers,
      });
      this.fixed = withRequestTimeout(client, this.timeoutMs);
      return;
    }
    const embedded = options as { path?: string; port?: number; maxRestarts?: number; startTimeoutMs?: number };
    this.server = await startChromaServer({
      path: resolve(embedded.path ?? this.defaultPath),
      port: embedded.port,
      maxRestarts: embedded.maxRestarts,
      startTimeoutMs: embedded.startTimeoutMs,
    });
  }

  /** Stops the local server if this connection started it (other handles keep it alive). */
  async close(): Promise<void> {
    const server = this.server;
    const pool = this.pool;
    this.server = undefined;
    this.ready = undefined;
    this.local = undefined;
    this.pool = undefined;
    this.fixed = undefined;
    try {
      await server?.stop();
    } finally {
      await pool?.destroy();
    }
  }
}
