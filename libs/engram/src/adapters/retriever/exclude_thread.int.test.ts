import { describe, expect, it } from "@jest/globals";
import { testMemories } from "../../tests/memories.js";
import { EngramRetriever } from "./retriever.js";

// With excludeThread, the retriever asked the search for twice fetchK and left the thread out of
// what came back. A long conversation about the very topic asked held all of those best matches,
// so the user's other conversations, the reason to recall at all, gave nothing.
const memories = testMemories();

describe("EngramRetriever leaving out a thread that holds every best match (real Chroma, local model)", () => {
  it("still finds the user's other threads' memories", async () => {
    const memory = memories.open("exclude-thread", { writes: "sync" });
    const now = Date.now();
    await memory.addMany(
      Array.from({ length: 50 }, (_, i) => ({
        content: `Lea's balcony tomatoes are ripening, note ${i}: watering the balcony tomatoes daily.`,
        threadId: "now",
        createdAt: now - (50 - i) * 1000,
      })),
      { userId: "lea" },
    );
    await memory.add("Lea grew tomatoes in her garden last summer.", { userId: "lea", threadId: "last-year", createdAt: now - 300 * 24 * 3600 * 1000 });
    const retriever = new EngramRetriever({ memory, k: 3, excludeThread: true });
    const docs = await retriever.invoke("balcony tomatoes ripening", { configurable: { user_id: "lea", thread_id: "now" } });
    expect(docs.map((doc) => doc.pageContent)).toEqual(["Lea grew tomatoes in her garden last summer."]);
  }, 600_000);
});
