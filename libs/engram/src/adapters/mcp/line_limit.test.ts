import { describe, expect, it } from "@jest/globals";
import { Readable } from "node:stream";
import type { RequestId } from "@modelcontextprotocol/sdk/types.js";
import { LineLimit, requestIdOf } from "./line_limit.js";

/** Feeds `chunks` through a LineLimit of `max` bytes; returns the chunks passed on and the lines dropped. */
async function run(chunks: Array<string | Buffer>, max: number) {
  const dropped: Array<{ bytes: number; id: RequestId | undefined }> = [];
  const limit = new LineLimit(max, (bytes, id) => dropped.push({ bytes, id }));
  const passed: string[] = [];
  limit.on("data", (chunk: Buffer) => passed.push(chunk.toString("utf8")));
  await new Promise<void>((resolve, reject) => {
    Readable.from(chunks.map((chunk) => (typeof chunk === "string" ? Buffer.from(chunk) : chunk))).pipe(limit).on("end", resolve).on("error", reject);
  });
  return { passed, dropped };
}

describe("LineLimit: one stdio message per line, oversized ones dropped", () => {
  it("passes each line on as a chunk of its own, whatever the chunks they came in", async () => {
    const { passed, dropped } = await run(['{"a":1}\n{"b"', ':2}\n{"c":3}\n{"d":', "4}"], 100);
    expect(passed).toEqual(['{"a":1}\n', '{"b":2}\n', '{"c":3}\n', '{"d":4}']);
    expect(dropped).toEqual([]);
  });

  it("keeps a multi-byte character cut between chunks whole", async () => {
    const bee = Buffer.from('{"t":"🐝"}\n');
    const { passed } = await run([bee.subarray(0, 8), bee.subarray(8)], 100);
    expect(passed).toEqual(['{"t":"🐝"}\n']);
  });

  it("drops a line over the limit, with its size and request id, and goes on with the next", async () => {
    const big = JSON.stringify({ method: "tools/call", params: { name: "add_memory", arguments: { content: "x".repeat(5_000) } }, jsonrpc: "2.0", id: 7 });
    const { passed, dropped } = await run(['{"a":1}\n', big.slice(0, 1_000), big.slice(1_000, 4_000), `${big.slice(4_000)}\n{"b":2}\n`], 2_000);
    expect(passed).toEqual(['{"a":1}\n', '{"b":2}\n']);
    expect(dropped).toEqual([{ bytes: Buffer.byteLength(big), id: 7 }]);
  });

  it("finds the id first or last, as a number or a string, and no id in the arguments", () => {
    expect(requestIdOf('{"jsonrpc":"2.0","id":"a\\"b","method":"tools/call"', "")).toBe('a"b');
    expect(requestIdOf('{"method":"tools/call","params":', ',"jsonrpc":"2.0","id":12}')).toBe(12);
    expect(requestIdOf('{"method":"tools/call","params":{"arguments":{"id":"m1"', '"x"}},"jsonrpc":"2.0"}')).toBeUndefined();
    expect(requestIdOf('{"method":"tools/call","params":', '"arguments":{"id":"m1"}}}')).toBeUndefined();
  });
});
