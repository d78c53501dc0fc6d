import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Database from "better-sqlite3";
import { isEngramError } from "../../core/errors.js";
import { databaseFile, openDatabase } from "./database.js";
import { SqliteHistory } from "./history.js";
import { SqliteOutbox } from "./outbox.js";

interface Write {
  op: "upsert" | "delete";
  id: string;
  content?: string;
}

let dir: string;
const open: Database.Database[] = [];

function openDb(): Database.Database {
  const db = openDatabase(databaseFile(dir));
  open.push(db);
  return db;
}

function upsert(userId: string, id: string, content: string): { userId: string; key: string; payload: Write } {
  return { userId, key: `upsert:${id}`, payload: { op: "upsert", id, content } };
}

async function caught(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

function handle(db: Database.Database, clock: () => number = Date.now): { db: () => Database.Database; clock: () => number } {
  return { db: () => db, clock };
}

function outboxOf<T>(db: Database.Database, clock?: () => number): SqliteOutbox<T> {
  return new SqliteOutbox<T>(handle(db, clock), new SqliteHistory(handle(db, clock)));
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "engram-outbox-"));
});

afterEach(async () => {
  for (const db of open.splice(0)) if (db.open) db.close();
  await rm(dir, { recursive: true, force: true });
});

describe("SqliteOutbox", () => {
  it("creates its table lazily, on first use rather than in the constructor", async () => {
    const db = openDb();
    const outbox = outboxOf<Write>(db);
    const tables = () => db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'outbox'").all();
    expect(tables()).toHaveLength(0);
    expect(await outbox.size()).toBe(0);
    expect(tables()).toHaveLength(1);
  });

  it("returns increasing seqs and pending writes oldest first, with their payloads", async () => {
    let now = 500;
    const outbox = outboxOf<Write>(openDb(), () => (now += 10));
    const first = await outbox.enqueue([upsert("u1", "a", "A"), upsert("u2", "b", "B")]);
    const second = await outbox.enqueue([{ userId: "u1", key: "delete:c", payload: { op: "delete", id: "c" } }]);
    const seqs = [...first, ...second];
    expect(seqs).toHaveLength(3);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(3);

    const pending = await outbox.pending();
    expect(pending.map((p) => p.seq)).toEqual(seqs);
    expect(pending.map((p) => p.payload)).toEqual([
      { op: "upsert", id: "a", content: "A" },
      { op: "upsert", id: "b", content: "B" },
      { op: "delete", id: "c" },
    ]);
    expect(pending.map((p) => p.createdAt)).toEqual([510, 510, 520]);
    expect(pending.every((p) => p.attempts === 0 && p.lastError === null)).toBe(true);
  });

  it("filters by user and limits, still oldest first", async () => {
    const outbox = outboxOf<Write>(openDb());
    await outbox.enqueue([upsert("u1", "a", "1"), upsert("u2", "b", "2"), upsert("u1", "c", "3"), upsert("u1", "d", "4")]);

    expect((await outbox.pending({ userId: "u1" })).map((p) => p.payload.id)).toEqual(["a", "c", "d"]);
    expect((await outbox.pending({ userId: "u2" })).map((p) => p.userId)).toEqual(["u2"]);
    expect((await outbox.pending({ userId: "u1", limit: 2 })).map((p) => p.payload.id)).toEqual(["a", "c"]);
    expect((await outbox.pending({ limit: 3 })).map((p) => p.payload.id)).toEqual(["a", "b", "c"]);
    expect(await outbox.pending({ limit: 0 })).toEqual([]);
    expect(await outbox.pending({ userId: "nobody" })).toEqual([]);
    expect(isEngramError(await caught(() => outbox.pending({ limit: -1 })), "INVALID_OPTIONS")).toBe(true);
    expect(isEngramError(await caught(() => outbox.pending({ limit: 1.5 })), "INVALID_OPTIONS")).toBe(true);
  });

  it("replaces a pending write of the same user and key with the latest one, moved to the back", async () => {
    const outbox = outboxOf<Write>(openDb());
    const [oldA] = await outbox.enqueue([upsert("u1", "a", "v1")]);
    const [b] = await outbox.enqueue([upsert("u1", "b", "B")]);
    const [otherUser] = await outbox.enqueue([upsert("u2", "a", "u2's")]);
    const [newA] = await outbox.enqueue([upsert("u1", "a", "v2")]);

    expect(newA).toBeGreaterThan(otherUser!);
    expect(await outbox.size("u1")).toBe(2);
    const pending = await outbox.pending();
    expect(pending.map((p) => p.seq)).toEqual([b, otherUser, newA]);
    expect(pending.map((p) => [p.userId, p.key, p.payload.content])).toEqual([
      ["u1", "upsert:b", "B"],
      ["u2", "upsert:a", "u2's"],
      ["u1", "upsert:a", "v2"],
    ]);
    expect(pending.some((p) => p.seq === oldA)).toBe(false);

    // A worker that applied v1 and completes its (superseded) seq must not drop v2.
    await outbox.complete([oldA!]);
    expect((await outbox.pending({ userId: "u1" })).map((p) => p.payload.content)).toEqual(["B", "v2"]);
  });

  it("keeps only the last of duplicate keys within one batch, and resets attempts on replacement", async () => {
    const outbox = outboxOf<Write>(openDb());
    const [a1] = await outbox.enqueue([upsert("u1", "a", "v1")]);
    await outbox.fail([a1!], "down");
    await outbox.enqueue([upsert("u1", "a", "v2"), upsert("u1", "x", "X"), upsert("u1", "a", "v3")]);

    const pending = await outbox.pending();
    expect(pending.map((p) => p.payload.content)).toEqual(["X", "v3"]);
    expect(pending.map((p) => p.attempts)).toEqual([0, 0]);
  });

  it("complete() removes exactly the given seqs and returns those it removed (a second drainer gets none)", async () => {
    const outbox = outboxOf<Write>(openDb());
    const seqs = await outbox.enqueue([upsert("u1", "a", "1"), upsert("u1", "b", "2"), upsert("u2", "c", "3")]);
    expect((await outbox.complete([seqs[0]!, seqs[2]!, 99_999])).sort()).toEqual([seqs[0], seqs[2]].sort());
    expect((await outbox.pending()).map((p) => p.seq)).toEqual([seqs[1]]);
    expect(await outbox.complete([seqs[0]!])).toEqual([]);
    expect(await outbox.complete([])).toEqual([]);
    expect(await outbox.size()).toBe(1);
  });

  it("fail() increments attempts and records the last error, only for the given seqs", async () => {
    const outbox = outboxOf<Write>(openDb());
    const [a, b] = await outbox.enqueue([upsert("u1", "a", "1"), upsert("u1", "b", "2")]);
    await outbox.fail([a!], "timeout");
    await outbox.fail([a!, b!], "connection refused");
    await outbox.fail([a!], "store unavailable");

    const bySeq = new Map((await outbox.pending()).map((p) => [p.seq, p]));
    expect(bySeq.get(a!)).toMatchObject({ attempts: 3, lastError: "store unavailable" });
    expect(bySeq.get(b!)).toMatchObject({ attempts: 1, lastError: "connection refused" });
    // Failing does not reorder or drop anything.
    expect([...bySeq.keys()]).toEqual([a, b]);
  });

  it("size() and deleteUser() are per user", async () => {
    const outbox = outboxOf<Write>(openDb());
    await outbox.enqueue([upsert("alice", "a", "1"), upsert("bob", "b", "2"), upsert("alice", "c", "3")]);
    expect(await outbox.size()).toBe(3);
    expect(await outbox.size("alice")).toBe(2);
    expect(await outbox.size("bob")).toBe(1);

    expect(await outbox.deleteUser("alice")).toBe(2);
    expect(await outbox.size("alice")).toBe(0);
    expect((await outbox.pending()).map((p) => [p.userId, p.payload.id])).toEqual([["bob", "b"]]);
    expect(await outbox.deleteUser("alice")).toBe(0);
  });

  it("enqueues all or nothing: a non-JSON payload fails the whole batch", async () => {
    const outbox = outboxOf<unknown>(openDb());
    await outbox.enqueue([{ userId: "u1", key: "k0", payload: { keep: true } }]);
    const error = await caught(async () =>
      await outbox.enqueue([
        { userId: "u1", key: "k0", payload: { replaced: true } },
        { userId: "u1", key: "k2", payload: { n: 10n } },
      ]),
    );
    expect(isEngramError(error, "OUTBOX_ERROR")).toBe(true);
    expect((await outbox.pending()).map((p) => p.payload)).toEqual([{ keep: true }]);
  });

  it("keeps pending writes, attempts and errors across closing and reopening the file", async () => {
    const db = openDb();
    const outbox = outboxOf<Write>(db);
    const [a, b, c] = await outbox.enqueue([upsert("u1", "a", "1"), upsert("u2", "b", "2"), upsert("u1", "c", "3")]);
    await outbox.fail([b!], "offline");
    await outbox.complete([c!]);
    const before = await outbox.pending();
    db.close();

    const reopened = outboxOf<Write>(openDb());
    const after = await reopened.pending();
    expect(after).toEqual(before);
    expect(after.map((p) => p.seq)).toEqual([a, b]);
    expect(after[1]).toMatchObject({ attempts: 1, lastError: "offline" });

    // Completed seqs are never handed out again, even after a reopen.
    const [d] = await reopened.enqueue([upsert("u1", "d", "4")]);
    expect(d).toBeGreaterThan(c!);
  });

  it("shares the database file with the history log", async () => {
    const db = openDb();
    const outbox = outboxOf<Write>(db);
    const history = new SqliteHistory(handle(db));
    await outbox.enqueue([upsert("u1", "a", "1")]);
    await history.record([
      { memoryId: "a", userId: "u1", event: "ADD", oldContent: null, newContent: "1", reason: "add" },
    ]);
    db.close();

    const again = openDb();
    expect(await outboxOf<Write>(again).size("u1")).toBe(1);
    expect(await new SqliteHistory(handle(again)).countUser("u1")).toBe(1);
  });

  it("throws CLOSED once the database is closed", async () => {
    const db = openDb();
    const outbox = outboxOf<Write>(db);
    const [seq] = await outbox.enqueue([upsert("u1", "a", "1")]);
    db.close();
    for (const call of [
      () => outbox.enqueue([upsert("u1", "b", "2")]),
      () => outbox.pending(),
      () => outbox.complete([seq!]),
      () => outbox.fail([seq!], "x"),
      () => outbox.size(),
      () => outbox.deleteUser("u1"),
    ]) {
      expect(isEngramError(await caught(call), "CLOSED")).toBe(true);
    }
  });
});
