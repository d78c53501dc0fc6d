import { afterAll, describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { HumanMessage } from "@langchain/core/messages";
import type { Checkpoint } from "@langchain/langgraph-checkpoint";
import { HashEmbeddings } from "../../tests/hash_embeddings.js";
import { testMemories } from "../../tests/memories.js";
import { codeOf, runConfig } from "../../tests/runs.js";
import { openDatabase } from "../../state/sqlite/database.js";
import { SqliteFilings } from "../../state/sqlite/filings.js";
import { CHECKPOINTS_FILE_NAME, EngramCheckpointer } from "./checkpointer.js";
import type { FilableMessage } from "./messages.js";

/*
 * Memory.deleteAll erases a user from every place Engram writes. The checkpointer's filing log
 * (who filed into which thread, filings not done yet) is kept in Memory's state, SQLite as
 * PostgreSQL: a filing of the user recorded but not yet done (the process died, the model or store
 * was down) must not bring the erased user's messages back when it is done later. Older versions
 * kept the log in checkpoints.sqlite, out of reach of deleteAll: it is moved into the state once.
 */
const checkpointers: EngramCheckpointer[] = [];
afterAll(async () => {
  for (const c of checkpointers) await c.close();
});
const memories = testMemories();

function checkpointOf(n: number, text: string): Checkpoint {
  return {
    v: 4,
    id: `1f0c0000-0000-6000-8000-${String(n).padStart(12, "0")}`,
    ts: new Date().toISOString(),
    channel_values: { messages: [new HumanMessage({ id: `m${n}`, content: text })] },
    channel_versions: { messages: n },
    versions_seen: {},
  };
}

const meta = { source: "input" as const, step: -1, parents: {} };

/** The test embedding, failing while `down` (a model outage: the filings wait in the log). */
class FlakyEmbeddings extends HashEmbeddings {
  down = true;

  override async embedDocuments(texts: string[]): Promise<number[][]> {
    if (this.down) throw new Error("embedding model unavailable");
    return super.embedDocuments(texts);
  }

  override async embedQuery(text: string): Promise<number[]> {
    if (this.down) throw new Error("embedding model unavailable");
    return super.embedQuery(text);
  }
}

describe("EngramCheckpointer on SQLite state: Memory.deleteAll and the filing log", () => {
  it("a filing of an erased user still waiting in the log is never filed, and the user's threads are free", async () => {
    const embeddings = new FlakyEmbeddings();
    const m = memories.open("erase-sqlite", { embeddings, writes: "sync" });
    const engram = new EngramCheckpointer({ memory: m });
    checkpointers.push(engram);
    await engram.put(runConfig("bob", "t9"), checkpointOf(1, "My PIN is 2468."), meta, { messages: 1 });
    await engram.put(runConfig("carol", "t10"), checkpointOf(2, "I play the oboe."), meta, { messages: 2 });
    // The model is down: both filings stay recorded.
    expect(await codeOf(engram.flush())).toBe("EMBEDDING_FAILED");

    await m.deleteAll({ userId: "bob" });
    embeddings.down = false;
    expect(await engram.flush()).toMatchObject({ filed: 1, pending: 0 });
    expect(await m.getAll({ userId: "bob" })).toEqual([]);
    expect((await m.getAll({ userId: "carol" })).map((r) => r.content)).toEqual(["I play the oboe."]);
    // Bob's checkpoints stay in the saver: his thread is nobody's, refused to everyone, until
    // deleteThread frees its id.
    expect(await codeOf(engram.getTuple(runConfig("dave", "t9")))).toBe("INVALID_SCOPE");
    expect(await codeOf(engram.put(runConfig("dave", "t9"), checkpointOf(5, "Hello."), meta, { messages: 5 }))).toBe("INVALID_SCOPE");
    expect((await engram.deleteThreadMemories("t9")).deleted).toEqual({});
    await engram.deleteThread("t9");
    expect(await engram.getTuple(runConfig("dave", "t9"))).toBeUndefined();
    await engram.put(runConfig("dave", "t9"), checkpointOf(6, "Hello."), meta, { messages: 6 });
  });

  it("moves a log an older version kept in checkpoints.sqlite into the state: owners, filed keys and waiting filings", async () => {
    const m = memories.open("legacy-log", { prefix: "legacy" });
    const file = join(m.dataFolder, CHECKPOINTS_FILE_NAME);
    // The log as older versions wrote it: SqliteFilings on the checkpoints file.
    const db = openDatabase(file);
    const legacy = new SqliteFilings<FilableMessage>({ db: () => db, clock: Date.now });
    const said = { key: "id:m1", role: "user" as const, content: "My locker code is 9137.", id: "m1" };
    await legacy.take("old-1", "alice", [said]);
    await legacy.complete((await legacy.pending(10)).map((filing) => filing.seq)); // filed long ago
    await legacy.take("old-1", "alice", [{ key: "id:m2", role: "user", content: "I moved to Porto.", id: "m2" }]); // still waiting
    db.close();

    const engram = new EngramCheckpointer({ memory: m });
    checkpointers.push(engram);
    // The thread is still alice's; the waiting filing is filed, the one filed before is not again.
    expect(await codeOf(engram.put(runConfig("bob", "old-1"), checkpointOf(3, "Hi."), meta, { messages: 3 }))).toBe("INVALID_SCOPE");
    const repeat = { ...checkpointOf(4, ""), channel_values: { messages: [new HumanMessage({ id: "m1", content: said.content })] } };
    await engram.put(runConfig("alice", "old-1"), repeat, meta, { messages: 4 });
    expect(await engram.flush()).toMatchObject({ filed: 1, pending: 0 });
    expect((await m.getAll({ userId: "alice" })).map((r) => r.content)).toEqual(["I moved to Porto."]);
    // Moved, not copied: the checkpoints file has no log left, so erasing alice reaches it.
    const after = openDatabase(file);
    expect(after.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'engram_checkpointer%'").all()).toEqual([]);
    after.close();
    await m.deleteAll({ userId: "alice" });
    expect(await codeOf(engram.put(runConfig("bob", "old-1"), checkpointOf(7, "Hi."), meta, { messages: 7 }))).toBe("INVALID_SCOPE");
    await engram.deleteThread("old-1");
    expect(await codeOf(engram.put(runConfig("bob", "old-1"), checkpointOf(8, "Hi."), meta, { messages: 8 }))).toBe("no error");
  });
});
