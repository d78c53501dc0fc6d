import { describe, expect, it } from "@jest/globals";
import { isEngramError } from "../../core/errors.js";
import { testMemories } from "../../tests/memories.js";
import { EngramRetriever } from "./retriever.js";

// Memory.search returns at most 1000 results and refuses a larger limit. A retriever with k 300
// (fetchK 1200 by default), or fetchK 600 leaving a thread out (1200 asked for), was built without
// a word and then failed on every call with INVALID_OPTIONS about a limit it was never given.
const memories = testMemories();

describe("EngramRetriever's k and fetchK against Memory.search's limit (real Chroma, local model)", () => {
  it("serves large k within the search's limit, and refuses what it cannot serve when built", async () => {
    const memory = memories.open("limits", { writes: "sync" });
    await memory.add("Lea grows tomatoes on her balcony.", { userId: "lea", kind: "fact" });
    await memory.add("Lea talked about tomatoes in this chat.", { userId: "lea", threadId: "now" });
    const run = { configurable: { user_id: "lea", thread_id: "now" } };

    const wide = new EngramRetriever({ memory, k: 300 });
    expect((await wide.invoke("tomatoes", run)).map((d) => d.pageContent).sort()).toEqual([
      "Lea grows tomatoes on her balcony.",
      "Lea talked about tomatoes in this chat.",
    ]);
    const leavingOut = new EngramRetriever({ memory, k: 10, fetchK: 600, excludeThread: true });
    expect((await leavingOut.invoke("tomatoes", run)).map((d) => d.pageContent)).toEqual(["Lea grows tomatoes on her balcony."]);

    for (const options of [{ k: 1001 }, { fetchK: 1001 }]) {
      let caught: unknown;
      try {
        new EngramRetriever({ memory, ...options });
      } catch (error) {
        caught = error;
      }
      expect(isEngramError(caught, "INVALID_OPTIONS")).toBe(true);
    }
  }, 600_000);
});
