/**
 * An `EngramCheckpointer` in its own process, for thread_owner_race.int.test.ts: it serves `put`
 * and `read` (getTuple) of one user over stdin/stdout one JSON line at a time (the protocol of
 * tests/peer_server.ts). Its saver stores checkpoints in memory and takes `slowMs` to do it, as a
 * saver over the network does: two processes' first runs on one thread then overlap.
 * Run as `node --import tsx owner_peer.ts '<json>'`, the JSON an {@link OwnerPeerOptions}.
 */
import { HumanMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { MemorySaver, type Checkpoint, type CheckpointMetadata } from "@langchain/langgraph-checkpoint";
import { Memory } from "../../memory/memory.js";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { EngramCheckpointer } from "./checkpointer.js";
import { serveMethods, type PeerMethod } from "../../tests/peer_server.js";

export interface OwnerPeerOptions {
  chromaUrl: string;
  dataDir: string;
  /** The checkpointer's SQLite bookkeeping file, shared by the peers (SQLite state). */
  databasePath: string;
  /** Shared PostgreSQL state instead (the filing log is then Memory's state). */
  postgres?: string;
  slowMs: number;
}

const options = JSON.parse(process.argv[2] ?? "{}") as OwnerPeerOptions;

/** A MemorySaver that takes `slowMs` to store a checkpoint. */
class SlowSaver extends MemorySaver {
  override async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata): Promise<RunnableConfig> {
    await new Promise((resolve) => setTimeout(resolve, options.slowMs));
    return super.put(config, checkpoint, metadata);
  }
}

const memory = new Memory({
  dataDir: options.dataDir,
  chroma: { url: options.chromaUrl },
  embeddings: new HashEmbeddings(),
  ...(options.postgres ? { state: { postgres: options.postgres } } : {}),
});
const engram = new EngramCheckpointer({ memory, saver: new SlowSaver(), databasePath: options.databasePath });

let n = 0;
function config(userId: string, threadId: string): RunnableConfig {
  return { configurable: { thread_id: threadId, user_id: userId, checkpoint_ns: "" } };
}

/** The user's first run on the thread stores one checkpoint with one message. */
async function put(userId: string, threadId: string, text: string): Promise<string> {
  n += 1;
  const id = `${process.pid.toString(16).padStart(8, "0")}-0000-6000-8000-${n.toString(16).padStart(12, "0")}`;
  const checkpoint: Checkpoint = {
    v: 4,
    id,
    ts: new Date().toISOString(),
    channel_values: { messages: [new HumanMessage({ id: `${userId}-${n}`, content: text })] },
    channel_versions: { messages: 1 },
    versions_seen: {},
  };
  await engram.put(config(userId, threadId), checkpoint, { source: "input", step: -1, parents: {} }, { messages: 1 });
  return "stored";
}

const methods: Record<string, PeerMethod> = {
  put: put as PeerMethod,
  flush: () => engram.flush(),
  close: async () => {
    await engram.close();
    await memory.close();
  },
};

serveMethods(methods);
