import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { startChromaProxy } from "../tests/chroma_proxy.js";
import { testMemories } from "../tests/memories.js";
import { startInspector, type Inspector } from "./server.js";
import { TOKEN_HEADER } from "./security.js";

const memories = testMemories();
let inspector: Inspector;
let id: string;
let other: string;

beforeAll(async () => {
  // The app's write is queued in the data folder's outbox: its store was unreachable (a proxy
  // already stopped), and it closed before any drain could apply it.
  const gone = await startChromaProxy(memories.chroma.server.url);
  await gone.close();
  const app = memories.open("app", { writes: "background", chroma: { url: gone.url } });
  const { results } = await app.add("Alice's spare key is under the blue pot", { userId: "alice" });
  id = results[0]!.id;
  other = (await app.add("Bob's bike lock code is 0420", { userId: "bob" })).results[0]!.id;
  await app.close();
  inspector = await startInspector({ dataDir: join(memories.chroma.dir, "app"), chromaUrl: memories.chroma.server.url, embeddings: memories.embeddings });
});

afterAll(async () => {
  await inspector?.close();
});

describe("engram ui: a memory still queued in the app's outbox", () => {
  it("is shown with its history on its first visit (the visit applies the queue first)", async () => {
    const response = await fetch(`${inspector.origin}/api/users/alice/memories/${encodeURIComponent(id)}`, { headers: { [TOKEN_HEADER]: inspector.token } });
    const body = (await response.json()) as { record: { content: string } | null; history: Array<{ event: string }> };
    // Before: the record was read before the history call drained the queue: null beside an ADD.
    expect(body.history.map((entry) => entry.event)).toEqual(["ADD"]);
    expect(body.record?.content).toBe("Alice's spare key is under the blue pot");
  });

  it("is shown on its page too, not as deleted", async () => {
    const page = await (await fetch(`${inspector.origin}/users/bob/memories/${encodeURIComponent(other)}`, { headers: { [TOKEN_HEADER]: inspector.token } })).text();
    expect(page).toContain("Bob&#39;s bike lock code is 0420");
    expect(page).not.toContain('id="gone"');
  });
});
