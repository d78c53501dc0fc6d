import { resolve } from "node:path";
import { ChromaClient } from "chromadb";
import { EngramError } from "../core/errors.js";
import { startChromaServer, type ChromaServer } from "./chroma_server.js";

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
      client?: never;
    }
  | { client: ChromaClient; url?: never };

/** Resolves the connection once, lazily, and owns the local server when it started one. */
export class ChromaConnection {
  private ready?: Promise<ChromaClient>;

  private server?: ChromaServer;

  constructor(
    private readonly options: ChromaConnectionOptions,
    private readonly defaultPath: string,
  ) {}

  client(): Promise<ChromaClient> {
    this.ready ??= this.connect().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  /** Description for messages, e.g. "local Chroma at http://127.0.0.1:40123". */
  describe(): string {
    if ("client" in this.options && this.options.client) return "the given Chroma client";
    if ("url" in this.options && this.options.url) return `Chroma at ${this.options.url}`;
    return this.server ? `local Chroma at ${this.server.url}` : "local Chroma";
  }

  private async connect(): Promise<ChromaClient> {
    const options = this.options;
    if ("client" in options && options.client) return options.client;
    if ("url" in options && options.url) {
      let url: URL;
      try {
        url = new URL(options.url);
      } catch (cause) {
        throw new EngramError("INVALID_OPTIONS", `chroma.url is not a valid URL: ${JSON.stringify(options.url)}.`, { cause });
      }
      const ssl = url.protocol === "https:";
      return new ChromaClient({
        host: url.hostname,
        port: url.port ? Number(url.port) : ssl ? 443 : 8000,
        ssl,
        tenant: options.tenant,
        database: options.database,
        headers: options.headers,
      });
    }
    const embedded = options as { path?: string; port?: number };
    this.server = await startChromaServer({ path: resolve(embedded.path ?? this.defaultPath), port: embedded.port });
    return new ChromaClient({ host: this.server.host, port: this.server.port });
  }

  /** Stops the local server if this connection started it (other handles keep it alive). */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.ready = undefined;
    await server?.stop();
  }
}
