/**
 * An HTTP proxy in front of a test's Chroma server that can stop in the middle of an answer: for
 * the requests a test names, it forwards the server's status and headers (Content-Length
 * included) and the first half of the body, then sends nothing more until the test releases the
 * stall. The client sees a server that began to answer and hangs, as a server whose process is
 * stopped between two writes of a long reply. Everything else passes through as is.
 * (tests/chroma_proxy.ts holds requests and tests/reply_hold_proxy.ts whole replies: both hang
 * before the headers.)
 */
import { createServer, request as forward, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A request as a stall's `match` sees it. */
export interface StalledRequest {
  method: string;
  path: string;
  body: string;
}

/** The answers stopped by one {@link BodyStallProxy.stall} call. */
export interface Stall {
  /** The first matching request, once its headers and half its body were sent to the client. */
  readonly stalled: Promise<StalledRequest>;
  /** How many answers were stopped so far. */
  readonly count: number;
  /** Sends the rest of every stopped answer whose client still waits, and ends the stall. */
  release(): void;
}

export interface BodyStallProxy {
  readonly url: string;
  /** Stops the answers to the requests `match` accepts from now on (every one, until released). */
  stall(match: (request: StalledRequest) => boolean): Stall;
  close(): Promise<void>;
}

interface ActiveStall {
  match: (request: StalledRequest) => boolean;
  /** The rest of each stopped answer, sent on release. */
  rests: Array<() => void>;
  count: number;
  stalled: (request: StalledRequest) => void;
}

export async function startBodyStallProxy(target: string): Promise<BodyStallProxy> {
  const upstream = new URL(target);
  const stalls = new Set<ActiveStall>();
  const server = createServer((incoming, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const request: StalledRequest = { method: incoming.method ?? "GET", path: incoming.url ?? "/", body: Buffer.concat(chunks).toString("utf8") };
      const stall = [...stalls].find((candidate) => candidate.match(request));
      const headers = { ...incoming.headers, host: upstream.host, "content-length": String(Buffer.byteLength(request.body)) };
      const out = forward({ hostname: upstream.hostname, port: upstream.port, method: request.method, path: request.path, headers }, (reply) => {
        const replyChunks: Buffer[] = [];
        reply.on("data", (chunk: Buffer) => replyChunks.push(chunk));
        reply.on("end", () => {
          const body = Buffer.concat(replyChunks);
          // The server's own headers, with the length of the whole body: the client waits for the rest.
          const replyHeaders = { ...reply.headers, "content-length": String(body.length) };
          delete replyHeaders["transfer-encoding"];
          response.writeHead(reply.statusCode ?? 502, replyHeaders);
          if (!stall || body.length < 2) {
            response.end(body);
            return;
          }
          const half = Math.floor(body.length / 2);
          response.write(body.subarray(0, half));
          stall.rests.push(() => {
            if (!response.destroyed) response.end(body.subarray(half));
          });
          stall.count += 1;
          stall.stalled(request);
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
    stall(match) {
      let stalled!: (request: StalledRequest) => void;
      const first = new Promise<StalledRequest>((resolve) => (stalled = resolve));
      const active: ActiveStall = { match, rests: [], count: 0, stalled };
      stalls.add(active);
      return {
        stalled: first,
        get count() {
          return active.count;
        },
        release() {
          stalls.delete(active);
          for (const rest of active.rests.splice(0)) rest();
        },
      };
    },
    async close() {
      stalls.clear();
      server.closeAllConnections();
      await new Promise<void>((closed) => server.close(() => closed()));
    },
  };
}
