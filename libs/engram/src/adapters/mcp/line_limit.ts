import { Transform, type TransformCallback } from "node:stream";
import type { RequestId } from "@modelcontextprotocol/sdk/types.js";

/** Bytes of a dropped line kept at each end to find its request id. */
const EDGE = 512;
const ID = String.raw`(-?\d+|"(?:[^"\\]|\\.)*")`;
/** The id as the first key after "jsonrpc" / "method" (how most clients write it). */
const HEAD_ID = new RegExp(String.raw`^\s*\{\s*(?:"(?:jsonrpc|method)"\s*:\s*"[^"]*"\s*,\s*)*"id"\s*:\s*${ID}`);
/** The id as the last key of the message (how the MCP SDK's clients write it). */
const TAIL_ID = new RegExp(String.raw`,\s*"id"\s*:\s*${ID}\s*\}\s*$`);

function lastBytes(buffer: Buffer): Buffer {
  return Buffer.from(buffer.subarray(Math.max(0, buffer.length - EDGE)));
}

/** The request id of a message known only by its first and last bytes, when either shows it. */
export function requestIdOf(head: string, tail: string): RequestId | undefined {
  const found = HEAD_ID.exec(head)?.[1] ?? TAIL_ID.exec(tail)?.[1];
  if (found === undefined) return undefined;
  try {
    return JSON.parse(found) as RequestId;
  } catch {
    return undefined;
  }
}

/**
 * stdio's messages, one line each, with any line longer than `maxBytes` dropped and reported
 * (`onDropped`) instead of passed on. The MCP SDK's stdio transport closes itself when its buffer
 * passes 10 MiB: one oversized call (a client pasting a huge document into `add_memory`) ended the
 * server and every other call in flight. No tool takes anything near `maxBytes`, so the caller can
 * refuse the call and go on. Each line is passed on as a chunk of its own, so the transport's buffer
 * never holds more than one line.
 */
export class LineLimit extends Transform {
  private parts: Buffer[] = [];

  private lineBytes = 0;

  /** The line is over the limit: its bytes are counted and dropped, only its edges kept. */
  private dropping = false;

  private head: Buffer = Buffer.alloc(0);

  private tail: Buffer = Buffer.alloc(0);

  constructor(
    private readonly maxBytes: number,
    private readonly onDropped: (bytes: number, id: RequestId | undefined) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(10, start);
      this.keep(chunk.subarray(start, newline === -1 ? chunk.length : newline));
      if (newline === -1) break;
      this.endLine(true);
      start = newline + 1;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.lineBytes > 0 || this.dropping) this.endLine(false);
    done();
  }

  private keep(piece: Buffer): void {
    if (piece.length === 0) return;
    this.lineBytes += piece.length;
    if (this.dropping) {
      this.tail = lastBytes(Buffer.concat([this.tail, piece]));
    } else if (this.lineBytes > this.maxBytes) {
      // Copies: the edges must not hold the whole line in memory.
      const line = Buffer.concat([...this.parts, piece]);
      this.dropping = true;
      this.head = Buffer.from(line.subarray(0, EDGE));
      this.tail = lastBytes(line);
      this.parts = [];
    } else {
      this.parts.push(piece);
    }
  }

  private endLine(newline: boolean): void {
    if (this.dropping) this.onDropped(this.lineBytes, requestIdOf(this.head.toString("utf8"), this.tail.toString("utf8")));
    else this.push(Buffer.concat(newline ? [...this.parts, Buffer.from("\n")] : this.parts));
    this.parts = [];
    this.lineBytes = 0;
    this.dropping = false;
    this.head = Buffer.alloc(0);
    this.tail = Buffer.alloc(0);
  }
}
