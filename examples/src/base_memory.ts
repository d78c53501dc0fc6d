/**
 * A classic `ConversationChain` remembers across sessions: swap its `BufferMemory` for an
 * `EngramMemory`. Quoted by docs/base-memory.md and run by base_memory.int.test.ts (which also
 * checks that the quotes match this file).
 */
import { ConversationChain } from "@langchain/classic/chains";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { Memory } from "engram";
import { EngramMemory } from "engram/classic";

export function createConversation(llm: BaseChatModel, memory: Memory, userId: string, sessionId: string): ConversationChain {
  return new ConversationChain({
    llm,
    // Before: memory: new BufferMemory(),
    memory: new EngramMemory({ memory, userId, threadId: sessionId, window: { maxTurns: 2 } }),
  });
}

async function say(chain: ConversationChain, input: string): Promise<string> {
  const { response } = await chain.invoke({ input });
  return String(response);
}

/** Alice tells a fact on Monday and asks about it on Tuesday, in a new session; Bob asks too. */
export async function rememberAcrossSessions(llm: BaseChatModel, memory: Memory): Promise<string[]> {
  const monday = createConversation(llm, memory, "alice", "monday");
  const answers = [await say(monday, "Please remember: my sister Ana lives in Porto, and I'm vegetarian.")];
  for (const smallTalk of ["Nice weather today.", "Any good podcasts?", "Thanks, talk soon."]) {
    answers.push(await say(monday, smallTalk)); // the first turn leaves the 2-turn window: summarized
  }

  // A new chain and a new session: the window is empty, the user's long-term memory is not.
  const tuesday = createConversation(llm, memory, "alice", "tuesday");
  answers.push(await say(tuesday, "Any dinner ideas for when I visit my sister?"));

  const bob = createConversation(llm, memory, "bob", "bob-1");
  answers.push(await say(bob, "Any dinner ideas for when I visit my sister?"));
  return answers;
}
