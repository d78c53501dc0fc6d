/**
 * An `EngramCheckpointer` on a data folder's default SqliteSaver in its own process, for
 * numeric_thread_upgrade.int.test.ts: `read(userId, threadId)` answers the texts of the thread's
 * latest checkpoint (getTuple, as a run reads its thread first), over the JSON-lines protocol of
 * tests/peer_server.ts. Run as `node --import tsx numeric_peer.ts '<json>'` ({ chromaUrl, dataDir }).
 */
import { Memory } from "../../memory/memory.js";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { serveMethods, type PeerMethod } from "../../tests/peer_server.js";
import { EngramCheckpointer } from "./checkpointer.js";

const options = JSON.parse(process.argv[2] ?? "{}") as { chromaUrl: string; dataDir: string };
const memory = new Memory({ dataDir: options.dataDir, chroma: { url: options.chromaUrl }, embeddings: new HashEmbeddings() });
const engram = new EngramCheckpointer({ memory });

async function read(userId: string, threadId: number): Promise<string[]> {
  const tuple = await engram.getTuple({ configurable: { thread_id: threadId, user_id: userId } });
  const messages = (tuple?.checkpoint.channel_values.messages ?? []) as Array<{ text: string }>;
  return messages.map((message) => message.text);
}

const methods: Record<string, PeerMethod> = {
  ready: async () => "ready",
  read: read as PeerMethod,
  close: async () => {
    await engram.close();
    await memory.close();
  },
};

serveMethods(methods);
