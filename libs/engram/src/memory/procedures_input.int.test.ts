import { describe, expect, it } from "@jest/globals";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { testMemories } from "../tests/memories.js";
import { codeOf } from "../tests/runs.js";
import { CoreBlocks } from "./blocks.js";
import { Procedures } from "./procedures.js";

// Procedures and core blocks took input Memory refuses: `learn(text, { userId, expiresIn })`
// ignored the unknown key (the instruction was stored for ever), as did `list` and `retire`; and
// `append` of text with no visible character ("\0\0") reported success and changed nothing.
const memories = testMemories();

describe("procedures and core blocks refuse what Memory refuses, before anything is written", () => {
  it("learn, list and retire refuse an option name they do not know; append refuses text with nothing visible", async () => {
    const memory = memories.open("procedures-input", { writes: "sync", embeddings: new HashEmbeddings() });
    const procedures = new Procedures(memory);
    const blocks = new CoreBlocks(memory);
    const scope = { userId: "uma" };
    const kept = await procedures.learn("Answer in French.", scope);
    await blocks.append(scope, "human", "Name: Uma.");

    expect(await codeOf(procedures.learn("Answer in Spanish.", { ...scope, expiresIn: 60_000 } as never))).toBe("INVALID_OPTIONS");
    expect(await codeOf(procedures.list({ ...scope, agent_id: "a1" } as never))).toBe("INVALID_OPTIONS");
    expect(await codeOf(procedures.retire(kept.id, { ...scope, thread_id: "t" } as never))).toBe("INVALID_OPTIONS");
    expect(await codeOf(blocks.append(scope, "human", "\u0000\u0000"))).toBe("INVALID_CONTENT");

    expect((await procedures.list(scope)).map((record) => record.content)).toEqual(["Answer in French."]);
    expect((await blocks.get(scope, "human")).value).toBe("Name: Uma.");
  });
});
