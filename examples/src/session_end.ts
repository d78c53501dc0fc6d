/**
 * Ending a session: a thread's last turns, still in the window when the user leaves, are
 * consolidated into long-term memory (after `idleMs` of quiet, or at once with `endSession`).
 * Quoted by docs/graph.md and run by existing_graph.int.test.ts.
 */
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { MemorySaver } from "@langchain/langgraph";
import type { Memory } from "engram";
import { createMemoryGraph } from "engram/graph";

export function buildAgent(memory: Memory, model: BaseChatModel) {
  return createMemoryGraph({
    memory,
    model,
    checkpointer: new MemorySaver(),
    idleMs: 30 * 60_000, // a thread quiet for 30 minutes has its session ended
    onSessionEnd: (end) => console.log(`${end.threadId}: ${end.summarized} messages consolidated`),
  });
}

export async function closeChat(graph: ReturnType<typeof buildAgent>, userId: string, threadId: string) {
  await graph.endSession({ configurable: { user_id: userId, thread_id: threadId } });
}
