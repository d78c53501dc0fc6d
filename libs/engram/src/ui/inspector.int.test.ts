import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { request } from "node:http";
import { networkInterfaces } from "node:os";
import { connect } from "node:net";
import { startSeededInspectors, type InspectorFixture } from "../tests/inspector_fixture.js";
import { testMemories } from "../tests/memories.js";
import type { Inspector } from "./server.js";
import { TOKEN_HEADER } from "./security.js";

const memories = testMemories();
const NOW = Date.UTC(2026, 5, 1, 12);
let fixture: InspectorFixture;
let readOnly: Inspector;
let editable: Inspector;

beforeAll(async () => {
  ({ fixture, readOnly, editable } = await startSeededInspectors(memories, NOW));
});

afterAll(async () => {
  await readOnly?.close();
  await editable?.close();
});

/** Every route the inspector serves (and one it does not), with a method and a body. */
function routes(): Array<{ method: string; path: string; body?: unknown }> {
  const id = encodeURIComponent(fixture.ids.miso);
  return [
    { method: "GET", path: "/" },
    { method: "GET", path: "/users/alice" },
    { method: "GET", path: "/users/alice/search?q=cat" },
    { method: "GET", path: "/users/alice/search/results?q=cat" },
    { method: "GET", path: `/users/alice/memories/${id}` },
    { method: "GET", path: "/api/users" },
    { method: "GET", path: "/api/usage" },
    { method: "GET", path: "/api/users/alice/memories" },
    { method: "GET", path: `/api/users/alice/memories/${id}` },
    { method: "GET", path: "/api/users/alice/search?q=cat" },
    { method: "PATCH", path: `/api/users/alice/memories/${id}`, body: { importance: 0.1 } },
    { method: "DELETE", path: `/api/users/alice/memories/${id}` },
    { method: "POST", path: "/api/users/alice/erase", body: { confirm: "alice" } },
    { method: "GET", path: "/no-such-page" },
  ];
}

const send = (inspector: Inspector, method: string, path: string, init: { headers?: Record<string, string>; body?: unknown } = {}) =>
  fetch(`${inspector.origin}${path}`, {
    method,
    redirect: "manual",
    headers: { "content-type": "application/json", ...init.headers },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });

/** The fields the tests read from the API's answers. */
interface Body {
  matching: number;
  page: number;
  pages: number;
  records: Array<{ id: string; importance: number }>;
  results: Array<{ id: string; scoreParts: Record<string, number> }>;
  weights: Record<string, number>;
  record: { content: string; importance: number } | null;
  history: Array<{ event: string }>;
  users: Array<{ userId: string }>;
  error: { code: string; message: string };
}

async function read(response: Response | Promise<Response>): Promise<Body> {
  return (await (await response).json()) as Body;
}

const withToken = (inspector: Inspector, extra: Record<string, string> = {}) => ({ [TOKEN_HEADER]: inspector.token, ...extra });

/** A raw HTTP request with a chosen Host header (fetch does not let a caller set it). */
function rawGet(inspector: Inspector, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: inspector.port, path, method: "GET", headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("engram ui: security", () => {
  it("answers 401 to every route without the token, or with a wrong one, and changes nothing", async () => {
    for (const inspector of [readOnly, editable]) {
      for (const route of routes()) {
        const none = await send(inspector, route.method, route.path, { body: route.body });
        expect([route.method, route.path, none.status]).toEqual([route.method, route.path, 401]);
        const wrong = await send(inspector, route.method, route.path, { body: route.body, headers: { [TOKEN_HEADER]: "x".repeat(43), cookie: `${inspector.cookieName}=nope` } });
        expect([route.method, route.path, wrong.status]).toEqual([route.method, route.path, 401]);
      }
    }
    const page = await send(readOnly, "GET", "/api/users/alice/memories?size=500", { headers: withToken(readOnly) });
    expect((await read(page)).matching).toBe(18);
  });

  it("takes the token once from the URL, then from an HttpOnly SameSite=Strict cookie", async () => {
    expect(readOnly.url).toBe(`${readOnly.origin}/?token=${readOnly.token}`);
    const first = await send(readOnly, "GET", `/users/alice?kind=fact&token=${readOnly.token}`);
    expect(first.status).toBe(303);
    expect(first.headers.get("location")).toBe("/users/alice?kind=fact");
    // The redirect stays on this server, whatever the path (it was "//evil.example/": another host).
    const rooted = await send(readOnly, "GET", `//evil.example/?token=${readOnly.token}`);
    expect([rooted.status, rooted.headers.get("location")]).toEqual([303, "/evil.example/"]);
    const cookie = first.headers.get("set-cookie")!;
    expect(cookie).toContain(`${readOnly.cookieName}=${readOnly.token}`);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    const next = await send(readOnly, "GET", "/users/alice?kind=fact", { headers: { cookie: cookie.split(";")[0]! } });
    expect(next.status).toBe(200);
    expect(next.headers.get("content-security-policy")).toContain("script-src 'nonce-");
    const body = await next.text();
    expect(body).toContain("Alice moved to Lisbon");
    expect(body).not.toContain("My cat Miso"); // filtered to facts
  });

  it("refuses a change from another origin, or carried by the cookie alone, even with --allow-edit", async () => {
    const id = encodeURIComponent(fixture.ids.coffee);
    const path = `/api/users/alice/memories/${id}`;
    const cookie = `${editable.cookieName}=${editable.token}`;
    const attempts = [
      { headers: withToken(editable, { origin: "http://evil.example" }) },
      { headers: withToken(editable, { origin: `http://127.0.0.1:${editable.port + 1}` }) },
      { headers: withToken(editable, { "sec-fetch-site": "cross-site" }) },
      { headers: withToken(editable, { "sec-fetch-site": "same-site" }) },
      { headers: { cookie, origin: editable.origin } },
    ];
    for (const attempt of attempts) {
      const response = await send(editable, "PATCH", path, { ...attempt, body: { content: "hacked" } });
      expect(response.status).toBe(403);
    }
    const record = await read(send(editable, "GET", path, { headers: withToken(editable) }));
    expect(record.record!.content).toBe("I switched to decaf coffee after the doctor's advice");
    expect(record.history.map((entry: { event: string }) => entry.event)).toEqual(["ADD"]);
  });

  it("refuses every change without --allow-edit", async () => {
    const id = encodeURIComponent(fixture.ids.coffee);
    const headers = withToken(readOnly, { origin: readOnly.origin, "sec-fetch-site": "same-origin" });
    const patch = await send(readOnly, "PATCH", `/api/users/alice/memories/${id}`, { headers, body: { content: "changed" } });
    expect(patch.status).toBe(403);
    expect((await read(patch)).error.message).toContain("--allow-edit");
    expect((await send(readOnly, "DELETE", `/api/users/alice/memories/${id}`, { headers })).status).toBe(403);
    expect((await send(readOnly, "POST", "/api/users/bob/erase", { headers, body: { confirm: "bob" } })).status).toBe(403);
    const users = await read(send(readOnly, "GET", "/api/users", { headers: withToken(readOnly) }));
    expect(users.users.map((user: { userId: string }) => user.userId).sort()).toEqual(["alice", "bob"]);
  });

  it("answers only to its own host name (no DNS rebinding) and binds 127.0.0.1 by default", async () => {
    expect(readOnly.host).toBe("127.0.0.1");
    expect(await rawGet(readOnly, "/api/users", { host: `evil.example:${readOnly.port}`, [TOKEN_HEADER]: readOnly.token })).toBe(403);
    expect(await rawGet(readOnly, "/api/users", { host: `localhost:${readOnly.port}`, [TOKEN_HEADER]: readOnly.token })).toBe(200);
    // Not reachable on any other address of this machine.
    const external = Object.values(networkInterfaces())
      .flat()
      .find((address) => address && address.family === "IPv4" && !address.internal);
    if (external) {
      const refused = await new Promise<boolean>((resolve) => {
        const socket = connect({ host: external.address, port: readOnly.port });
        socket.once("connect", () => (socket.destroy(), resolve(false)));
        socket.once("error", () => resolve(true));
      });
      expect(refused).toBe(true);
    }
  });
});

describe("engram ui: JSON API", () => {
  it("validates input with zod (400, nothing written)", async () => {
    const headers = withToken(editable, { origin: editable.origin });
    const id = encodeURIComponent(fixture.ids.lisbon);
    expect((await send(editable, "GET", "/api/users/alice/memories?size=100000", { headers })).status).toBe(400);
    expect((await send(editable, "GET", "/api/users/alice/memories?sort=random", { headers })).status).toBe(400);
    expect((await send(editable, "GET", "/api/users/alice/search?q=cat&lexical=-1", { headers })).status).toBe(400);
    expect((await send(editable, "GET", "/api/users/alice/search", { headers })).status).toBe(400);
    for (const body of [{ importance: 2 }, {}, { content: "x", extra: 1 }, "nope"]) {
      const response = await send(editable, "PATCH", `/api/users/alice/memories/${id}`, { headers, body });
      expect(response.status).toBe(400);
      expect((await read(response)).error.code).toBe("INVALID_INPUT");
    }
    // Within the schema's bound but over Memory's content limit: refused by Memory, still a 400 (was a 500).
    const long = await send(editable, "PATCH", `/api/users/alice/memories/${id}`, { headers, body: { content: "long ".repeat(2_000) } });
    expect([long.status, (await read(long)).error.code]).toEqual([400, "CONTENT_TOO_LARGE"]);
    const erase = await send(editable, "POST", "/api/users/bob/erase", { headers, body: { confirm: "bobby" } });
    expect(erase.status).toBe(400);
    const record = await read(send(editable, "GET", `/api/users/alice/memories/${id}`, { headers }));
    expect(record.history).toHaveLength(1);
  });

  it("pages, filters and sorts a user's memories", async () => {
    const headers = withToken(readOnly);
    const first = await read(send(readOnly, "GET", "/api/users/alice/memories?size=5&sort=importance", { headers }));
    expect(first).toMatchObject({ matching: 18, page: 1, pages: 4 });
    expect(first.records[0]!.id).toBe(fixture.ids.promotion);
    const importances = first.records.map((record: { importance: number }) => record.importance);
    expect(importances).toEqual([...importances].sort((a, b) => b - a));
    const facts = await read(send(readOnly, "GET", "/api/users/alice/memories?kind=fact&sort=oldest", { headers }));
    expect(facts.records.map((record: { id: string }) => record.id)).toEqual([fixture.ids.oldTea, fixture.ids.lisbon]);
    const thread = await read(send(readOnly, "GET", "/api/users/alice/memories?thread=t-home&text=DECAF", { headers }));
    expect(thread.records.map((record: { id: string }) => record.id)).toEqual([fixture.ids.coffee]);
    const last = await read(send(readOnly, "GET", "/api/users/alice/memories?size=5&page=4", { headers }));
    expect(last.records).toHaveLength(3);
  });

  it("searches with per-call ranker weights: importance alone orders by importance", async () => {
    const headers = withToken(readOnly);
    const semantic = await read(send(readOnly, "GET", "/api/users/alice/search?q=my%20cat%20Miso&limit=5", { headers }));
    expect(semantic.results[0]!.id).toBe(fixture.ids.miso);
    expect(Object.keys(semantic.results[0]!.scoreParts).sort()).toEqual(["importance", "lexical", "neighbour", "recency", "relevance"]);
    const byImportance = await read(
      send(readOnly, "GET", "/api/users/alice/search?q=my%20cat%20Miso&limit=5&relevance=0&lexical=0&recency=0&neighbour=0&importance=1", { headers }),
    );
    expect(byImportance.weights).toEqual({ relevance: 0, lexical: 0, recency: 0, importance: 1, neighbour: 0 });
    expect(byImportance.results[0]!.id).toBe(fixture.ids.promotion);
  });

  it("edits, deletes and erases through Memory: history and counts follow", async () => {
    const headers = withToken(editable, { origin: editable.origin, "sec-fetch-site": "same-origin" });
    const id = encodeURIComponent(fixture.ids.oldTea);
    const patched = await send(editable, "PATCH", `/api/users/alice/memories/${id}`, { headers, body: { content: "Alice drinks green tea on Sundays", importance: 0.3 } });
    expect(patched.status).toBe(200);
    const afterEdit = await read(send(editable, "GET", `/api/users/alice/memories/${id}`, { headers }));
    expect(afterEdit.record).toMatchObject({ content: "Alice drinks green tea on Sundays", importance: 0.3 });
    expect(afterEdit.history.map((entry: { event: string }) => entry.event)).toEqual(["ADD", "UPDATE"]);
    // Search sees the new content: the edit re-embedded the record and updated the recall index.
    const found = await read(send(editable, "GET", "/api/users/alice/search?q=tea%20on%20Sundays&limit=1", { headers }));
    expect(found.results[0]!.id).toBe(fixture.ids.oldTea);

    expect((await send(editable, "DELETE", `/api/users/alice/memories/${id}`, { headers })).status).toBe(200);
    const afterDelete = await read(send(editable, "GET", `/api/users/alice/memories/${id}`, { headers }));
    expect(afterDelete.record).toBeNull();
    expect(afterDelete.history.map((entry: { event: string }) => entry.event)).toEqual(["ADD", "UPDATE", "DELETE"]);
    // The other inspector (another Memory on the same folder) sees the change on its next read.
    const page = await read(send(readOnly, "GET", "/api/users/alice/memories?kind=fact", { headers: withToken(readOnly) }));
    expect(page.records.map((record: { id: string }) => record.id)).toEqual([fixture.ids.lisbon]);

    const erased = await send(editable, "POST", "/api/users/bob/erase", { headers, body: { confirm: "bob" } });
    expect(await read(erased)).toMatchObject({ deleted: 1, history: 1, pending: 0 });
    const users = await read(send(editable, "GET", "/api/users", { headers }));
    expect(users.users.map((user: { userId: string }) => user.userId)).toEqual(["alice"]);
  });
});
