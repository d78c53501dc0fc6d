import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Database from "better-sqlite3";
import { isEngramError } from "../../core/errors.js";
import type { NewHistoryEntry } from "../types.js";
import { databaseFile, openDatabase } from "./database.js";
import { SqliteHistory } from "./history.js";

let dir: string;
const open: Database.Database[] = [];

function openDb(file = databaseFile(dir)): Database.Database {
  const db = openDatabase(file);
  open.push(db);
  return db;
}

/** A clock that returns 1000, 2000, 3000... so each call is distinguishable. */
function steppingClock(): () => number {
  let now = 0;
  return () => (now += 1000);
}

function entry(memoryId: string, userId: string, overrides: Partial<NewHistoryEntry> = {}): NewHistoryEntry {
  return {
    memoryId,
    userId,
    event: "ADD",
    oldContent: null,
    newContent: `content of ${memoryId} for ${userId}`,
    reason: "add",
    ...overrides,
  };
}

function history(db: Database.Database, clock: () => number = Date.now): SqliteHistory {
  return new SqliteHistory({ db: () => db, clock });
}

function tableExists(db: Database.Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "engram-history-"));
});

afterEach(async () => {
  for (const db of open.splice(0)) if (db.open) db.close();
  await rm(dir, { recursive: true, force: true });
});

describe("openDatabase", () => {
  it("creates missing parent folders and opens in WAL mode with the shared settings", async () => {
    const file = join(dir, "a", "b", "engram.sqlite");
    const db = openDb(file);
    expect(existsSync(file)).toBe(true);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    // NORMAL is 1.
    expect(db.pragma("synchronous", { simple: true })).toBe(1);
    expect(db.pragma("busy_timeout", { simple: true })).toBe(5000);
  });
});

describe("SqliteHistory", () => {
  it("creates its table lazily, on first use rather than in the constructor", async () => {
    const db = openDb();
    const log = history(db);
    expect(tableExists(db, "history")).toBe(false);
    expect(await log.countUser("u1")).toBe(0);
    expect(tableExists(db, "history")).toBe(true);
  });

  it("records entries with fresh UUIDs and the clock's time when `at` is missing", async () => {
    const clock = steppingClock();
    const log = history(openDb(), clock);
    const first = await log.record([entry("m1", "u1"), entry("m1", "u1", { event: "UPDATE", at: 42 })]);
    const second = await log.record([entry("m2", "u1")]);

    const ids = [...first, ...second].map((e) => e.id);
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // The first batch read the clock once (1000); the second batch read it again (2000).
    expect(first.map((e) => e.at)).toEqual([1000, 42]);
    expect(second.map((e) => e.at)).toEqual([2000]);
    // What record() returns is what is stored.
    expect(await log.forMemory("m2", "u1")).toEqual(second);
  });

  it("returns a memory's entries oldest first, ties in insertion order", async () => {
    const log = history(openDb());
    await log.record([entry("m1", "u1", { at: 300, newContent: "c" })]);
    await log.record([
      entry("m1", "u1", { at: 100, newContent: "a" }),
      entry("m1", "u1", { at: 200, newContent: "b1" }),
    ]);
    await log.record([entry("m1", "u1", { at: 200, newContent: "b2" })]);
    await log.record([entry("m1", "u1", { at: 200, newContent: "b3" })]);

    expect((await log.forMemory("m1", "u1")).map((e) => e.newContent)).toEqual(["a", "b1", "b2", "b3", "c"]);
  });

  it("keeps users apart: reads, counts and deletes of one user never touch another", async () => {
    const log = history(openDb());
    await log.record([entry("shared", "alice"), entry("shared", "alice", { event: "UPDATE" }), entry("other", "alice")]);
    await log.record([entry("shared", "bob", { event: "DELETE", newContent: null })]);

    expect((await log.forMemory("shared", "alice")).map((e) => e.userId)).toEqual(["alice", "alice"]);
    expect((await log.forMemory("shared", "bob")).map((e) => [e.userId, e.event])).toEqual([["bob", "DELETE"]]);
    expect(await log.forMemory("other", "bob")).toEqual([]);
    expect(await log.countUser("alice")).toBe(3);
    expect(await log.countUser("bob")).toBe(1);

    expect(await log.deleteUser("alice")).toBe(3);
    expect(await log.countUser("alice")).toBe(0);
    expect(await log.forMemory("shared", "alice")).toEqual([]);
    expect(await log.countUser("bob")).toBe(1);
    expect(await log.forMemory("shared", "bob")).toHaveLength(1);
    expect(await log.deleteUser("alice")).toBe(0);
  });

  it("writes a batch all or none", async () => {
    const db = openDb();
    const log = history(db);
    const bad = { ...entry("m1", "u1"), event: "EXPLODE" } as unknown as NewHistoryEntry;
    let caught: unknown;
    try {
      await log.record([entry("m1", "u1"), bad]);
    } catch (error) {
      caught = error;
    }
    expect(isEngramError(caught, "OUTBOX_ERROR")).toBe(true);
    // The native driver's error comes from another realm under Jest: check its name, not its class.
    expect((caught as { cause?: { name?: string } }).cause?.name).toBe("SqliteError");
    expect(await log.countUser("u1")).toBe(0);
  });

  it("survives closing and reopening the database file", async () => {
    const file = databaseFile(dir);
    const db = openDb(file);
    const recorded = await history(db).record([entry("m1", "u1"), entry("m1", "u1", { event: "UPDATE" })]);
    db.close();

    const reopened = history(openDb(file));
    expect(await reopened.forMemory("m1", "u1")).toEqual(recorded);
    expect(await reopened.countUser("u1")).toBe(2);
  });

  it("throws CLOSED once the database is closed", async () => {
    const db = openDb();
    const log = history(db);
    await log.record([entry("m1", "u1")]);
    db.close();
    for (const call of [
      () => log.record([entry("m1", "u1")]),
      () => log.forMemory("m1", "u1"),
      () => log.countUser("u1"),
      () => log.deleteUser("u1"),
    ]) {
      await expect(call()).rejects.toThrow(expect.objectContaining({ code: "CLOSED" }));
    }
  });
});
