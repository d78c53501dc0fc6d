import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { EngramError } from "../core/errors.js";
import { createInspectorApp } from "./app.js";
import { uiOptionsSchema, type UiOptions } from "./schemas.js";
import { allowedHosts, newCookieName, newToken } from "./security.js";
import { InspectorSource } from "./source.js";
import { stateFromUrl } from "../state/open.js";

/** Options of {@link startInspector}: the CLI's flags, plus what a test injects. */
export interface StartInspectorOptions extends UiOptions {
  /** The app's embeddings (search and edits embed with them). @default Memory's default */
  embeddings?: EmbeddingsInterface;
  /** @default a fresh random token */
  token?: string;
  /** Where an unexpected request failure is told. @default nowhere */
  log?: (message: string) => void;
}

/** A running inspector. */
export interface Inspector {
  /** The address to open, with the token (`http://127.0.0.1:PORT/?token=...`). */
  url: string;
  /** The address without the token. */
  origin: string;
  token: string;
  /** The cookie the token is kept in after the first visit. */
  cookieName: string;
  host: string;
  port: number;
  /** Stops listening and closes the store, the database and the local server it started. */
  close(): Promise<void>;
}

/**
 * Starts the inspector. Binds 127.0.0.1 unless `host` says otherwise; nothing is served without
 * the token. The caller owns the process: this adds no signal listeners (the CLI stops it on Ctrl+C).
 */
export async function startInspector(options: StartInspectorOptions): Promise<Inspector> {
  const parsed = uiOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new EngramError("INVALID_OPTIONS", `engram ui: ${parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`);
  }
  const flags = parsed.data;
  const token = options.token ?? newToken();
  const source = new InspectorSource({
    dataDir: flags.dataDir,
    prefix: flags.prefix,
    ...(flags.chromaUrl ? { chromaUrl: flags.chromaUrl } : {}),
    ...(flags.state ? { state: stateFromUrl(flags.state) } : {}),
    ...(options.embeddings ? { embeddings: options.embeddings } : {}),
  });
  let server: ServerType | undefined;
  try {
    // Reach the store before printing a URL: a wrong --chroma-url fails here, not on first page.
    await source.users();
    // Filled in once the port is known; undefined (any host) only for an explicit wildcard bind.
    const hosts = allowedHosts(flags.host, 0) === undefined ? undefined : new Set<string>();
    const cookieName = newCookieName();
    const app = createInspectorApp({
      source,
      token,
      cookieName,
      allowEdit: flags.allowEdit,
      ...(options.log ? { log: options.log } : {}),
      ...(hosts ? { hosts } : {}),
    });
    const info = await new Promise<AddressInfo>((resolve, reject) => {
      server = serve({ fetch: app.fetch, port: flags.port, hostname: flags.host }, resolve);
      server.once("error", reject);
    });
    for (const name of allowedHosts(flags.host, info.port) ?? []) hosts?.add(name);
    const shown = info.family === "IPv6" ? `[${info.address}]` : info.address;
    const origin = `http://${shown}:${info.port}`;
    return {
      url: `${origin}/?token=${token}`,
      origin,
      token,
      cookieName,
      host: info.address,
      port: info.port,
      close: async () => {
        await new Promise<void>((resolve) => {
          server!.close(() => resolve());
          // Keep-alive connections of an open browser tab would hold close() open.
          (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        });
        await source.close();
      },
    };
  } catch (error) {
    await source.close().catch(() => undefined);
    throw error;
  }
}
