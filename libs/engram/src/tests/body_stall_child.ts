/**
 * The body-stall case of store/chroma_hang.int.test.ts, run as its own process (`node --import tsx
 * body_stall_child.ts <chromaUrl> <dataDir>`), as a user's script would run it: a Memory on a
 * Chroma server given by URL, behind a proxy that forwards each answer's headers and half its body,
 * then stops (tests/body_stall_proxy.ts). Prints one JSON line with what each step gave, and the
 * step it was at every second on standard error, so a hang says where it is.
 */
import { StaticEmbeddings } from "../embeddings/static.js";
import { Memory } from "../index.js";
import { startBodyStallProxy } from "./body_stall_proxy.js";
import { codeOf } from "./runs.js";

const [chromaUrl, dataDir] = process.argv.slice(2);
if (!chromaUrl || !dataDir) throw new Error("usage: body_stall_child.ts <chromaUrl> <dataDir>");
const userId = "alice";
let step = "start";
const started = Date.now();
const ticker = setInterval(() => process.stderr.write(`body stall child: ${step} at ${Date.now() - started} ms\n`), 1_000);
ticker.unref();
const proxy = await startBodyStallProxy(chromaUrl);
const memory = new Memory({ dataDir, embeddings: new StaticEmbeddings(), writes: "sync", chroma: { url: proxy.url, timeoutMs: 1_500 } });
try {
  step = "first add";
  await memory.add("I live in Lisbon.", { userId });
  const reads = proxy.stall((request) => request.method === "POST" && request.path.endsWith("/get"));
  step = "getAll while reads stall";
  const readCode = await codeOf(memory.getAll({ userId }));
  const stalledReads = reads.count;
  const writes = proxy.stall((request) => request.method === "POST" && request.path.endsWith("/upsert"));
  step = "add while writes stall";
  const pending = (await memory.add("I have a cat named Miso.", { userId })).pending;
  const stalledWrites = writes.count;
  reads.release();
  writes.release();
  step = "flush";
  const flushed = await memory.flush();
  step = "read back";
  const contents = (await memory.getAll({ userId })).map((record) => record.content).sort();
  process.stdout.write(`${JSON.stringify({ readCode, stalledReads, pending, stalledWrites, flushed, contents })}\n`);
} finally {
  step = "close";
  await memory.close();
  await proxy.close();
}
