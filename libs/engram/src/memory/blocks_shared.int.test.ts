import { describe, expect, it } from "@jest/globals";
import { testMemories } from "../tests/memories.js";
import { CoreBlocks } from "./blocks.js";

// A block edit reads the block and writes it back. Edits were serialized per CoreBlocks object
// only, and createMemoryTools makes its own CoreBlocks: an app that builds its tools (or agent)
// per request, as serverless handlers do, had two objects for one user's block, and of two edits
// at once the later write dropped the earlier's text.
const memories = testMemories();

describe("CoreBlocks: edits of one user's block through two CoreBlocks objects at once", () => {
  it("keeps every append", async () => {
    const m = memories.open("blocks-shared", { writes: "sync" });
    const first = new CoreBlocks(m);
    const second = new CoreBlocks(m);
    const user = { userId: "ivy" };
    const lines = Array.from({ length: 8 }, (_, i) => `Fact number ${i} about Ivy.`);
    await Promise.all(lines.map((line, i) => (i % 2 === 0 ? first : second).append(user, "human", line)));
    const { value } = await first.get(user, "human");
    for (const line of lines) expect(value).toContain(line);
  });
});
