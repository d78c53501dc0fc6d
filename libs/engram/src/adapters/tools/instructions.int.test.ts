import { describe, expect, it } from "@jest/globals";
import { HumanMessage } from "@langchain/core/messages";
import { CoreBlocks } from "../../memory/blocks.js";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { testMemories } from "../../tests/memories.js";
import { coreMemoryPrompt } from "./prompt.js";

// coreMemoryPrompt read the user's newest `maxInstructions` + (its blocks) procedure records and
// kept those without a block. Another agent's core blocks of the same user are procedures too,
// newer than the instructions once edited: they took the instructions' places, and the prompt
// lost learned instructions it had room for.
const memories = testMemories();

describe("coreMemoryPrompt with another agent's core blocks (real Chroma)", () => {
  it("shows the user's newest learned instructions up to maxInstructions", async () => {
    const memory = memories.open("instructions", { writes: "sync", embeddings: new HashEmbeddings() });
    const scope = { userId: "ola" };
    const createdAt = Date.now() - 60_000;
    await memory.add("Answer in British English.", { ...scope, kind: "procedure", createdAt });
    await memory.add("Keep answers under five sentences.", { ...scope, kind: "procedure", createdAt: createdAt + 1 });
    // Another agent's blocks of the same user, written after the instructions.
    const other = new CoreBlocks(memory, { blocks: [{ name: "chef" }, { name: "coach" }, { name: "pantry" }] });
    for (const name of ["chef", "coach", "pantry"]) await other.append(scope, name, `Notes for ${name}.`);

    const blocks = new CoreBlocks(memory, { blocks: [{ name: "human" }] });
    await blocks.append(scope, "human", "Name: Ola.");
    const prompt = coreMemoryPrompt({ memory, blocks, base: "You are Sam.", maxInstructions: 2 });
    const [system] = await prompt({ messages: [new HumanMessage("hi")] }, { configurable: { user_id: "ola" } });
    expect(system!.text).toContain("Name: Ola.");
    expect(system!.text).toContain("Answer in British English.");
    expect(system!.text).toContain("Keep answers under five sentences.");
    expect(system!.text).not.toContain("Notes for chef.");
  }, 600_000);

  it("shows the blocks in their configured order, not by name", async () => {
    const memory = memories.open("block-order", { writes: "sync", embeddings: new HashEmbeddings() });
    const scope = { userId: "pia" };
    const blocks = new CoreBlocks(memory, { blocks: [{ name: "persona" }, { name: "human" }] });
    await blocks.append(scope, "human", "Name: Pia.");
    await blocks.append(scope, "persona", "I am Sam, a patient tutor.");
    const prompt = coreMemoryPrompt({ memory, blocks, base: "You are Sam." });
    const [system] = await prompt({ messages: [new HumanMessage("hi")] }, { configurable: { user_id: "pia" } });
    const text = system!.text;
    expect(text.indexOf("<persona>")).toBeGreaterThan(-1);
    expect(text.indexOf("<persona>")).toBeLessThan(text.indexOf("<human>"));
  }, 600_000);
});
