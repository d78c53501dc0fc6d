import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { join } from "node:path";
import { ChromaClient } from "chromadb";
import { StaticEmbeddings } from "../embeddings/static.js";
import { databaseFile, openDatabase } from "../state/sqlite/database.js";
import { ChromaStore } from "../store/chroma_store.js";
import type { EpisodicStore, StoredRecord } from "../store/types.js";
import { startTestChroma, type TestChroma } from "../tests/chroma.js";
import { mountSmallDisk, type SmallDisk } from "../tests/small_disk.js";
import { Memory } from "./memory.js";

/*
 * A Memory closed while the disk of its data folder is full. Its drain ended with the disk full
 * (found by filling a real disk under writes): the drain lock's row could not be removed, nor at
 * close() (its last try met the same full disk), and the row named a live process: another Memory
 * on the folder waited for it to lapse (a minute) once the disk had space again. Here the disk is a
 * real tmpfs, filled while the drain holds the lock; Chroma's own data live elsewhere.
 */

jest.setTimeout(180_000);

const embeddings = new StaticEmbeddings();
const alice = { userId: "alice" };
let chroma: TestChroma;
let disk: SmallDisk;

beforeAll(async () => {
  chroma = await startTestChroma();
  disk = await mountSmallDisk(16);
});

afterAll(async () => {
  await disk?.unmount();
  await chroma?.stop();
});

/** A Chroma store whose next upsert first runs `before` (the drain holds the user's lock then). */
function storeWith(before: { next?: () => void }): EpisodicStore {
  const server = chroma.server;
  const inner = new ChromaStore({ client: async () => new ChromaClient({ host: server.host, port: server.port }), prefix: "disk" });
  return Object.assign(Object.create(inner) as EpisodicStore, {
    upsert: async (userId: string, items: StoredRecord[]) => {
      const run = before.next;
      before.next = undefined;
      run?.();
      return inner.upsert(userId, items);
    },
    revision: (userId: string) => inner.revision(userId),
  });
}

function rowsOf(dataDir: string): { locks: unknown[]; leases: unknown[] } {
  const db = openDatabase(databaseFile(dataDir));
  try {
    return { locks: db.prepare("SELECT user_id, name FROM state_locks").all(), leases: db.prepare("SELECT user_id FROM write_leases").all() };
  } finally {
    db.close();
  }
}

describe("a Memory closed while its disk is full", () => {
  it("leaves no lock or lease row behind, so the next Memory on the folder drains at once; nothing is lost", async () => {
    const dataDir = join(disk.dir, "data");
    const before: { next?: () => void } = {};
    const a = new Memory({ dataDir, embeddings, store: storeWith(before), prefix: "disk", writes: "sync" });
    let closed = false;
    try {
      await a.add("I live in Lisbon.", alice);
      before.next = () => disk.fill();
      // The write landed in the store, but its drain could not record that: it stays queued.
      expect((await a.add("I have a cat named Miso.", alice)).pending).toBe(true);
      expect(disk.freeBytes()).toBe(0);
      await a.close();
      closed = true;
      expect(rowsOf(dataDir)).toEqual({ locks: [], leases: [] });
    } finally {
      if (!closed) await a.close();
      disk.empty();
    }
    const b = new Memory({ dataDir, embeddings, store: storeWith({}), prefix: "disk", writes: "sync" });
    try {
      await b.flush();
      expect((await b.getAll(alice)).map((record) => record.content).sort()).toEqual(["I have a cat named Miso.", "I live in Lisbon."]);
    } finally {
      await b.close();
    }
  });
});
