import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Database from "better-sqlite3";
import { isEngramError } from "../core/errors.js";
import { HistoryLog, type NewHistoryEntry } from "./history.js";
import { databaseFile, openDatabase } from "./sqlite.js";

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
  it("creates missing parent folders and opens in WAL mode with the shared settings", () => {
    const file = join(dir, "a", "b", "engram.sqlite");
    const db = openDb(file);
    expect(existsSync(file)).toBe(true);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    // NORMAL is 1.
    expect(db.pragma("synchronous", { simple: true })).toBe(1);
    expect(db.pragma("busy_timeout", { simple: true })).toBe(5000);
  });
});

describe("HistoryLog", () => {
  it("creates its table lazily, on first use rather than in the constructor", () => {
    const db = openDb();
    const log = new HistoryLog({ db });
    expect(tableExists(db, "history")).toBe(false);
    expect(log.countUser("u1")).toBe(0);
    expect(tableExists(db, "history")).toBe(true);
  });

  it("records entries with fresh UUIDs and the clock's time when `at` is missing", () => {
    const clock = steppingClock();
    const log = new HistoryLog({ db: openDb(), clock });
    const first = log.record([entry("m1", "u1"), entry("m1", "u1", { event: "UPDATE", at: 42 })]);
    const second = log.record([entry("m2", "u1")]);

    const ids = [...first, ...second].map((e) => e.id);
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // The first batch read the clock once (1000); the second batch read it again (2000).
    expect(first.map((e) => e.at)).toEqual([1000, 42]);
    expect(second.map((e) => e.at)).toEqual([2000]);
    // What record() returns is what is stored.
    expect(log.forMemory("m2", "u1")).toEqual(second);
  });

  it("returns a memory's entries oldest first, ties in insertion order", () => {
    const log = new HistoryLog({ db: openDb() });
    log.record([entry("m1", "u1", { at: 300, newContent: "c" })]);
    log.record([
      entry("m1", "u1", { at: 100, newContent: "a" }),
      entry("m1", "u1", { at: 200, newContent: "b1" }),
    ]);
    log.record([entry("m1", "u1", { at: 200, newContent: "b2" })]);
    log.record([entry("m1", "u1", { at: 200, newContent: "b3" })]);

    expect(log.forMemory("m1", "u1").map((e) => e.newContent)).toEqual(["a", "b1", "b2", "b3", "c"]);
  });

  it("keeps users apart: reads, counts and deletes of one user never touch another", () => {
    const log = new HistoryLog({ db: openDb() });
    log.record([entry("shared", "alice"), entry("shared", "alice", { event: "UPDATE" }), entry("other", "alice")]);
    log.record([entry("shared", "bob", { event: "DELETE", newContent: null })]);

    expect(log.forMemory("shared", "alice").map((e) => e.userId)).toEqual(["alice", "alice"]);
    expect(log.forMemory("shared", "bob").map((e) => [e.userId, e.event])).toEqual([["bob", "DELETE"]]);
    expect(log.forMemory("other", "bob")).toEqual([]);
    expect(log.countUser("alice")).toBe(3);
    expect(log.countUser("bob")).toBe(1);

    expect(log.deleteUser("alice")).toBe(3);
    expect(log.countUser("alice")).toBe(0);
    expect(log.forMemory("shared", "alice")).toEqual([]);
    expect(log.countUser("bob")).toBe(1);
    expect(log.forMemory("shared", "bob")).toHaveLength(1);
    expect(log.deleteUser("alice")).toBe(0);
  });

  it("writes a batch all or none", () => {
    const db = openDb();
    const log = new HistoryLog({ db });
    const bad = { ...entry("m1", "u1"), event: "EXPLODE" } as unknown as NewHistoryEntry;
    let caught: unknown;
    try {
      log.record([entry("m1", "u1"), bad]);
    } catch (error) {
      caught = error;
    }
    expect(isEngramError(caught, "OUTBOX_ERROR")).toBe(true);
    // The native driver's error comes from another realm under Jest: check its name, not its class.
    expect((caught as { cause?: { name?: string } }).cause?.name).toBe("SqliteError");
    expect(log.countUser("u1")).toBe(0);
  });

  it("survives closing and reopening the database file", () => {
    const file = databaseFile(dir);
    const db = openDb(file);
    const recorded = new HistoryLog({ db }).record([entry("m1", "u1"), entry("m1", "u1", { event: "UPDATE" })]);
    db.close();

    const reopened = new HistoryLog({ db: openDb(file) });
    expect(reopened.forMemory("m1", "u1")).toEqual(recorded);
    expect(reopened.countUser("u1")).toBe(2);
  });

  it("throws CLOSED once the database is closed", () => {
    const db = openDb();
    const log = new HistoryLog({ db });
    log.record([entry("m1", "u1")]);
    db.close();
    for (const call of [
      () => log.record([entry("m1", "u1")]),
      () => log.forMemory("m1", "u1"),
      () => log.countUser("u1"),
      () => log.deleteUser("u1"),
    ]) {
      expect(call).toThrow(expect.objectContaining({ code: "CLOSED" }));
    }
  });
});
