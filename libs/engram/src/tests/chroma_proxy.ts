/**
 * An HTTP proxy between the processes of a test and its Chroma server that can hold requests: a
 * test arms a hold for the requests it names (an upsert of one record, say), learns when one
 * arrived, and then releases it (it goes on to the server) or lets it die with its sender (a
 * `kill -9`ed client's held request is never forwarded). Everything else passes through as is.
 * It puts a process in a chosen window of a store write (after one call, before the next) without
 * timing anything: the window lasts until the test ends it.
 */
import { createServer, request as forward, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A request as a hold's `match` sees it. */
export interface ProxiedRequest {
  method: string;
  /** Path and query, as sent (`/api/v2/tenants/.../upsert`). */
  path: string;
  /** The body as text (JSON for Chroma's API). */
  body: string;
}

/** Requests held by one {@link ChromaProxy.hold} call. */
export interface Hold {
  /** The first matching request, once it arrived (it is held: the server has not seen it). */
  readonly arrived: Promise<ProxiedRequest>;
  /** How many matching requests arrived so far. */
  readonly count: number;
  /** Sends every held request on to the server and ends the hold (later requests pass). */
  release(): void;
  /** Ends the hold without sending what it held: those requests never reach the server. */
  drop(): void;
}

export interface ChromaProxy {
  /** The URL to give the processes under test (`chroma: { url }`). */
  readonly url: string;
  /** Every request received so far, in order (held ones included). */
  readonly requests: readonly ProxiedRequest[];
  /** Holds the requests `match` accepts from now on, until released. */
  hold(match: (request: ProxiedRequest) => boolean): Hold;
  /** Stops listening; held requests are dropped, never forwarded. */
  close(): Promise<void>;
}

interface Held {
  request: ProxiedRequest;
  send: () => void;
  /** The sender hung up (killed): forwarding it now would replay a write its process never made. */
  gone: boolean;
}

interface ActiveHold {
  match: (request: ProxiedRequest) => boolean;
  held: Held[];
  count: number;
  arrive: (request: ProxiedRequest) => void;
}

/** Starts a proxy on a free port of 127.0.0.1 in front of `target` (a Chroma server's URL). */
export async function startChromaProxy(target: string): Promise<ChromaProxy> {
  const upstream = new URL(target);
  const holds = new Set<ActiveHold>();
  const requests: ProxiedRequest[] = [];

  const pass = (incoming: IncomingMessage, response: ServerResponse, request: ProxiedRequest): void => {
    const headers = { ...incoming.headers, host: upstream.host, "content-length": String(Buffer.byteLength(request.body)) };
    const out = forward(
      { hostname: upstream.hostname, port: upstream.port, method: request.method, path: request.path, headers },
      (reply) => {
        response.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(response);
      },
    );
    out.on("error", (error) => {
      if (!response.headersSent) response.writeHead(502, { "content-type": "text/plain" });
      response.end(String(error));
    });
    out.end(request.body);
  };

  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const request: ProxiedRequest = { method: incoming.method ?? "GET", path: incoming.url ?? "/", body: Buffer.concat(chunks).toString("utf8") };
      requests.push(request);
      const hold = [...holds].find((h) => h.match(request));
      if (!hold) {
        pass(incoming, response, request);
        return;
      }
      const held: Held = { request, send: () => pass(incoming, response, request), gone: false };
      // The response closing before it was written: the client hung up (or was killed).
      response.on("close", () => {
        if (!response.writableFinished) held.gone = true;
      });
      hold.held.push(held);
      hold.count += 1;
      hold.arrive(request);
    });
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    hold(match) {
      let arrive!: (request: ProxiedRequest) => void;
      const arrived = new Promise<ProxiedRequest>((resolve) => (arrive = resolve));
      const active: ActiveHold = { match, held: [], count: 0, arrive };
      holds.add(active);
      return {
        arrived,
        get count() {
          return active.count;
        },
        release() {
          holds.delete(active);
          for (const held of active.held.splice(0)) if (!held.gone) held.send();
        },
        drop() {
          holds.delete(active);
          active.held.length = 0;
        },
      };
    },
    async close() {
      holds.clear();
      server.closeAllConnections();
      await new Promise<void>((closed) => server.close(() => closed()));
    },
  };
}
