import { expect, it, jest } from "@jest/globals";
import { AIMessage } from "@langchain/core/messages";
import { fakeModel } from "@langchain/core/testing";
import { Memory } from "engram";
import { rememberAcrossThreads } from "./checkpointer.js";
import { expectQuotedVerbatim } from "./tests/doc_quotes.js";
import { suiteTempDir } from "./tests/temp_dir.js";

// Model loading and real Chroma writes on a shared 2-core machine: generous, never asserted on.
jest.setTimeout(600_000); // a hang, not a slow machine (jest.config.cjs)

const dir = suiteTempDir("engram-checkpointer-");

it("alice's fact from one thread reaches the model in her next thread, never in bob's, and deleteThread erases it", async () => {
  // The embedded default in a temporary data folder: a real local Chroma server, local embeddings.
  const memory = new Memory({ dataDir: dir.path });
  const llm = fakeModel()
    .respond(new AIMessage("Noted!"))
    .respond(new AIMessage("How about a vegetarian francesinha in Porto?"))
    .respond(new AIMessage("Where does your sister live?"));
  try {
    const { answers, erased } = await rememberAcrossThreads(llm, memory);
    expect(answers).toEqual(["Noted!", "How about a vegetarian francesinha in Porto?", "Where does your sister live?"]);

    const [, alice, bob] = llm.calls;
    const aliceSystem = alice!.messages[0]!;
    expect(aliceSystem.getType()).toBe("system");
    expect(aliceSystem.text).toContain("<recalled_memories>");
    expect(aliceSystem.text).toContain("- I'm vegetarian, and my sister Ana lives in Porto.");
    // Bob's model call holds his question and nothing of alice's.
    expect(bob!.messages.map((m) => m.text)).toEqual(["You are a helpful assistant.", "Any dinner ideas for when I visit my sister?"]);

    expect(erased).toBe(2); // alice's message and the reply, filed from thread alice-1
    expect((await memory.getAll({ userId: "alice" })).every((m) => m.scope.threadId === "alice-2")).toBe(true);
  } finally {
    await memory.close();
  }
});

it("the code quoted in docs/checkpointer.md is this example, verbatim", async () => {
  await expectQuotedVerbatim("checkpointer.md", ["checkpointer.ts", "checkpointer_postgres.ts"], 2);
});
