import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Database from "better-sqlite3";
import { AIMessage, HumanMessage, SystemMessage, ToolMessage } from "@langchain/core/messages";
import { DeltaSnapshot } from "@langchain/langgraph-checkpoint";
import { openDatabase } from "../../state/sqlite/database.js";
import { SqliteFilings } from "../../state/sqlite/filings.js";
import type { PendingFiling } from "../../state/types.js";
import { groupFilings } from "./filer.js";
import { filableMessages, type FilableMessage } from "./messages.js";

/** The checkpointer's default filing log: the SQLite state's, on the checkpoints file's connection. */
class FilingLog extends SqliteFilings<FilableMessage> {
  constructor(db: Database.Database) {
    super({ db: () => db, clock: Date.now });
  }
}

describe("filableMessages", () => {
  it("keeps human and AI messages with text, in order, and leaves out the rest", () => {
    const picked = filableMessages([
      new SystemMessage({ id: "s", content: "You are helpful." }),
      new HumanMessage({ id: "h1", content: "My sister Ana lives in Porto." }),
      new AIMessage({ id: "a1", content: "", tool_calls: [{ id: "c1", name: "lookup", args: {} }] }),
      new ToolMessage({ id: "t1", content: "Porto: 21C", tool_call_id: "c1" }),
      new AIMessage({ id: "a2", content: [{ type: "text", text: "Porto is lovely." }, { type: "image_url", image_url: { url: "data:," } }] }),
      new HumanMessage({ content: "   " }),
      "not a message",
      null,
    ]);
    expect(picked).toEqual([
      { key: "id:h1", role: "user", content: "My sister Ana lives in Porto.", id: "h1" },
      { key: "id:a2", role: "assistant", content: "Porto is lovely.", id: "a2" },
    ]);
  });

  it("keys a message without id by role and text, and reads DeltaChannel snapshots", () => {
    const [a] = filableMessages([new HumanMessage("hello")]);
    const [b] = filableMessages([new HumanMessage("hello")]);
    const [c] = filableMessages([new AIMessage("hello")]);
    expect(a!.key).toBe(b!.key);
    expect(a!.key).not.toBe(c!.key);
    expect(filableMessages(new DeltaSnapshot([new HumanMessage({ id: "d", content: "from a snapshot" })]))).toHaveLength(1);
    expect(filableMessages(undefined)).toEqual([]);
    expect(filableMessages({ messages: [] })).toEqual([]);
  });
});

describe("the default filing log (SqliteFilings on the checkpoints file)", () => {
  let dir: string;
  let db: Database.Database;
  const msg = (id: string): FilableMessage => ({ key: `id:${id}`, role: "user", content: `text ${id}`, id });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "engram-filing-"));
    db = openDatabase(join(dir, "checkpoints.sqlite"));
  });
  afterEach(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("takes each message once per thread and user, even after a restart, and queues what it took", async () => {
    const log = new FilingLog(db);
    expect((await log.take("t1", "alice", [msg("1"), msg("2")])).map((m) => m.id)).toEqual(["1", "2"]);
    expect((await log.take("t1", "alice", [msg("1"), msg("2"), msg("3")])).map((m) => m.id)).toEqual(["3"]);
    // Another user in the same thread, or the same user in another thread, is a separate filing.
    expect((await log.take("t1", "bob", [msg("1")])).map((m) => m.id)).toEqual(["1"]);
    expect((await log.take("t2", "alice", [msg("1")])).map((m) => m.id)).toEqual(["1"]);

    const restarted = new FilingLog(db);
    expect((await restarted.take("t1", "alice", [msg("1"), msg("3"), msg("4")])).map((m) => m.id)).toEqual(["4"]);
    const pending = await restarted.pending(100);
    expect(pending.map((p) => [p.threadId, p.userId, p.messages.map((m) => m.id)])).toEqual([
      ["t1", "alice", ["1", "2"]],
      ["t1", "alice", ["3"]],
      ["t1", "bob", ["1"]],
      ["t2", "alice", ["1"]],
      ["t1", "alice", ["4"]],
    ]);
    expect(await restarted.size()).toBe(5);
  });

  it("completes and fails filings, knows a thread's users, and forgets a thread entirely", async () => {
    const log = new FilingLog(db);
    await log.take("t1", "alice", [msg("1")]);
    await log.take("t1", "bob", [msg("2")]);
    await log.take("t2", "carol", [msg("3")]);
    const [first, second] = await log.pending(10);
    await log.complete([first!.seq]);
    await log.fail([second!.seq], "embedding failed");
    expect((await log.pending(10)).map((p) => [p.userId, p.attempts])).toEqual([
      ["bob", 1],
      ["carol", 0],
    ]);
    expect((await log.usersOf("t1")).sort()).toEqual(["alice", "bob"]);
    expect(await log.dropPending("t1")).toBe(1);
    await log.forgetThread("t1");
    expect(await log.usersOf("t1")).toEqual([]);
    expect((await log.pending(10)).map((p) => p.userId)).toEqual(["carol"]);
    // Erasure of a user: their rows of every thread, queued or taken.
    await log.take("t3", "carol", [msg("4")]);
    expect(await log.deleteUser("carol")).toBe(4);
    expect(await log.pending(10)).toEqual([]);
    expect(await log.usersOf("t2")).toEqual([]);
    // A new thread with the same id starts fresh.
    expect((await log.take("t1", "alice", [msg("1")])).map((m) => m.id)).toEqual(["1"]);
  });
});

describe("groupFilings", () => {
  const filing = (seq: number, threadId: string, userId: string, n: number): PendingFiling<FilableMessage> => ({
    seq,
    threadId,
    userId,
    attempts: 0,
    messages: Array.from({ length: n }, (_, i) => ({ key: `id:${seq}-${i}`, role: "user" as const, content: `m${seq}-${i}`, id: `${seq}-${i}` })),
  });

  it("merges consecutive filings of one thread and user, up to the size limit, keeping order", () => {
    const groups = groupFilings(
      [filing(1, "t1", "alice", 1), filing(2, "t1", "alice", 2), filing(3, "t1", "bob", 1), filing(4, "t1", "alice", 1), filing(5, "t1", "alice", 3), filing(6, "t1", "alice", 9)],
      4,
    );
    expect(groups.map((g) => [g.userId, g.seqs, g.messages.length])).toEqual([
      ["alice", [1, 2], 3],
      ["bob", [3], 1],
      ["alice", [4, 5], 4],
      ["alice", [6], 9],
    ]);
    expect(groups[0]!.messages.map((m) => m.id)).toEqual(["1-0", "2-0", "2-1"]);
  });
});
