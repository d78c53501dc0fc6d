/**
 * A `Memory` with core blocks in its own process, for tests of block edits across processes on one
 * data folder: serves `append(userId, name, text)`, `replace(userId, name, old, new)` and `get(userId,
 * name)` with tests/peer_server.ts's protocol, requests run as they arrive. Started by
 * `startScriptPeer` as `node --import tsx blocks_peer.ts '{ "dataDir", "chromaUrl", "prefix" }'`.
 */
import { StaticEmbeddings } from "../embeddings/static.js";
import { CoreBlocks } from "../memory/blocks.js";
import { Memory } from "../memory/memory.js";
import { serveMethods } from "./peer_server.js";

const options = JSON.parse(process.argv[2] ?? "{}") as { dataDir: string; chromaUrl: string; prefix: string };
const memory = new Memory({ dataDir: options.dataDir, chroma: { url: options.chromaUrl }, prefix: options.prefix, embeddings: new StaticEmbeddings() });
const blocks = new CoreBlocks(memory);

serveMethods({
  append: async (userId: string, name: string, text: string) => (await blocks.append({ userId }, name, text)).value,
  replace: async (userId: string, name: string, oldText: string, newText: string) => (await blocks.replace({ userId }, name, oldText, newText)).value,
  get: async (userId: string, name: string) => (await blocks.get({ userId }, name)).value,
  close: () => memory.close(),
});
