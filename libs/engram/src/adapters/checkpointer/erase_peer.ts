/**
 * An `EngramCheckpointer` and its `Memory` in a process of their own, for erase_race.int.test.ts:
 * serves puts, reads, `deleteThread` and `deleteAll` over stdin/stdout (tests/peer_server.ts).
 * Its saver is a `SqliteSaver` on a file every peer shares, so a checkpoint one process stores is
 * one another process reads and deletes. Two gates hold a step open while the other process acts:
 * `holdPut` stops the next saver put before it stores (the put has passed its owner check), and
 * `holdEmbed` stops the next embedding (a background filing has read its messages from the log).
 * Run as `node --import tsx erase_peer.ts '<json>'`, the JSON an {@link ErasePeerOptions}.
 */
import { HumanMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { Checkpoint, CheckpointMetadata } from "@langchain/langgraph-checkpoint";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { Memory } from "../../memory/memory.js";
import { openDatabase } from "../../state/sqlite/database.js";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { serveMethods, type PeerMethod } from "../../tests/peer_server.js";
import { EngramCheckpointer } from "./checkpointer.js";

export interface ErasePeerOptions {
  chromaUrl: string;
  dataDir: string;
  /** The SQLite file of the shared saver. */
  saverFile: string;
  /** Shared PostgreSQL state instead of the data folder's SQLite state. */
  postgres?: string;
  /** Memory's write mode: with "sync" a filing embeds on its path, before its writes are queued. */
  writes?: "sync" | "background";
}

const options = JSON.parse(process.argv[2] ?? "{}") as ErasePeerOptions;

/** A step that stops when armed, reports that it stopped, and goes on when opened. */
class Gate {
  private armed = false;

  private entered?: () => void;

  private reached?: Promise<void>;

  private open?: () => void;

  arm(): void {
    this.armed = true;
    this.reached = new Promise((resolve) => (this.entered = resolve));
  }

  async pass(): Promise<void> {
    if (!this.armed) return;
    this.armed = false;
    const opened = new Promise<void>((resolve) => (this.open = resolve));
    this.entered?.();
    await opened;
  }

  /** Resolves once the armed step is stopped at the gate. */
  waitReached(): Promise<void> {
    return this.reached ?? Promise.resolve();
  }

  release(): void {
    this.open?.();
    this.open = undefined;
  }
}

const putGate = new Gate();
const embedGate = new Gate();

class GatedSaver extends SqliteSaver {
  override async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata): Promise<RunnableConfig> {
    await putGate.pass();
    return super.put(config, checkpoint, metadata);
  }
}

class GatedEmbeddings extends HashEmbeddings {
  override async embedDocuments(texts: string[]): Promise<number[][]> {
    await embedGate.pass();
    return super.embedDocuments(texts);
  }
}

const memory = new Memory({
  dataDir: options.dataDir,
  chroma: { url: options.chromaUrl },
  embeddings: new GatedEmbeddings(),
  ...(options.writes ? { writes: options.writes } : {}),
  ...(options.postgres ? { state: { postgres: options.postgres } } : {}),
});
const engram = new EngramCheckpointer({ memory, saver: new GatedSaver(openDatabase(options.saverFile)) });

let n = 0;
function config(userId: string, threadId: string): RunnableConfig {
  return { configurable: { thread_id: threadId, user_id: userId, checkpoint_ns: "" } };
}

function outcome(run: Promise<unknown>): Promise<string> {
  return run.then(
    () => "stored",
    (error: { code?: string; message?: string }) => error?.code ?? String(error?.message ?? error),
  );
}

/**
 * One checkpoint of the user's run with one new message, in `messages` or (as LangGraph's input
 * checkpoint of a run has it) in `__start__`.
 */
function put(userId: string, threadId: string, text: string, channel = "messages"): Promise<RunnableConfig> {
  n += 1;
  const message = new HumanMessage({ id: `${userId}-${process.pid}-${n}`, content: text });
  const checkpoint: Checkpoint = {
    v: 4,
    id: `${process.pid.toString(16).padStart(8, "0")}-0000-6000-8000-${n.toString(16).padStart(12, "0")}`,
    ts: new Date().toISOString(),
    channel_values: channel === "messages" ? { messages: [message] } : { [channel]: { messages: [message] } },
    channel_versions: { [channel]: n },
    versions_seen: {},
  };
  return engram.put(config(userId, threadId), checkpoint, { source: "input", step: -1, parents: {} }, { [channel]: n });
}

let held: Promise<string> | undefined;

const methods: Record<string, PeerMethod> = {
  /** A put to the end: "stored" or the error code. */
  put: (userId: string, threadId: string, text: string, channel?: string) => outcome(put(userId, threadId, text, channel)),
  /** Starts a put and returns once it is stopped just before the saver stores its checkpoint. */
  holdPut: async (userId: string, threadId: string, text: string, channel?: string) => {
    putGate.arm();
    held = outcome(put(userId, threadId, text, channel));
    await Promise.race([putGate.waitReached(), held]);
  },
  /** Lets the held put go on; its outcome. */
  finishPut: async () => {
    putGate.release();
    return held;
  },
  /** The next embedding stops until `releaseEmbed`. */
  holdEmbed: async () => embedGate.arm(),
  waitEmbed: () => embedGate.waitReached(),
  releaseEmbed: async () => embedGate.release(),
  /** The thread's channel values as the user's run reads them (null: no checkpoint), or the refusal's code. */
  read: async (userId: string, threadId: string) => {
    try {
      const tuple = await engram.getTuple(config(userId, threadId));
      return tuple ? JSON.parse(JSON.stringify(tuple.checkpoint.channel_values)) : null;
    } catch (error) {
      return (error as { code?: string }).code ?? String(error);
    }
  },
  deleteThread: (threadId: string) => engram.deleteThread(threadId),
  deleteAll: (userId: string) => memory.deleteAll({ userId }),
  memories: async (userId: string) => (await memory.getAll({ userId, limit: 1_000 })).map((record) => record.content),
  flush: () => engram.flush(),
  close: async () => {
    await engram.close();
    await memory.close();
  },
};

serveMethods(methods);
