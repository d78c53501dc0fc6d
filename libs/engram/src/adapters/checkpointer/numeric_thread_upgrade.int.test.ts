import { afterAll, describe, expect, it, jest } from "@jest/globals";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { END, MessagesAnnotation, START, StateGraph, type BaseCheckpointSaver } from "@langchain/langgraph";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import type { Memory } from "../../memory/memory.js";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { testMemories } from "../../tests/memories.js";
import { startScriptPeer } from "../../tests/peers.js";
import { CHECKPOINTS_FILE_NAME, EngramCheckpointer } from "./checkpointer.js";

/*
 * A folder written before EngramCheckpointer handed SqliteSaver a numeric thread_id as its string
 * (a40f4af): the saver kept thread_id 1 as "1.0" (better-sqlite3 binds a number as REAL), while
 * Engram claimed the thread and filed its messages as "1". Opened by this version, alice's thread 1
 * read "1" and started empty, deleteThread("1") left her checkpoints under "1.0", and a run naming
 * thread_id "1.0" (any user: nobody claimed that text) read her conversation.
 * The old folder is made as the old code made it: SqliteSaver given the config unchanged (a
 * numeric thread_id), the claim and the memories under "1".
 */

jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const checkpointers: EngramCheckpointer[] = [];
afterAll(async () => {
  for (const c of checkpointers) await c.close();
});
const memories = testMemories();
const PEER = fileURLToPath(new URL("./numeric_peer.ts", import.meta.url));

function chat(saver: BaseCheckpointSaver) {
  return new StateGraph(MessagesAnnotation)
    .addNode("reply", (state) => ({ messages: [new AIMessage(`Reply to: ${state.messages[state.messages.length - 1]!.text}`)] }))
    .addEdge(START, "reply")
    .addEdge("reply", END)
    .compile({ checkpointer: saver });
}

/** What an earlier version left for a run of `userId` on `threadId`, as it left it. */
async function oldRun(memory: Memory, threadId: number | string, userId: string, text: string): Promise<void> {
  await memory.state.setup(); // makes the folder
  const db = new Database(join(memory.dataFolder, CHECKPOINTS_FILE_NAME));
  try {
    await chat(new SqliteSaver(db)).invoke({ messages: [new HumanMessage(text)] }, { configurable: { thread_id: threadId, user_id: userId } });
  } finally {
    db.close();
  }
  await memory.state.filings().claim(String(threadId), userId);
  await memory.add(text, { userId, threadId: String(threadId) });
}

function storedThreadIds(memory: Memory): string[] {
  const db = new Database(join(memory.dataFolder, CHECKPOINTS_FILE_NAME), { readonly: true });
  try {
    return db
      .prepare<[], { thread_id: string }>("SELECT thread_id FROM checkpoints UNION SELECT thread_id FROM writes ORDER BY 1")
      .all()
      .map((row) => row.thread_id);
  } finally {
    db.close();
  }
}

const texts = (messages: Array<{ text: string }>) => messages.map((m) => m.text);

describe("EngramCheckpointer on a folder whose numeric thread ids an earlier version stored as '1.0'", () => {
  it("moves those checkpoints to the thread's id: its user goes on, deleteThread deletes them, nobody reads them as '1.0'; a thread named '2.0' stays its user's", async () => {
    const memory = memories.open("numeric-upgrade", { prefix: "numup", embeddings: new HashEmbeddings() });
    await oldRun(memory, 1, "alice", "My bank PIN is 4711.");
    await oldRun(memory, "2.0", "carol", "I keep bees.");
    // The earlier version's folder: alice's checkpoints under "1.0", carol's under her own "2.0".
    expect(storedThreadIds(memory)).toEqual(["1.0", "2.0"]);

    const engram = new EngramCheckpointer({ memory });
    checkpointers.push(engram);
    const graph = chat(engram);
    // Alice's thread goes on from her conversation.
    const alice = await graph.invoke({ messages: [new HumanMessage("What is my PIN?")] }, { configurable: { thread_id: 1, user_id: "alice" } });
    expect(texts(alice.messages)).toEqual(["My bank PIN is 4711.", "Reply to: My bank PIN is 4711.", "What is my PIN?", "Reply to: What is my PIN?"]);
    expect(storedThreadIds(memory)).toEqual(["1", "2.0"]);

    // Carol's thread named "2.0" is hers, unmoved: she goes on in it, and bob may not.
    const carol = await graph.invoke({ messages: [new HumanMessage("How many hives?")] }, { configurable: { thread_id: "2.0", user_id: "carol" } });
    expect(texts(carol.messages).slice(0, 2)).toEqual(["I keep bees.", "Reply to: I keep bees."]);
    const refused = await graph.invoke({ messages: [new HumanMessage("Hi")] }, { configurable: { thread_id: "2.0", user_id: "bob" } }).catch((e: unknown) => e);
    expect((refused as { code?: string }).code).toBe("INVALID_SCOPE");

    // Deleted, alice's thread leaves nothing under either spelling, and bob's "1.0" starts empty.
    await engram.flush();
    await engram.deleteThread("1");
    expect(storedThreadIds(memory)).toEqual(["2.0"]);
    for (const threadId of ["1.0", 1]) {
      const bob = await graph.invoke({ messages: [new HumanMessage("Hi")] }, { configurable: { thread_id: threadId, user_id: "bob" } });
      expect(texts(bob.messages)).toEqual(["Hi", "Reply to: Hi"]);
      await engram.deleteThread(String(threadId));
    }
  });

  it("moves them in the app's own SqliteSaver too", async () => {
    const memory = memories.open("numeric-upgrade-own", { prefix: "numup3", embeddings: new HashEmbeddings() });
    await memory.state.setup();
    const file = join(memory.dataFolder, "app-checkpoints.sqlite");
    const old = new Database(file);
    await chat(new SqliteSaver(old)).invoke({ messages: [new HumanMessage("My PIN is 1234.")] }, { configurable: { thread_id: 5, user_id: "alice" } });
    old.close();
    await memory.state.filings().claim("5", "alice");
    const db = new Database(file);
    const engram = new EngramCheckpointer({ memory, saver: new SqliteSaver(db) });
    checkpointers.push(engram);
    try {
      const bob = await chat(engram).invoke({ messages: [new HumanMessage("Hi")] }, { configurable: { thread_id: "5.0", user_id: "bob" } });
      expect(texts(bob.messages)).toEqual(["Hi", "Reply to: Hi"]);
      const alice = await engram.getTuple({ configurable: { thread_id: 5, user_id: "alice" } });
      expect(texts((alice?.checkpoint.channel_values.messages ?? []) as Array<{ text: string }>)).toContain("My PIN is 1234.");
    } finally {
      await engram.close();
      db.close();
    }
  });

  it("two processes opening the old folder at once each read every thread moved, and the rows are moved once", async () => {
    const memory = memories.open("numeric-upgrade-peers", { prefix: "numup2", embeddings: new HashEmbeddings() });
    const threads = [-3, 7, 8, 9, 10, 11, 12, 13];
    for (const id of threads) await oldRun(memory, id, `user${id}`, `Secret of thread ${id}.`);
    expect(storedThreadIds(memory)).toEqual(threads.map((id) => `${id}.0`).sort());
    await memory.close(); // the app that wrote it stopped; two processes of this version start on it
    const options = { chromaUrl: memories.chroma.server.url, dataDir: memory.dataFolder };
    const peers = [startScriptPeer(PEER, options), startScriptPeer(PEER, options)];
    try {
      await Promise.all(peers.map((peer) => peer.call("ready")));
      // Each process's first call opens the file: both move the rows at the same moment.
      const read = await Promise.all(threads.map((id, i) => peers[i % 2]!.call<string[]>("read", `user${id}`, id)));
      expect(read).toEqual(threads.map((id) => [`Secret of thread ${id}.`, `Reply to: Secret of thread ${id}.`]));
      expect(storedThreadIds(memory)).toEqual(threads.map(String).sort());
      const again = await Promise.all(threads.map((id, i) => peers[(i + 1) % 2]!.call<string[]>("read", `user${id}`, id)));
      expect(again).toEqual(read);
    } finally {
      for (const peer of peers) await peer.close();
    }
  });
});
