/**
 * An application process for graph/crash_turn.int.test.ts: it runs one turn of the memory graph on
 * a data folder and a SQLite checkpointer it shares with the test, and stops for ever right after
 * `remember` handed the exchange to Memory (durable in the outbox), before LangGraph wrote that
 * step's checkpoint. The test kills it there with SIGKILL.
 *
 * Run with `node --import tsx crash_turn_child.ts '<json>'` ({@link CrashTurnConfig}). Lines on
 * stdout: `remembered <record ids>` once `add` returned.
 */
import { HumanMessage } from "@langchain/core/messages";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { StaticEmbeddings } from "../embeddings/static.js";
import { Memory } from "../memory/memory.js";
import { RecordingChatModel } from "../tests/recording_model.js";
import { createMemoryGraph } from "./agent.js";
import type { GraphMemory } from "./types.js";

export interface CrashTurnConfig {
  dataDir: string;
  chromaUrl: string;
  checkpoints: string;
  userId: string;
  threadId: string;
  text: string;
  reply: string;
}

const config = JSON.parse(process.argv[2] ?? "{}") as CrashTurnConfig;
const memory = new Memory({ dataDir: config.dataDir, chroma: { url: config.chromaUrl }, embeddings: new StaticEmbeddings() });
const stopping: GraphMemory = {
  add: async (input, options) => {
    const result = await memory.add(input, options);
    process.stdout.write(`remembered ${result.results.map((record) => record.id).join(" ")}\n`);
    // The crash comes here: the write is durable, the step's checkpoint is not written.
    return new Promise(() => undefined);
  },
  search: (query, options) => memory.search(query, options),
  getAll: (options) => memory.getAll(options),
  forget: (options) => memory.forget(options),
};
const graph = createMemoryGraph({
  memory: stopping,
  model: new RecordingChatModel(config.reply),
  checkpointer: SqliteSaver.fromConnString(config.checkpoints),
  onWarning: () => undefined,
});
await graph.invoke({ messages: [new HumanMessage(config.text)] }, { configurable: { user_id: config.userId, thread_id: config.threadId } });
