import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { quickstart } from "./quickstart.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "engram-quickstart-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

it("the documented quickstart runs on the embedded default and recalls only alice's memories", async () => {
  // The embedded default, in a temporary data folder: a real local Chroma server, local embeddings.
  const memories = await quickstart({ dataDir: dir });
  expect(memories[0]?.content).toBe("User prefers Python for data science");
  expect(memories.every((m) => m.scope.userId === "alice")).toBe(true);
  expect(memories.map((m) => m.content)).not.toContain("Bob's favourite language is Go");
});
