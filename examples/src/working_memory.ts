/**
 * Working memory without a graph: a window over the conversation, and a running summary of what
 * leaves it. Quoted by docs/working-memory.md and run by working_memory.test.ts.
 */
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { BaseMessage } from "@langchain/core/messages";
import { countTokens, selectWindow, summarize } from "engram/working";

export interface WorkingMemory {
  /** What the model is sent verbatim: system messages and the newest turns. */
  window: BaseMessage[];
  /** Everything older, folded into a summary of at most 200 tokens. */
  summary: string;
}

export async function updateWorkingMemory(messages: BaseMessage[], previousSummary: string, model?: BaseChatModel): Promise<WorkingMemory> {
  // The last 3 turns, and at most 1,000 tokens of them; a tool call stays with its result.
  const { kept, evicted } = selectWindow(messages, { maxTurns: 3, maxTokens: 1_000 });
  // With a model, it writes the summary; without one, the most important sentences are kept.
  const summary = await summarize({ previousSummary, evicted, model, maxTokens: 200 });
  console.log(`${kept.length} messages (${countTokens(kept)} tokens) kept, ${evicted.length} folded into the summary`);
  return { window: kept, summary };
}
