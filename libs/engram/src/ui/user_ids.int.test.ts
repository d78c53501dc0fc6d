import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { testMemories } from "../tests/memories.js";
import { startInspector, type Inspector } from "./server.js";
import { TOKEN_HEADER } from "./security.js";

const memories = testMemories();
let inspector: Inspector;

/** Two users whose ids differ only by a leading space: two users to `Memory`, never one. */
const SPACED = " alice";

beforeAll(async () => {
  const app = memories.open("app", { writes: "sync" });
  await app.add("Alice's locker code is 4411", { userId: "alice" });
  await app.add("Spaced alice prefers window seats", { userId: SPACED });
  await app.close();
  inspector = await startInspector({ dataDir: join(memories.chroma.dir, "app"), chromaUrl: memories.chroma.server.url, embeddings: memories.embeddings, allowEdit: true });
});

afterAll(async () => {
  await inspector?.close();
});

const send = (method: string, path: string, body?: unknown) =>
  fetch(`${inspector.origin}${path}`, {
    method,
    headers: { "content-type": "application/json", [TOKEN_HEADER]: inspector.token, origin: inspector.origin, "sec-fetch-site": "same-origin" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const contents = async (path: string): Promise<string[]> => {
  const body = (await (await send("GET", path)).json()) as { records: Array<{ content: string }> };
  return body.records.map((record) => record.content);
};

describe("engram ui: a user id is taken exactly as the store has it", () => {
  it("shows each user their own memories, and erases only the user whose page it is", async () => {
    const users = (await (await send("GET", "/api/users")).json()) as { users: Array<{ userId: string }> };
    expect(users.users.map((user) => user.userId).sort()).toEqual([SPACED, "alice"]);
    // Before: the path's id was trimmed, so " alice"'s page listed alice's memories...
    expect(await contents(`/api/users/${encodeURIComponent(SPACED)}/memories`)).toEqual(["Spaced alice prefers window seats"]);
    const page = await (await send("GET", `/users/${encodeURIComponent(SPACED)}`)).text();
    expect(page).toContain("Spaced alice prefers window seats");
    expect(page).not.toContain("locker code");
    // ...and its erase form, confirmed with the id the page showed, erased alice.
    const wrong = await send("POST", `/api/users/${encodeURIComponent(SPACED)}/erase`, { confirm: "alice" });
    expect(wrong.status).toBe(400);
    expect(await contents("/api/users/alice/memories")).toEqual(["Alice's locker code is 4411"]);
    const erased = await send("POST", `/api/users/${encodeURIComponent(SPACED)}/erase`, { confirm: SPACED });
    expect(erased.status).toBe(200);
    expect(await contents(`/api/users/${encodeURIComponent(SPACED)}/memories`)).toEqual([]);
    expect(await contents("/api/users/alice/memories")).toEqual(["Alice's locker code is 4411"]);
  });

  it("refuses a blank id with a typed 400, as Memory would", async () => {
    const blank = await send("GET", `/api/users/${encodeURIComponent("  ")}/memories`);
    expect(blank.status).toBe(400);
    expect(((await blank.json()) as { error: { code: string } }).error.code).toBe("INVALID_INPUT");
  });
});
