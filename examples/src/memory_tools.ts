/**
 * An agent that manages its own memory, MemGPT style: core blocks it edits and always sees in its
 * system prompt, an archival memory it writes and searches, and a search over past conversations.
 * Quoted by docs/tools.md and run by memory_tools.int.test.ts.
 */
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { HumanMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { CoreBlocks, type Memory } from "engram";
import { coreMemoryPrompt, createMemoryTools } from "engram/tools";

export function buildMemoryAgent(memory: Memory, model: BaseChatModel) {
  const blocks = new CoreBlocks(memory, {
    blocks: [
      { name: "persona", initial: "I am Sam, a cooking assistant. I keep answers short.", limit: 500 },
      { name: "human", description: "What you know about the user: name, diet, tastes.", limit: 1000 },
    ],
  });
  return createReactAgent({
    llm: model,
    // core_memory_append, core_memory_replace, archival_memory_insert, archival_memory_search,
    // conversation_search: each acts for the run's config.configurable.user_id, never an argument.
    tools: createMemoryTools({ memory, blocks }),
    // Re-read on every model call, so an edit shows in the very next prompt.
    prompt: coreMemoryPrompt({ memory, blocks, base: "You are Sam. Keep your core memory about the user current." }),
    checkpointer: new MemorySaver(),
  });
}

/** Two threads of one user: what the agent saved in the first, it finds in the second. */
export async function twoThreads(memory: Memory, model: BaseChatModel): Promise<string[]> {
  const agent = buildMemoryAgent(memory, model);
  const monday = { configurable: { user_id: "alice", thread_id: "monday" } };
  const friday = { configurable: { user_id: "alice", thread_id: "friday" } };
  const first = await agent.invoke({ messages: [new HumanMessage("I'm Alice. I'm vegetarian, and my sister Ana lives in Porto.")] }, monday);
  const second = await agent.invoke({ messages: [new HumanMessage("I'm visiting my sister next week. Any dinner ideas there?")] }, friday);
  return [first, second].map((state) => state.messages.at(-1)!.text);
}
