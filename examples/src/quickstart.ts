/**
 * Quickstart: the plain Memory API. Imported by docs/memory.md and run by quickstart.int.test.ts,
 * so the snippet in the docs cannot rot.
 */
import { Memory, type MemoryOptions, type ScoredMemory } from "engram";

export async function quickstart(options: MemoryOptions = {}): Promise<ScoredMemory[]> {
  const m = new Memory(options); // with no options: local Chroma in ./.engram, local embeddings
  try {
    await m.add("User prefers Python for data science", { userId: "alice" });
    await m.add(
      [
        { role: "user", content: "I moved to Berlin last spring." },
        { role: "assistant", content: "How are you finding Berlin so far?" },
      ],
      { userId: "alice", threadId: "chat-1" },
    );
    await m.add("Bob's favourite language is Go", { userId: "bob" });

    const memories = await m.search("What programming language does she like?", { userId: "alice", limit: 3 });
    const [best] = memories;
    if (best) {
      await m.update(best.id, "User prefers Python and R for data science", { userId: "alice" });
      const versions = await m.history(best.id, { userId: "alice" });
      console.log(versions.map((v) => `${v.event}: ${v.newContent ?? "(deleted)"}`));
    }
    return memories;
  } finally {
    await m.close();
  }
}
