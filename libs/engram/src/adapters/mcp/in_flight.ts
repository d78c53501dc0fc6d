import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { isJSONRPCErrorResponse, isJSONRPCNotification, isJSONRPCRequest, isJSONRPCResultResponse, type JSONRPCMessage, type RequestId } from "@modelcontextprotocol/sdk/types.js";

/**
 * The requests a server transport received and has not answered yet. A client that writes its
 * calls and then closes its end of the pipe (`printf ... | engram mcp`, or a client that sends one
 * last `add_memory` as it shuts down) is owed those answers: closing the server at end of input
 * would abort the calls in flight, so a memory the client was told nothing about could be lost.
 * `idle()` says when every request was answered (or cancelled by the client), so the server can close.
 *
 * Install it before `server.connect(transport)`: the SDK keeps a handler set before it and calls
 * it first for every message, so each request is counted before its handler runs.
 */
export class InFlightRequests {
  /** Open requests by id (a count: nothing stops a client from reusing an id). */
  private readonly open = new Map<RequestId, number>();

  private waiters: Array<() => void> = [];

  constructor(transport: Transport) {
    const received = transport.onmessage;
    transport.onmessage = (message, extra) => {
      received?.(message, extra);
      if (isJSONRPCRequest(message)) this.open.set(message.id, (this.open.get(message.id) ?? 0) + 1);
      // A cancelled request gets no answer (the SDK drops it): it is no longer owed.
      else if (isJSONRPCNotification(message) && message.method === "notifications/cancelled") this.answered(cancelledId(message));
    };
    const send = transport.send.bind(transport);
    transport.send = (message, options) => {
      const sent = send(message, options);
      // Owed no more once handed to the output (the write starts within send): a client gone away
      // leaves a pipe that never drains, and waiting for it held the process open for ever.
      if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) this.answered(message.id);
      return sent;
    };
  }

  /** Resolves once no request waits for an answer (at once when none does). */
  idle(): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private answered(id: RequestId | undefined): void {
    if (id === undefined) return;
    const count = this.open.get(id);
    if (count === undefined) return;
    if (count > 1) this.open.set(id, count - 1);
    else this.open.delete(id);
    if (this.open.size > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

function cancelledId(message: JSONRPCMessage): RequestId | undefined {
  const params = "params" in message ? (message.params as { requestId?: unknown } | undefined) : undefined;
  const id = params?.requestId;
  return typeof id === "string" || typeof id === "number" ? id : undefined;
}
