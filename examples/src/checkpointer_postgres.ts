/**
 * The checkpointer of a deployment of several replicas: checkpoints in PostgreSQL
 * (`createPostgresSaver`), Memory's shared state in PostgreSQL (the checkpointer keeps its filing
 * log there too), and retention so checkpoint tables stay small. Quoted by docs/checkpointer.md and
 * run by checkpointer_postgres.int.test.ts against a real PostgreSQL and Chroma server.
 */
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { HumanMessage } from "@langchain/core/messages";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { Memory } from "engram";
import { EngramCheckpointer, createPostgresSaver } from "engram/checkpointer";

export async function createReplicaAssistant(llm: BaseChatModel, databaseUrl: string, chromaUrl: string) {
  const memory = new Memory({ chroma: { url: chromaUrl }, state: { postgres: databaseUrl } });
  const saver = await createPostgresSaver(databaseUrl, { schema: "checkpoints" });
  const checkpointer = new EngramCheckpointer({
    memory,
    saver,
    retention: {
      keepLast: 20, // checkpoints kept per thread
      idleTtlMs: 30 * 24 * 60 * 60 * 1000, // threads idle for 30 days are deleted; their memories stay
      sweepEveryMs: 10 * 60 * 1000, // prune in the background every 10 minutes
    },
    onWarning: (message) => console.warn(message), // a failed sweep
  });
  const agent = createReactAgent({ llm, tools: [], checkpointer });
  const close = async () => {
    await checkpointer.close(); // stops the sweep
    await saver.end(); // the saver's pool is yours to close
    await memory.close();
  };
  return { agent, checkpointer, memory, close };
}

export async function chatThenPrune(assistant: Awaited<ReturnType<typeof createReplicaAssistant>>, text: string) {
  const config = { configurable: { thread_id: "support-42", user_id: "alice" } };
  await assistant.agent.invoke({ messages: [new HumanMessage(text)] }, config);
  const { pruned, expired } = await assistant.checkpointer.prune(); // the same work as one sweep
  return { pruned, expired };
}
