/**
 * An HTTP proxy in front of a test's Chroma server that answers some requests itself with an
 * error status (a load balancer's 502/503 while the server behind it restarts, a rate limit's 429),
 * as many times as the test asks, and passes everything else on.
 */
import { createServer, request as forward } from "node:http";
import type { AddressInfo } from "node:net";

export interface StatusProxy {
  /** The URL to give the Memory under test (`chroma: { url }`). */
  readonly url: string;
  /** The next `times` requests whose path `match` accepts are answered with `status` (and `statusText`). */
  answer(match: (path: string) => boolean, status: number, statusText: string, times: number): void;
  /** How many requests were answered so, in all. */
  readonly answered: number;
  close(): Promise<void>;
}

export async function startStatusProxy(target: string): Promise<StatusProxy> {
  const upstream = new URL(target);
  let rule: { match: (path: string) => boolean; status: number; statusText: string; left: number } | undefined;
  let answered = 0;
  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const path = incoming.url ?? "/";
      if (rule && rule.left > 0 && rule.match(path)) {
        rule.left -= 1;
        answered += 1;
        response.writeHead(rule.status, rule.statusText, { "content-type": "text/plain" });
        response.end(rule.statusText);
        return;
      }
      const out = forward({ hostname: upstream.hostname, port: upstream.port, method: incoming.method, path, headers: { ...incoming.headers, host: upstream.host } }, (reply) => {
        response.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(response);
      });
      out.on("error", (error) => {
        if (!response.headersSent) response.writeHead(502, { "content-type": "text/plain" });
        response.end(String(error));
      });
      out.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    answer(match, status, statusText, times) {
      rule = { match, status, statusText, left: times };
    },
    get answered() {
      return answered;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((closed) => server.close(() => closed()));
    },
  };
}
