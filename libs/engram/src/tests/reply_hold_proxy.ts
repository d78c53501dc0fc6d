/**
 * An HTTP proxy in front of a test's Chroma server that holds a reply instead of a request: the
 * request reaches the server at once, and the server's answer is kept from the client until the
 * test releases it. It puts a reader in the window after its read and before it acts on it (a
 * planner working from a snapshot), without timing anything. (tests/chroma_proxy.ts holds
 * requests, so a held read would read the state at its release.)
 */
import { afterAll, beforeAll } from "@jest/globals";
import { createServer, request as forward, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

/** A request as a hold's `match` sees it. */
export interface SeenRequest {
  method: string;
  path: string;
  body: string;
}

/** The replies held by one {@link ReplyHoldProxy.hold} call (the first matching request only). */
export interface ReplyHold {
  /** The first matching request, once the server answered it (the answer is held). */
  readonly answered: Promise<SeenRequest>;
  /** Sends the held answer to its client; later matching requests pass. */
  release(): void;
}

/** The record ids a Chroma request names in its body (a get, upsert or delete by id). */
export function requestIds(request: SeenRequest): string[] {
  return (JSON.parse(request.body || "{}") as { ids?: string[] }).ids ?? [];
}

/**
 * Matches a store read of exactly the record `id` by id: an update's read of the memory it
 * changes, or a forgetting pass's last check of the one record its plan removes.
 */
export const readOfOne =
  (id: string) =>
  (request: SeenRequest): boolean =>
    request.path.endsWith("/get") && requestIds(request).length === 1 && requestIds(request)[0] === id;

/**
 * A proxy in front of the suite's server for the whole suite (started in `beforeAll`, closed in
 * `afterAll`); `target` is read once the suite's server runs.
 */
export function replyHoldProxySuite(target: () => string): { readonly proxy: ReplyHoldProxy } {
  let proxy: ReplyHoldProxy | undefined;
  beforeAll(async () => {
    proxy = await startReplyHoldProxy(target());
  });
  afterAll(async () => {
    await proxy?.close();
  });
  return {
    get proxy() {
      if (proxy === undefined) throw new Error("replyHoldProxySuite(): the proxy starts in beforeAll; use it from a test.");
      return proxy;
    },
  };
}

export interface ReplyHoldProxy {
  readonly url: string;
  /** Holds the answer to the next request `match` accepts. */
  hold(match: (request: SeenRequest) => boolean): ReplyHold;
  close(): Promise<void>;
}

interface Armed {
  match: (request: SeenRequest) => boolean;
  answer: (request: SeenRequest, send: () => void) => void;
}

export async function startReplyHoldProxy(target: string): Promise<ReplyHoldProxy> {
  const upstream = new URL(target);
  const armed = new Set<Armed>();
  const server = createServer((incoming: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const request: SeenRequest = { method: incoming.method ?? "GET", path: incoming.url ?? "/", body: Buffer.concat(chunks).toString("utf8") };
      const hold = [...armed].find((candidate) => candidate.match(request));
      if (hold) armed.delete(hold);
      const headers = { ...incoming.headers, host: upstream.host, "content-length": String(Buffer.byteLength(request.body)) };
      const out = forward({ hostname: upstream.hostname, port: upstream.port, method: request.method, path: request.path, headers }, (reply) => {
        const replyChunks: Buffer[] = [];
        reply.on("data", (chunk: Buffer) => replyChunks.push(chunk));
        reply.on("end", () => {
          const send = (): void => {
            response.writeHead(reply.statusCode ?? 502, reply.headers);
            response.end(Buffer.concat(replyChunks));
          };
          if (hold) hold.answer(request, send);
          else send();
        });
      });
      out.on("error", (error) => {
        if (!response.headersSent) response.writeHead(502, { "content-type": "text/plain" });
        response.end(String(error));
      });
      out.end(request.body);
    });
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hold(match) {
      let answered!: (request: SeenRequest) => void;
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const promise = new Promise<SeenRequest>((resolve) => (answered = resolve));
      armed.add({
        match,
        answer: (request, send) => {
          answered(request);
          void released.then(send);
        },
      });
      return { answered: promise, release };
    },
    async close() {
      armed.clear();
      server.closeAllConnections();
      await new Promise<void>((closed) => server.close(() => closed()));
    },
  };
}
