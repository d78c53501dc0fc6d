/**
 * An agent made with `createAgent` remembers across threads: add `engramMiddleware`. Quoted by
 * docs/middleware.md and run by middleware.int.test.ts (which also checks that the quotes match
 * this file).
 */
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { HumanMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph";
import { createAgent } from "langchain";
import type { Memory } from "engram";
import { engramMiddleware } from "engram/middleware";

export function createAssistant(model: BaseChatModel, memory: Memory) {
  return createAgent({
    model,
    systemPrompt: "You are a helpful assistant.",
    middleware: [engramMiddleware({ memory, window: { maxTurns: 10 } })],
    checkpointer: new MemorySaver(),
  });
}

/** Alice tells a fact in one thread and asks about it in another; Bob asks the same. */
export async function rememberAcrossThreads(model: BaseChatModel, memory: Memory): Promise<string[]> {
  const agent = createAssistant(model, memory);
  const ask = async (text: string, threadId: string, userId: string): Promise<string> => {
    // The user comes from the run's config (or `context: { userId }`), never from the model.
    const config = { configurable: { thread_id: threadId, user_id: userId } };
    const result = await agent.invoke({ messages: [new HumanMessage(text)] }, config);
    return result.messages.at(-1)?.text ?? "";
  };
  return [
    await ask("ok thanks", "alice-1", "alice"), // small talk: scored low, not stored
    await ask("Please remember: my sister Ana lives in Porto, and I'm vegetarian.", "alice-1", "alice"),
    await ask("Any dinner ideas for when I visit my sister?", "alice-2", "alice"),
    await ask("Any dinner ideas for when I visit my sister?", "bob-1", "bob"),
  ];
}
