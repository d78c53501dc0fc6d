/**
 * A serverless-like process for no_native.int.test.ts, run as
 * `node --import ./block_better_sqlite3.mjs --import tsx no_native_child.ts '<json>'`: better-sqlite3
 * cannot load here. Mode "postgres" runs EngramCheckpointer over PostgresSaver with Memory's
 * PostgreSQL state (turns, flush, prune, search, deleteThread) and prints one JSON line of what it
 * saw; mode "default" asks for the default SQLite saver, which must fail (the block works).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { Memory } from "../../memory/memory.js";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { CHECKPOINTS_FILE_NAME, EngramCheckpointer } from "./checkpointer.js";
import { createPostgresSaver } from "./postgres_saver.js";

interface ChildConfig {
  mode: "postgres" | "default";
  pgUrl: string;
  chromaUrl: string;
  dataDir: string;
}

const config = JSON.parse(process.argv[2] ?? "{}") as ChildConfig;
const memory = new Memory({
  dataDir: config.dataDir,
  chroma: { url: config.chromaUrl },
  embeddings: new HashEmbeddings(),
  ...(config.mode === "postgres" ? { state: { postgres: config.pgUrl } } : {}),
});

if (config.mode === "default") {
  const engram = new EngramCheckpointer({ memory });
  const error = await engram.getSaver().then(
    () => "loaded",
    (e: Error) => e.message,
  );
  console.log(JSON.stringify({ defaultSaver: error }));
  await engram.close();
} else {
  const saver = await createPostgresSaver(config.pgUrl, { schema: "serverless_checkpoints" });
  const engram = new EngramCheckpointer({ memory, saver, retention: { keepLast: 1 } });
  const graph = new StateGraph(MessagesAnnotation)
    .addNode("assistant", (state) => ({ messages: [new AIMessage(`Noted (${state.messages.length}).`)] }))
    .addEdge(START, "assistant")
    .addEdge("assistant", END)
    .compile({ checkpointer: engram });
  const run = { configurable: { thread_id: "s1", user_id: "alice" } };
  for (const text of ["I play the cello.", "I live in Porto.", "My cat is Miso."]) {
    await graph.invoke({ messages: [new HumanMessage(text)] }, run);
  }
  const flushed = await engram.flush();
  const pruned = await engram.prune();
  const hits = await memory.search("cello", { userId: "alice", limit: 1 });
  const stateAfterPrune = await graph.getState(run);
  await engram.deleteThread("s1");
  const left = await memory.getAll({ userId: "alice" });
  console.log(
    JSON.stringify({
      filed: flushed.filed,
      pruned: pruned.pruned,
      hit: hits[0]?.content,
      messages: (stateAfterPrune.values.messages as unknown[]).length,
      left: left.length,
      checkpointsFile: existsSync(join(config.dataDir, CHECKPOINTS_FILE_NAME)),
    }),
  );
  await engram.close();
  await saver.end();
}
await memory.close();
