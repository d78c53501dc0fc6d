import { afterAll, describe, expect, it, jest } from "@jest/globals";
import Database from "better-sqlite3";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { StaticEmbeddings } from "../embeddings/static.js";
import { Memory } from "../memory/memory.js";
import { alive, chromaPid, tempDir } from "../tests/chroma.js";

/*
 * A Chroma server that answers its heartbeat and the list of collections, and hangs on every read
 * of a collection's records. Seen after the data folder's disk filled up and space came back:
 * Chroma kept a lock on its own SQLite file (a write that failed on the full disk) and never let
 * it go; a flush then took more than five minutes and failed, and the same Memory never recovered,
 * while a fresh process on the folder read everything. Here the lock is held by the test (an
 * immediate transaction on Chroma's SQLite file) and let go when the server holding it would be
 * gone: when its process exits.
 */

jest.setTimeout(240_000); // without the fix the server is never restarted: the write waits out two deadlines and stays queued

const embeddings = new StaticEmbeddings();
const dirs: string[] = [];
const userId = "alice";

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("a local Chroma server that lists its collections but hangs on their records", () => {
  it("is restarted, and the write that met it is stored", async () => {
    const dataDir = await tempDir("engram-locked-");
    dirs.push(dataDir);
    const path = join(dataDir, "chroma");
    const memory = new Memory({ dataDir, embeddings, writes: "sync", chroma: { timeoutMs: 3_000 } });
    try {
      await memory.add("I live in Lisbon.", { userId });
      const wedged = chromaPid(path)!;
      const lock = new Database(join(path, "chroma.sqlite3"));
      lock.exec("BEGIN IMMEDIATE");
      // The lock belongs to the wedged server: it goes when that process goes.
      const watch = setInterval(() => {
        if (lock.inTransaction && !alive(wedged)) lock.exec("ROLLBACK");
      }, 20);
      try {
        const added = await memory.add("I have a cat named Miso.", { userId });
        expect(added.pending).toBe(false);
      } finally {
        clearInterval(watch);
        if (lock.inTransaction) lock.exec("ROLLBACK");
        lock.close();
      }
      expect(alive(wedged)).toBe(false);
      expect(chromaPid(path)).not.toBe(wedged);
      const other = new Memory({ dataDir, embeddings });
      try {
        expect((await other.getAll({ userId })).map((record) => record.content).sort()).toEqual(["I have a cat named Miso.", "I live in Lisbon."]);
      } finally {
        await other.close();
      }
    } finally {
      await memory.close();
    }
  });
});
