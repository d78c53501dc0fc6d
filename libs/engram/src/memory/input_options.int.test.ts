import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import Database from "better-sqlite3";
import { EngramError, type EngramErrorCode } from "../core/errors.js";
import { startTestChroma, type TestChroma } from "../tests/chroma.js";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { Memory } from "./memory.js";

/**
 * Inputs that used to be accepted and then did something else than asked: an option name with a
 * typo ignored (an `expiresIn` memory kept for ever, a `deleteAll` with `thread_id` erasing the
 * whole user), metadata a Map or a Date (read as `{}`, its data dropped), a `__proto__` metadata
 * key (dropped from the record, and a filter on it matched every record), a getter that throws
 * (a bare Error with no code), a time a Date cannot hold (stored, its dates "NaN-NaN-NaN"). Each is
 * now an EngramError with a code, and nothing is written: no record, no history, no queued write.
 */

type Call = (m: Memory) => Promise<unknown>;

const U = { userId: "ines" };
const boom = (): never => {
  throw new Error("getter failed");
};
const throwing = (): Record<string, unknown> =>
  Object.defineProperty({}, "topic", {
    enumerable: true,
    get: boom,
  });
const proxy = (): object =>
  new Proxy(
    {},
    {
      ownKeys() {
        throw new Error("trap failed");
      },
    },
  );
const protoKey = (): Record<string, string> => JSON.parse('{"__proto__":"no such topic"}') as Record<string, string>;

/** What every refused call is, with its code; `id` is a stored memory of the user. */
function cases(id: string): Array<[string, Call, EngramErrorCode]> {
  return [
    // Option names Memory does not know: refused, as search and addMany's items refuse them.
    ["add({ expiresIn })", (m) => m.add("I am in Lisbon this week", { ...U, expiresIn: 60_000 } as never), "INVALID_OPTIONS"],
    ["add({ metdata })", (m) => m.add("I am in Lisbon this week", { ...U, metdata: { topic: "travel" } } as never), "INVALID_OPTIONS"],
    ["deleteAll({ thread_id })", (m) => m.deleteAll({ ...U, thread_id: "chat-1" } as never), "INVALID_OPTIONS"],
    ["delete({ agent_id })", (m) => m.delete(id, { ...U, agent_id: "a1" } as never), "INVALID_OPTIONS"],
    ["update({ ttl })", (m) => m.update(id, "I am in Porto", { ...U, ttl: 5 } as never), "INVALID_OPTIONS"],
    ["get({ kind })", (m) => m.get(id, { ...U, kind: "fact" } as never), "INVALID_OPTIONS"],
    ["history({ limit })", (m) => m.history(id, { ...U, limit: 1 } as never), "INVALID_OPTIONS"],
    ["endSession({ mesages })", (m) => m.endSession({ ...U, threadId: "chat-1", mesages: [] } as never), "INVALID_OPTIONS"],
    ["forget({ maxRecord })", (m) => m.forget({ ...U, maxRecord: 0 } as never), "INVALID_OPTIONS"],
    // Metadata whose data is not in its own properties.
    ["add({ metadata: Map })", (m) => m.add("I like green tea", { ...U, metadata: new Map([["topic", "tea"]]) as never }), "INVALID_METADATA"],
    ["add({ metadata: Date })", (m) => m.add("I like green tea", { ...U, metadata: new Date() as never }), "INVALID_METADATA"],
    ["update({ metadata: Set })", (m) => m.update(id, { metadata: new Set(["tea"]) as never }, U), "INVALID_METADATA"],
    ["search({ filters: { metadata: Map } })", (m) => m.search("tea", { ...U, filters: { metadata: new Map([["topic", "x"]]) as never } }), "INVALID_METADATA"],
    // "__proto__": an assignment to it sets no key.
    ["add({ metadata: { __proto__ } })", (m) => m.add("I like green tea", { ...U, metadata: protoKey() }), "INVALID_METADATA"],
    ["update({ metadata: { __proto__ } })", (m) => m.update(id, { metadata: protoKey() }, U), "INVALID_METADATA"],
    ["search({ filters: { metadata: { __proto__ } } })", (m) => m.search("tea", { ...U, filters: { metadata: protoKey() } }), "INVALID_METADATA"],
    ["addMany([{ metadata: { __proto__ } }])", (m) => m.addMany([{ content: "I like green tea", metadata: protoKey() }], U), "INVALID_METADATA"],
    // Chroma drops "chroma:" keys from a row silently: the record lost them, a filter on one matched nothing.
    ["add({ metadata: { chroma:source } })", (m) => m.add("I like green tea", { ...U, metadata: { "chroma:source": "chat" } }), "INVALID_METADATA"],
    ["search({ filters: { metadata: { chroma:document } } })", (m) => m.search("tea", { ...U, filters: { metadata: { "chroma:document": "x" } } }), "INVALID_METADATA"],
    // A metadata key is an id: at most 256 characters (docs/memory.md, text safety).
    ["add({ metadata: { 257-character key } })", (m) => m.add("I like green tea", { ...U, metadata: { ["k".repeat(257)]: 1 } }), "INVALID_METADATA"],
    // Getters and Proxy traps that throw.
    ["add({ metadata: throwing getter })", (m) => m.add("I like green tea", { ...U, metadata: throwing() as never }), "INVALID_METADATA"],
    ["add({ metadata: Proxy })", (m) => m.add("I like green tea", { ...U, metadata: proxy() as never }), "INVALID_METADATA"],
    ["add(options with a throwing getter)", (m) => m.add("I like green tea", Object.defineProperty({ ...U }, "importance", { enumerable: true, get: boom }) as never), "INVALID_OPTIONS"],
    ["getAll(a Proxy)", (m) => m.getAll(proxy() as never), "INVALID_OPTIONS"],
    ["get(id, scope with a throwing userId)", (m) => m.get(id, Object.defineProperty({}, "userId", { get: boom }) as never), "INVALID_USER_ID"],
    // Times a Date cannot hold (beyond 8.64e15 ms either way).
    ["add({ createdAt: 1e20 })", (m) => m.add("I met Ana yesterday", { ...U, createdAt: 1e20 }), "INVALID_OPTIONS"],
    ["add({ expiresAt: -1e17 })", (m) => m.add("I met Ana yesterday", { ...U, expiresAt: -1e17 }), "INVALID_OPTIONS"],
    ["addMany([{ createdAt: 1e20 }])", (m) => m.addMany([{ content: "I met Ana yesterday", createdAt: 1e20 }], U), "INVALID_OPTIONS"],
    ["update({ expiresAt: 9e15 })", (m) => m.update(id, { expiresAt: 9e15 }, U), "INVALID_OPTIONS"],
    ["search({ filters: { createdAfter: 1e20 } })", (m) => m.search("tea", { ...U, filters: { createdAfter: 1e20 } }), "INVALID_OPTIONS"],
    // An expiry before the memory was said: seconds instead of milliseconds, or a duration.
    ["add({ expiresAt: in seconds })", (m) => m.add("My locker code is 4417", { ...U, expiresAt: Math.floor(Date.now() / 1000) + 3_600 }), "INVALID_OPTIONS"],
    ["add({ expiresAt: a duration })", (m) => m.add("My locker code is 4417", { ...U, expiresAt: 3_600_000 }), "INVALID_OPTIONS"],
    ["add({ createdAt, expiresAt before it })", (m) => m.add("My locker code is 4417", { ...U, createdAt: 1_700_000_000_000, expiresAt: 1_699_999_999_999 }), "INVALID_OPTIONS"],
    ["addMany([{ expiresAt: a duration }])", (m) => m.addMany([{ content: "My locker code is 4417", expiresAt: 86_400_000 }], U), "INVALID_OPTIONS"],
    ["update({ expiresAt: in seconds })", (m) => m.update(id, { expiresAt: Math.floor(Date.now() / 1000) }, U), "INVALID_OPTIONS"],
    // A hole of a sparse array is an item (undefined), not skipped; a role is at most a metadata string.
    // eslint-disable-next-line no-sparse-arrays
    ["addMany([hole, item])", (m) => m.addMany([, { content: "I like green tea" }] as never, U), "INVALID_OPTIONS"],
    ["add([{ role: 1,001 characters }])", (m) => m.add([{ role: "r".repeat(1_001), content: "I like green tea" }], U), "INVALID_CONTENT"],
    ["addMany([{ role: 1,001 characters }])", (m) => m.addMany([{ content: "I like green tea", role: "r".repeat(1_001) }], U), "INVALID_CONTENT"],
    // Message ids are ids, as source.threadId is.
    ["add({ source: { messageIds: [NUL] } })", (m) => m.add("I like green tea", { ...U, source: { messageIds: ["m\u00001"] } }), "INVALID_OPTIONS"],
  ];
}

/** Rows of the user in every table of the state that has them: what a refused call must not add. */
function stateRows(folder: string): Record<string, number> {
  const db = new Database(join(folder, "engram.sqlite"), { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((row) => row.name);
    const rows: Record<string, number> = {};
    for (const table of tables) {
      const columns = db.prepare<[], { name: string }>(`PRAGMA table_info(${table})`).all().map((column) => column.name);
      if (columns.includes("user_id")) rows[table] = db.prepare<[string], { n: number }>(`SELECT count(*) AS n FROM ${table} WHERE user_id = ?`).get(U.userId)!.n;
    }
    return rows;
  } finally {
    db.close();
  }
}

describe("options, metadata and times that did something else than asked", () => {
  let chroma: TestChroma;
  let memory: Memory;
  let folder: string;
  let id: string;

  beforeAll(async () => {
    chroma = await startTestChroma();
    folder = join(chroma.dir, "input-options");
    // Background writes: a call wrongly accepted leaves a queued write in the outbox.
    memory = new Memory({ embeddings: new HashEmbeddings(), chroma: { url: chroma.server.url }, prefix: "inputopts", dataDir: folder, writes: "background" });
    id = (await memory.add("I like green tea", { ...U, threadId: "chat-1", metadata: { topic: "tea" } })).results[0]!.id;
    await memory.add("I walk my dog at seven", { ...U, threadId: "chat-2" });
    await memory.flush();
  }, 600_000);

  afterAll(async () => {
    await memory?.close();
    await chroma?.stop();
  });

  it("each is an EngramError with its code, and nothing is written", async () => {
    const before = stateRows(folder);
    const outcomes: string[] = [];
    for (const [name, call, code] of cases(id)) {
      const outcome = await call(memory).then(
        (value) => `resolved ${JSON.stringify(value)?.slice(0, 80)}`,
        (error: unknown) => (error instanceof EngramError ? error.code : `${(error as Error).name}: ${(error as Error).message}`),
      );
      outcomes.push(`${name}: ${outcome === code ? "ok" : outcome}`);
    }
    expect(outcomes).toEqual(cases(id).map(([name]) => `${name}: ok`));
    // Nothing queued, nothing in history, no job; both memories as they were.
    expect(stateRows(folder)).toEqual(before);
    expect((await memory.flush()).applied).toBe(0);
    const all = await memory.getAll(U);
    expect(all.map((record) => record.content).sort()).toEqual(["I like green tea", "I walk my dog at seven"]);
    expect(all.find((record) => record.id === id)!.metadata).toEqual({ topic: "tea" });
    expect((await memory.history(id, U)).map((entry) => entry.event)).toEqual(["ADD"]);
  }, 600_000);

  it("a maxContentChars or clock a Memory cannot work with is refused when it is made", () => {
    const made = (options: Record<string, unknown>): string => {
      try {
        new Memory({ embeddings: new HashEmbeddings(), chroma: { url: chroma.server.url }, dataDir: join(chroma.dir, "never-opened"), ...options });
        return "made";
      } catch (error) {
        return error instanceof EngramError ? error.code : String(error);
      }
    };
    // NaN was no limit at all (no length is greater than NaN); 0 and 1 a limit every add failed on.
    for (const maxContentChars of [Number.NaN, 0, 1, 2.5, Infinity, 1e12, "8000"]) expect(`${String(maxContentChars)}: ${made({ maxContentChars })}`).toBe(`${String(maxContentChars)}: INVALID_OPTIONS`);
    expect(made({ clock: 1_700_000_000_000 })).toBe("INVALID_OPTIONS");
    expect(made({ maxContentChars: 2, clock: () => 0 })).toBe("made");
  });

  it("a thrown getter's error is the cause, and the names that are right still work", async () => {
    const error = await memory.add("x", { ...U, metadata: throwing() as never }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "INVALID_METADATA", message: "metadata could not be read: getter failed." });
    expect(((error as EngramError).cause as Error).message).toBe("getter failed");
    // The same calls with the right names are accepted.
    await expect(memory.get(id, { ...U, agentId: undefined })).resolves.toMatchObject({ id });
    await expect(memory.forget({ ...U, maxRecords: 10 })).resolves.toMatchObject({ evicted: 0 });
    await expect(memory.search("tea", { ...U, filters: { metadata: { topic: "tea" } } })).resolves.toHaveLength(1);
    const dated = await memory.add("I met Ana yesterday", { ...U, createdAt: new Date(8.64e15), expiresAt: 8.64e15 });
    expect(dated.results[0]!.createdAt).toBe(8.64e15);
    // An expiry at or after the memory's own time is kept, even one already past (old data imported).
    const imported = await memory.addMany([{ content: "My parking permit for last week", createdAt: 1_700_000_000_000, expiresAt: 1_700_000_000_000 }], U);
    expect(imported.results[0]!.expiresAt).toBe(1_700_000_000_000);
  }, 600_000);
});
