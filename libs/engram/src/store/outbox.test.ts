import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Database from "better-sqlite3";
import { isEngramError } from "../core/errors.js";
import { HistoryLog } from "./history.js";
import { Outbox } from "./outbox.js";
import { databaseFile, openDatabase } from "./sqlite.js";

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

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "engram-outbox-"));
});

afterEach(async () => {
  for (const db of open.splice(0)) if (db.open) db.close();
  await rm(dir, { recursive: true, force: true });
});

describe("Outbox", () => {
  it("creates its table lazily, on first use rather than in the constructor", () => {
    const db = openDb();
    const outbox = new Outbox<Write>({ db });
    const tables = () => db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'outbox'").all();
    expect(tables()).toHaveLength(0);
    expect(outbox.size()).toBe(0);
    expect(tables()).toHaveLength(1);
  });

  it("returns increasing seqs and pending writes oldest first, with their payloads", () => {
    let now = 500;
    const outbox = new Outbox<Write>({ db: openDb(), clock: () => (now += 10) });
    const first = outbox.enqueue([upsert("u1", "a", "A"), upsert("u2", "b", "B")]);
    const second = outbox.enqueue([{ userId: "u1", key: "delete:c", payload: { op: "delete", id: "c" } }]);
    const seqs = [...first, ...second];
    expect(seqs).toHaveLength(3);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(3);

    const pending = outbox.pending();
    expect(pending.map((p) => p.seq)).toEqual(seqs);
    expect(pending.map((p) => p.payload)).toEqual([
      { op: "upsert", id: "a", content: "A" },
      { op: "upsert", id: "b", content: "B" },
      { op: "delete", id: "c" },
    ]);
    expect(pending.map((p) => p.createdAt)).toEqual([510, 510, 520]);
    expect(pending.every((p) => p.attempts === 0 && p.lastError === null)).toBe(true);
  });

  it("filters by user and limits, still oldest first", () => {
    const outbox = new Outbox<Write>({ db: openDb() });
    outbox.enqueue([upsert("u1", "a", "1"), upsert("u2", "b", "2"), upsert("u1", "c", "3"), upsert("u1", "d", "4")]);

    expect(outbox.pending({ userId: "u1" }).map((p) => p.payload.id)).toEqual(["a", "c", "d"]);
    expect(outbox.pending({ userId: "u2" }).map((p) => p.userId)).toEqual(["u2"]);
    expect(outbox.pending({ userId: "u1", limit: 2 }).map((p) => p.payload.id)).toEqual(["a", "c"]);
    expect(outbox.pending({ limit: 3 }).map((p) => p.payload.id)).toEqual(["a", "b", "c"]);
    expect(outbox.pending({ limit: 0 })).toEqual([]);
    expect(outbox.pending({ userId: "nobody" })).toEqual([]);
    expect(isEngramError(caught(() => outbox.pending({ limit: -1 })), "INVALID_OPTIONS")).toBe(true);
    expect(isEngramError(caught(() => outbox.pending({ limit: 1.5 })), "INVALID_OPTIONS")).toBe(true);
  });

  it("replaces a pending write of the same user and key with the latest one, moved to the back", () => {
    const outbox = new Outbox<Write>({ db: openDb() });
    const [oldA] = outbox.enqueue([upsert("u1", "a", "v1")]);
    const [b] = outbox.enqueue([upsert("u1", "b", "B")]);
    const [otherUser] = outbox.enqueue([upsert("u2", "a", "u2's")]);
    const [newA] = outbox.enqueue([upsert("u1", "a", "v2")]);

    expect(newA).toBeGreaterThan(otherUser!);
    expect(outbox.size("u1")).toBe(2);
    const pending = outbox.pending();
    expect(pending.map((p) => p.seq)).toEqual([b, otherUser, newA]);
    expect(pending.map((p) => [p.userId, p.key, p.payload.content])).toEqual([
      ["u1", "upsert:b", "B"],
      ["u2", "upsert:a", "u2's"],
      ["u1", "upsert:a", "v2"],
    ]);
    expect(pending.some((p) => p.seq === oldA)).toBe(false);

    // A worker that applied v1 and completes its (superseded) seq must not drop v2.
    outbox.complete([oldA!]);
    expect(outbox.pending({ userId: "u1" }).map((p) => p.payload.content)).toEqual(["B", "v2"]);
  });

  it("keeps only the last of duplicate keys within one batch, and resets attempts on replacement", () => {
    const outbox = new Outbox<Write>({ db: openDb() });
    const [a1] = outbox.enqueue([upsert("u1", "a", "v1")]);
    outbox.fail([a1!], "down");
    outbox.enqueue([upsert("u1", "a", "v2"), upsert("u1", "x", "X"), upsert("u1", "a", "v3")]);

    const pending = outbox.pending();
    expect(pending.map((p) => p.payload.content)).toEqual(["X", "v3"]);
    expect(pending.map((p) => p.attempts)).toEqual([0, 0]);
  });

  it("complete() removes exactly the given seqs and returns those it removed (a second drainer gets none)", () => {
    const outbox = new Outbox<Write>({ db: openDb() });
    const seqs = outbox.enqueue([upsert("u1", "a", "1"), upsert("u1", "b", "2"), upsert("u2", "c", "3")]);
    expect(outbox.complete([seqs[0]!, seqs[2]!, 99_999]).sort()).toEqual([seqs[0], seqs[2]].sort());
    expect(outbox.pending().map((p) => p.seq)).toEqual([seqs[1]]);
    expect(outbox.complete([seqs[0]!])).toEqual([]);
    expect(outbox.complete([])).toEqual([]);
    expect(outbox.size()).toBe(1);
  });

  it("fail() increments attempts and records the last error, only for the given seqs", () => {
    const outbox = new Outbox<Write>({ db: openDb() });
    const [a, b] = outbox.enqueue([upsert("u1", "a", "1"), upsert("u1", "b", "2")]);
    outbox.fail([a!], "timeout");
    outbox.fail([a!, b!], "connection refused");
    outbox.fail([a!], "store unavailable");

    const bySeq = new Map(outbox.pending().map((p) => [p.seq, p]));
    expect(bySeq.get(a!)).toMatchObject({ attempts: 3, lastError: "store unavailable" });
    expect(bySeq.get(b!)).toMatchObject({ attempts: 1, lastError: "connection refused" });
    // Failing does not reorder or drop anything.
    expect([...bySeq.keys()]).toEqual([a, b]);
  });

  it("size() and deleteUser() are per user", () => {
    const outbox = new Outbox<Write>({ db: openDb() });
    outbox.enqueue([upsert("alice", "a", "1"), upsert("bob", "b", "2"), upsert("alice", "c", "3")]);
    expect(outbox.size()).toBe(3);
    expect(outbox.size("alice")).toBe(2);
    expect(outbox.size("bob")).toBe(1);

    expect(outbox.deleteUser("alice")).toBe(2);
    expect(outbox.size("alice")).toBe(0);
    expect(outbox.pending().map((p) => [p.userId, p.payload.id])).toEqual([["bob", "b"]]);
    expect(outbox.deleteUser("alice")).toBe(0);
  });

  it("enqueues all or nothing: a non-JSON payload fails the whole batch", () => {
    const outbox = new Outbox<unknown>({ db: openDb() });
    outbox.enqueue([{ userId: "u1", key: "k0", payload: { keep: true } }]);
    const error = caught(() =>
      outbox.enqueue([
        { userId: "u1", key: "k0", payload: { replaced: true } },
        { userId: "u1", key: "k2", payload: { n: 10n } },
      ]),
    );
    expect(isEngramError(error, "OUTBOX_ERROR")).toBe(true);
    expect(outbox.pending().map((p) => p.payload)).toEqual([{ keep: true }]);
  });

  it("keeps pending writes, attempts and errors across closing and reopening the file", () => {
    const db = openDb();
    const outbox = new Outbox<Write>({ db });
    const [a, b, c] = outbox.enqueue([upsert("u1", "a", "1"), upsert("u2", "b", "2"), upsert("u1", "c", "3")]);
    outbox.fail([b!], "offline");
    outbox.complete([c!]);
    const before = outbox.pending();
    db.close();

    const reopened = new Outbox<Write>({ db: openDb() });
    const after = reopened.pending();
    expect(after).toEqual(before);
    expect(after.map((p) => p.seq)).toEqual([a, b]);
    expect(after[1]).toMatchObject({ attempts: 1, lastError: "offline" });

    // Completed seqs are never handed out again, even after a reopen.
    const [d] = reopened.enqueue([upsert("u1", "d", "4")]);
    expect(d).toBeGreaterThan(c!);
  });

  it("shares the database file with the history log", () => {
    const db = openDb();
    const outbox = new Outbox<Write>({ db });
    const history = new HistoryLog({ db });
    outbox.enqueue([upsert("u1", "a", "1")]);
    history.record([
      { memoryId: "a", userId: "u1", event: "ADD", oldContent: null, newContent: "1", reason: "add" },
    ]);
    db.close();

    const again = openDb();
    expect(new Outbox<Write>({ db: again }).size("u1")).toBe(1);
    expect(new HistoryLog({ db: again }).countUser("u1")).toBe(1);
  });

  it("throws CLOSED once the database is closed", () => {
    const db = openDb();
    const outbox = new Outbox<Write>({ db });
    const [seq] = outbox.enqueue([upsert("u1", "a", "1")]);
    db.close();
    for (const call of [
      () => outbox.enqueue([upsert("u1", "b", "2")]),
      () => outbox.pending(),
      () => outbox.complete([seq!]),
      () => outbox.fail([seq!], "x"),
      () => outbox.size(),
      () => outbox.deleteUser("u1"),
    ]) {
      expect(isEngramError(caught(call), "CLOSED")).toBe(true);
    }
  });
});
