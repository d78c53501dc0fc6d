import { expect, it } from "@jest/globals";
import { quickstart } from "./quickstart.js";
import { suiteTempDir } from "./tests/temp_dir.js";

const dir = suiteTempDir("engram-quickstart-");

it("the documented quickstart runs on the embedded default and recalls only alice's memories", async () => {
  // The embedded default, in a temporary data folder: a real local Chroma server, local embeddings.
  const memories = await quickstart({ dataDir: dir.path });
  expect(memories[0]?.content).toBe("User prefers Python for data science");
  expect(memories.every((m) => m.scope.userId === "alice")).toBe(true);
  expect(memories.map((m) => m.content)).not.toContain("Bob's favourite language is Go");
});
