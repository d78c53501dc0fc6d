/**
 * Semantic and procedural memory: facts extracted by a chat model and kept true as they change,
 * and learned instructions. Quoted by docs/facts.md and run by facts.int.test.ts (with a fake
 * model whose replies are canned JSON), so the snippets in the docs cannot rot.
 */
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { Memory, Procedures, type MemoryOptions, type MemoryRecord, type ScoredMemory } from "engram";

export function memoryWithFacts(model: BaseChatModel, options: MemoryOptions = {}): Memory {
  // Any LangChain chat model, e.g. new ChatOpenAI({ model: "gpt-4o-mini" }); tool calling not needed.
  return new Memory({ ...options, model });
}

export async function aliceMoves(memory: Memory): Promise<void> {
  // add() stores the exchange and returns; facts are extracted in the background.
  await memory.add(
    [
      { role: "user", content: "I live in Paris, near the canal." },
      { role: "assistant", content: "Lovely! Do you walk along it often?" },
    ],
    { userId: "alice", threadId: "monday" },
  );
  await memory.add([{ role: "user", content: "Big news: I moved to Berlin last month." }], { userId: "alice", threadId: "friday" });
  await memory.flush(); // waits for the extraction; an app on its hot path would not
}

export async function whereAliceLives(memory: Memory): Promise<{ current: ScoredMemory[]; withPast: ScoredMemory[] }> {
  // Only what is true now...
  const current = await memory.search("Where does the user live?", { userId: "alice", filters: { kind: "fact" } });
  // ...unless asked for the past too: the contradicted fact carries metadata.validUntil.
  const withPast = await memory.search("Where does the user live?", {
    userId: "alice",
    filters: { kind: "fact" },
    includeInvalid: true,
  });
  return { current, withPast };
}

export async function learnAnInstruction(memory: Memory): Promise<MemoryRecord[]> {
  // Procedural memory: instructions learned about this user, for every future system prompt.
  const procedures = new Procedures(memory);
  await procedures.learn("When the user asks for code, answer in TypeScript", { userId: "alice" });
  return procedures.list({ userId: "alice" });
}

export interface FactsTour {
  current: ScoredMemory[];
  withPast: ScoredMemory[];
  instructions: MemoryRecord[];
}

/** The three steps in order, on a memory of their own (closed at the end). */
export async function factsTour(model: BaseChatModel, options: MemoryOptions = {}): Promise<FactsTour> {
  const memory = memoryWithFacts(model, options);
  try {
    await aliceMoves(memory);
    const { current, withPast } = await whereAliceLives(memory);
    const instructions = await learnAnInstruction(memory);
    return { current, withPast, instructions };
  } finally {
    await memory.close();
  }
}
