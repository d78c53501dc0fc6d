import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { startChromaProxy, type ChromaProxy } from "../tests/chroma_proxy.js";
import { testMemories } from "../tests/memories.js";
import { startInspector, type Inspector } from "./server.js";
import { TOKEN_HEADER } from "./security.js";

const memories = testMemories();
let proxy: ChromaProxy;
let inspector: Inspector;
const logged: string[] = [];

beforeAll(async () => {
  // The inspector reaches Chroma through a proxy the test stops: the server itself stays up for
  // the suite's clean-up.
  proxy = await startChromaProxy(memories.chroma.server.url);
  const app = memories.open("app", { writes: "sync" });
  await app.add("Alice waters the plants on Mondays", { userId: "alice" });
  await app.add("Bob asked to be forgotten", { userId: "bob" });
  await app.close();
  inspector = await startInspector({
    dataDir: join(memories.chroma.dir, "app"),
    chromaUrl: proxy.url,
    embeddings: memories.embeddings,
    log: (message) => void logged.push(message),
  });
});

afterAll(async () => {
  await inspector?.close();
  await proxy?.close();
});

describe("engram ui while the app erases a user", () => {
  it("lists the other users when a user's collection goes away under the users page", async () => {
    // The users page lists the collections, then reads each one's first record: hold those reads
    // until the app has erased bob (his collection deleted). Before: a 500 (collection not found).
    const reads = proxy.hold((request) => request.method === "POST" && request.path.endsWith("/get") && request.body.includes('"limit":1'));
    const page = fetch(`${inspector.origin}/api/users`, { headers: { [TOKEN_HEADER]: inspector.token } });
    await reads.arrived;
    const app = memories.open("app", { writes: "sync" });
    await app.deleteAll({ userId: "bob" });
    await app.close();
    reads.release();
    const response = await page;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { users: Array<{ userId: string }> }).users.map((user) => user.userId)).toEqual(["alice"]);
  });
});

describe("engram ui while Chroma is unreachable", () => {
  it("answers every page with a typed 503, the users page too (no 500, no stack in the terminal)", async () => {
    const get = (path: string) => fetch(`${inspector.origin}${path}`, { headers: { [TOKEN_HEADER]: inspector.token } });
    expect((await get("/api/users")).status).toBe(200);
    await proxy.close();
    // Before: the users page and /api/users failed with 500 INTERNAL and a ChromaConnectionError's stack.
    for (const path of ["/", "/api/users", "/users/alice", "/api/users/alice/memories"]) {
      const response = await get(path);
      const body = (await response.json()) as { error: { code: string } };
      expect([path, response.status, body.error.code]).toEqual([path, 503, "STORE_UNAVAILABLE"]);
    }
    expect(logged).toEqual([]);
  });
});
