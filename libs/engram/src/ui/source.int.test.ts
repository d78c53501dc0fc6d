import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { testMemories } from "../tests/memories.js";
import { startInspector, type Inspector } from "./server.js";
import { TOKEN_HEADER } from "./security.js";

const memories = testMemories();
let inspector: Inspector;

beforeAll(async () => {
  inspector = await startInspector({ dataDir: join(memories.chroma.dir, "app"), chromaUrl: memories.chroma.server.url, embeddings: memories.embeddings });
});

afterAll(async () => {
  await inspector?.close();
});

async function page(userId: string): Promise<Array<{ id: string; content: string }>> {
  const response = await fetch(`${inspector.origin}/api/users/${userId}/memories`, { headers: { [TOKEN_HEADER]: inspector.token } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { records: Array<{ id: string; content: string }> }).records;
}

describe("engram ui: the records cache follows the store's revision", () => {
  it("shows an update made through another data folder sharing the server (whose history this folder never sees)", async () => {
    const app = memories.open("app", { writes: "sync" });
    const { results } = await app.add(
      [
        { role: "user", content: "My cat is called Miso." },
        { role: "user", content: "I live in Lisbon." },
      ],
      { userId: "alice" },
    );
    const miso = results.find((record) => record.content.includes("Miso"))!;
    expect((await page("alice")).map((record) => record.content).sort()).toEqual(["I live in Lisbon.", "My cat is called Miso."]);

    // Same record count, and no entry in the app folder's history: only the revision moves.
    const worker = memories.open("worker", { writes: "sync" });
    await worker.update(miso.id, "My cat is called Tofu.", { userId: "alice" });
    expect((await page("alice")).map((record) => record.content).sort()).toEqual(["I live in Lisbon.", "My cat is called Tofu."]);

    // A delete plus an add (same count again) from the other folder.
    const lisbon = results.find((record) => record.content.includes("Lisbon"))!;
    await worker.delete(lisbon.id, { userId: "alice" });
    await worker.add("I moved to Porto.", { userId: "alice" });
    expect((await page("alice")).map((record) => record.content).sort()).toEqual(["I moved to Porto.", "My cat is called Tofu."]);

    // An erase by the other folder, then as many records again: nothing of before is shown.
    await worker.deleteAll({ userId: "alice" });
    await worker.add(["First new memory.", "Second new memory."].map((content) => ({ role: "user", content })), { userId: "alice" });
    expect((await page("alice")).map((record) => record.content).sort()).toEqual(["First new memory.", "Second new memory."]);
  });
});
