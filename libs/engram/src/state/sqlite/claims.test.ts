import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "./database.js";
import { SqliteState } from "./index.js";

let dir: string;
let state: SqliteState;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "engram-claims-"));
  state = new SqliteState({ path: dir });
  await state.setup();
});

afterEach(async () => {
  await state.close();
  await rm(dir, { recursive: true, force: true });
});

function write(userId: string, id: string): { userId: string; key: string; payload: { id: string } } {
  return { userId, key: `upsert:${id}`, payload: { id } };
}

describe("SqliteState outbox claims", () => {
  it("claims a user's writes for one owner; another owner gets only other users until the lease lapses", async () => {
    const outbox = state.outbox<{ id: string }>();
    await outbox.enqueue([write("alice", "a1"), write("bob", "b1"), write("alice", "a2")]);
    expect((await outbox.claim("A", 60_000, { userId: "alice", limit: 1 })).map((w) => w.payload.id)).toEqual(["a1"]);
    // alice's later write is not handed to B while A holds her first one: order is kept.
    expect((await outbox.claim("B", 60_000)).map((w) => w.payload.id)).toEqual(["b1"]);
    // The same owner claims again (its lease is renewed).
    expect((await outbox.claim("A", 60_000, { userId: "alice" })).map((w) => w.payload.id)).toEqual(["a1", "a2"]);
    // fail releases: B may take alice's writes now.
    await outbox.fail([1, 3], "down");
    expect((await outbox.claim("B", 60_000, { userId: "alice" })).map((w) => w.attempts)).toEqual([1, 1]);
  });

  it("takes over the writes of an owner whose lease lapsed", async () => {
    const outbox = state.outbox<{ id: string }>();
    await outbox.enqueue([write("alice", "a1")]);
    expect(await outbox.claim("A", 1)).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await outbox.claim("B", 60_000)).map((w) => w.payload.id)).toEqual(["a1"]);
    expect(await outbox.claim("A", 60_000)).toEqual([]);
  });

  it("adds the claim and history columns to an outbox table made before they existed", async () => {
    const file = join(dir, "old", "engram.sqlite");
    const db = openDatabase(file);
    db.exec(`CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL, key TEXT NOT NULL,
      payload TEXT NOT NULL, created_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT);
      CREATE UNIQUE INDEX outbox_user_key ON outbox (user_id, key);
      INSERT INTO outbox (user_id, key, payload, created_at) VALUES ('alice', 'upsert:x', '{"id":"x"}', 1);`);
    db.close();
    const old = new SqliteState({ path: file });
    try {
      expect((await old.outbox<{ id: string }>().claim("A", 60_000)).map((w) => [w.payload.id, w.history])).toEqual([["x", null]]);
      // A write replacing the old row keeps its own entry (the old row kept none to carry over).
      const own = { memoryId: "x", userId: "alice", event: "UPDATE" as const, oldContent: "a", newContent: "b", reason: "update", at: 2 };
      await old.outbox<{ id: string }>().enqueue([{ ...write("alice", "x"), history: own }]);
      expect((await old.outbox<{ id: string }>().pending()).map((w) => w.history)).toEqual([[own]]);
    } finally {
      await old.close();
    }
  });

  it("completeApplied records the history of the writes it removed, and only those", async () => {
    const outbox = state.outbox<{ id: string }>();
    const [a, b] = await outbox.enqueue([write("alice", "a"), write("alice", "b")]);
    const note = (memoryId: string) => ({ memoryId, userId: "alice", event: "ADD" as const, oldContent: null, newContent: memoryId, reason: "add", at: 5 });
    await outbox.complete([b!]);
    expect(await outbox.completeApplied([{ seq: a!, history: [note("a")] }, { seq: b!, history: [note("b")] }])).toEqual([a]);
    expect((await state.history.forMemory("a", "alice")).map((e) => e.newContent)).toEqual(["a"]);
    expect(await state.history.forMemory("b", "alice")).toEqual([]);
  });
});

describe("SqliteState jobs claims", () => {
  it("claims whole groups and skips a group another live owner holds", async () => {
    const jobs = state.jobs<number>("facts");
    await jobs.add({ userId: "alice", group: "t1", key: "k1", payload: 1 });
    await jobs.add({ userId: "alice", group: "t2", key: "k2", payload: 2 });
    expect((await jobs.claim("A", 60_000, { userId: "alice", group: "t1" })).map((j) => j.payload)).toEqual([1]);
    await jobs.add({ userId: "alice", group: "t1", key: "k3", payload: 3 });
    expect((await jobs.claim("B", 60_000)).map((j) => j.payload)).toEqual([2]);
    expect((await jobs.claim("A", 60_000, { group: "t1" })).map((j) => j.payload)).toEqual([1, 3]);
  });
});

describe("SqliteState exclusive sections", () => {
  it("runs sections of one (user, name) one at a time, across two states on one file", async () => {
    const other = new SqliteState({ path: dir });
    const order: string[] = [];
    const section = (who: string, ms: number) => async () => {
      order.push(`${who}+`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      order.push(`${who}-`);
    };
    try {
      await Promise.all([
        state.leases.exclusive("alice", "facts", section("a", 40)),
        other.leases.exclusive("alice", "facts", section("b", 5)),
        state.leases.exclusive("alice", "facts", section("c", 5)),
      ]);
      // Whatever the order, no section starts while another runs.
      for (let i = 0; i < order.length; i += 2) expect(order[i]!.slice(0, 1)).toBe(order[i + 1]!.slice(0, 1));
      // Another user is not held up by alice's lock.
      let ran = false;
      await state.leases.exclusive("alice", "facts", async () => {
        await other.leases.exclusive("bob", "facts", async () => {
          ran = true;
        });
      });
      expect(ran).toBe(true);
    } finally {
      await other.close();
    }
  });
});

describe("SqliteState meta and erasure", () => {
  it("keeps the first value unless replaced, and says when the folder holds data", async () => {
    expect(await state.meta.get("embeddings")).toBeUndefined();
    expect(await state.meta.hasData()).toBe(false);
    expect(await state.meta.set("embeddings", "m1", { replace: false })).toBe("m1");
    expect(await state.meta.set("embeddings", "m2", { replace: false })).toBe("m1");
    expect(await state.meta.set("embeddings", "m2", { replace: true })).toBe("m2");
    await state.outbox().enqueue([write("alice", "a")]);
    expect(await state.meta.hasData()).toBe(true);
  });

  it("deleteUser erases the user from every part and leaves other users", async () => {
    await state.outbox().enqueue([write("alice", "a"), write("bob", "b")]);
    await state.jobs("facts").add({ userId: "alice", group: "g", key: "k", payload: 1 });
    await state.history.record([{ memoryId: "a", userId: "alice", event: "ADD", oldContent: null, newContent: "a", reason: "add" }]);
    await state.usage.record({ userId: "alice", kind: "extraction", usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3, reported: true } });
    await state.filings().take("t", "alice", [{ key: "m1" }]);
    await state.deleteUser("alice");
    expect(await state.outbox().size("alice")).toBe(0);
    expect(await state.outbox().size("bob")).toBe(1);
    expect(await state.jobs("facts").size("alice")).toBe(0);
    expect(await state.history.countUser("alice")).toBe(0);
    expect(await state.usage.totals({ userId: "alice" })).toEqual([]);
    expect(await state.filings().usersOf("t")).toEqual([]);
    // Taken keys were forgotten: the same message can be filed again for a new user of that id,
    // in a new thread (her old ones are nobody's: ERASED_OWNER, and take nothing any more).
    expect(await state.filings().take("t", "alice", [{ key: "m1" }])).toEqual([]);
    expect(await state.filings().take("t2", "alice", [{ key: "m1" }])).toEqual([{ key: "m1" }]);
  });
});
