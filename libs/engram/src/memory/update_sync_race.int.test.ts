import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { startTestChroma, type TestChroma } from "../tests/chroma.js";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { PeerError } from "../tests/peers.js";
import { freshDatabase, startPostgres, type TestPostgres } from "../tests/postgres.js";
import { startReplyHoldProxy, type ReplyHoldProxy, type SeenRequest } from "../tests/reply_hold_proxy.js";
import type { StatePeerOptions } from "../tests/state_peer.js";
import { startStatePeer, type StatePeer } from "../tests/state_peers.js";
import { waitFor } from "../tests/wait.js";
import { Memory } from "./memory.js";
import { warningsWithCode } from "../tests/warnings.js";

/*
 * A synchronous update racing another process's delete of the same memory, with real processes
 * sharing one store and one state (the data folder's SQLite, or PostgreSQL for replicas). Process
 * A's update reads the memory from the store (its answer held by a proxy, tests/reply_hold_proxy.ts),
 * then process B deletes it, then A's update goes on: its queued write is dropped by the drain
 * (writer.ts `ifStored`: a deleted memory is never brought back). A's update returned the updated
 * record as if stored, and history showed no UPDATE: the caller was told OK for a write that was
 * silently dropped. It must fail with NOT_FOUND and change nothing. An update that reached the store
 * before the delete stays OK, with UPDATE then DELETE in history. With background writes the update
 * has returned before its drain; the process that acknowledged it is warned when it is dropped
 * (ENGRAM_UPDATE_DROPPED, naming the memory); before, nothing said so.
 */

jest.setTimeout(300_000); // a hang, not a slow machine

interface Stored {
  id: string;
  content: string;
}

interface Entry {
  event: string;
  oldContent: string | null;
  newContent: string | null;
}

let chroma: TestChroma;
let proxy: ReplyHoldProxy;
let postgres: TestPostgres | undefined;
const peers: StatePeer[] = [];
const opened: Memory[] = [];

beforeAll(async () => {
  [chroma, postgres] = await Promise.all([startTestChroma(), startPostgres()]);
  proxy = await startReplyHoldProxy(chroma.server.url);
});

afterAll(async () => {
  for (const memory of opened.splice(0)) await memory.close();
  for (const peer of peers.splice(0).reverse()) await peer.kill();
  await proxy?.close();
  await chroma?.stop();
  await postgres?.stop();
});

/** A store read of exactly this record by id (update's and delete's existence check, the drain's check). */
const readOf =
  (id: string) =>
  (request: SeenRequest): boolean => {
    if (!request.path.endsWith("/get")) return false;
    const ids = (JSON.parse(request.body || "{}") as { ids?: string[] }).ids;
    return ids?.length === 1 && ids[0] === id;
  };

/** An upsert carrying this record. */
const upsertOf =
  (id: string) =>
  (request: SeenRequest): boolean =>
    request.path.endsWith("/upsert") && request.body.includes(id);

describe.each(["sqlite", "postgres"] as const)("a synchronous update racing another process's delete, state in %s", (kind) => {
  let pgUrl: string | undefined;
  let n = 0;
  beforeAll(async () => {
    if (kind === "postgres") pgUrl = await freshDatabase(postgres!.url, "engram_sync_race");
  });

  const folder = (name: string) => join(chroma.dir, `${kind}-${n}${pgUrl === undefined ? "" : `-${name}`}`);

  /** A process of the current test on its data folder (SQLite: one folder for all) and the suite's state. */
  const start = (name: string, options: Partial<StatePeerOptions>): StatePeer => {
    const peer = startStatePeer({ dataDir: folder(name), chromaUrl: chroma.server.url, writes: "sync", ...(pgUrl !== undefined ? { postgres: pgUrl } : {}), ...options });
    peers.push(peer);
    return peer;
  };

  /** Two processes, A through the proxy and B straight to Chroma, on one data folder (SQLite) or one database. */
  const pair = (): [StatePeer, StatePeer, string] => {
    n += 1;
    return [start("a", { chromaUrl: proxy.url }), start("b", {}), `user-${kind}-${n}`];
  };

  /** Whether the shared state's outbox holds this write of the user, read without a Memory. */
  const isQueued = async (userId: string, key: string): Promise<boolean> => {
    if (pgUrl === undefined) {
      const db = new Database(join(folder("a"), "engram.sqlite"), { readonly: true, fileMustExist: true });
      try {
        return db.prepare("SELECT 1 FROM outbox WHERE user_id = ? AND key = ?").get(userId, key) !== undefined;
      } finally {
        db.close();
      }
    }
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    try {
      return (await client.query("SELECT 1 FROM engram.outbox WHERE user_id = $1 AND key = $2", [userId, key])).rowCount! > 0;
    } finally {
      await client.end();
    }
  };

  /** A's update of `id` to "I work in a library.", once A has read the memory: the read's answer is held until `read.release()`. */
  async function updateHeldAfterRead(a: StatePeer, id: string, user: { userId: string }) {
    const read = proxy.hold(readOf(id));
    const updating = a.call<Stored>("update", id, "I work in a library.", user).then(
      (record) => ({ record }),
      (error: unknown) => ({ error }),
    );
    await read.answered;
    return { read, updating };
  }

  it("fails with NOT_FOUND, and changes nothing, when the memory was deleted before the update reached the store", async () => {
    const [a, b, userId] = pair();
    const user = { userId };
    const id = (await a.call<{ results: Stored[] }>("add", "I work in a bakery.", user)).results[0]!.id;

    const { read, updating } = await updateHeldAfterRead(a, id, user); // A has read the memory
    await b.call("delete", id, user);
    read.release();
    const outcome = await updating;

    expect("error" in outcome && outcome.error instanceof PeerError ? outcome.error.code : outcome).toBe("NOT_FOUND");
    for (const peer of [a, b]) {
      expect(await peer.call<Stored | null>("get", id, user)).toBeNull();
      expect(await peer.call<Stored[]>("getAll", user)).toEqual([]);
      const history = await peer.call<Entry[]>("history", id, user);
      expect(history.map((entry) => [entry.event, entry.newContent])).toEqual([
        ["ADD", "I work in a bakery."],
        ["DELETE", null],
      ]);
    }
  });

  // A third process's drain holds the user's drain lock (its own write's answer held) while A queues
  // its update behind B's delete: the drain that drops A's write may be C's, not A's (with SQLite's
  // polled lock C takes the lock again first, and does; PostgreSQL hands it to A's waiting drain),
  // and A's drain then finds nothing to tell it; history does (no UPDATE recorded).
  it("fails with NOT_FOUND when the drain of another process dropped it", async () => {
    const [a, b, userId] = pair();
    const c = start("c", { chromaUrl: proxy.url });
    const user = { userId };
    const id = (await a.call<{ results: Stored[] }>("add", "I work in a bakery.", user)).results[0]!.id;

    const { read, updating } = await updateHeldAfterRead(a, id, user);
    await b.call("delete", id, user);
    const upsert = proxy.hold((request) => request.path.endsWith("/upsert") && request.body.includes("I keep bees."));
    const adding = c.call("add", "I keep bees.", user);
    await upsert.answered; // C holds the drain lock
    read.release();
    expect(await waitFor(() => isQueued(userId, `upsert:${id}`))).toBe(true);
    upsert.release();
    await adding;
    const outcome = await updating;

    expect("error" in outcome && outcome.error instanceof PeerError ? outcome.error.code : outcome).toBe("NOT_FOUND");
    for (const peer of [a, b, c]) {
      expect(await peer.call<Stored | null>("get", id, user)).toBeNull();
      expect((await peer.call<Entry[]>("history", id, user)).map((entry) => entry.event)).toEqual(["ADD", "DELETE"]);
    }
  });

  it("stays OK, with UPDATE then DELETE in history, when the update reached the store before the delete", async () => {
    const [a, b, userId] = pair();
    const user = { userId };
    const id = (await a.call<{ results: Stored[] }>("add", "I work in a bakery.", user)).results[0]!.id;

    // A's write reaches the store; its answer is held, so A's drain is still in flight when B deletes.
    const upsert = proxy.hold(upsertOf(id));
    const updating = a.call<Stored>("update", id, "I work in a library.", user);
    await upsert.answered;
    const deleting = b.call("delete", id, user);
    upsert.release();
    expect((await updating).content).toBe("I work in a library.");
    await deleting;

    for (const peer of [a, b]) {
      expect(await peer.call<Stored | null>("get", id, user)).toBeNull();
      const history = await peer.call<Entry[]>("history", id, user);
      expect(history.map((entry) => [entry.event, entry.newContent])).toEqual([
        ["ADD", "I work in a bakery."],
        ["UPDATE", "I work in a library."],
        ["DELETE", null],
      ]);
    }
  });

  it("with background writes, warns the process that acknowledged an update its drain dropped", async () => {
    const [, b, userId] = pair();
    const a = new Memory({
      dataDir: folder("a"),
      chroma: { url: proxy.url },
      writes: "background",
      embeddings: new HashEmbeddings(),
      ...(pgUrl !== undefined ? { state: { postgres: pgUrl } } : {}),
    });
    opened.push(a);
    const user = { userId };
    const id = (await a.add("I work in a bakery.", user)).results[0]!.id;
    await a.flush();

    const warnings = warningsWithCode("ENGRAM_UPDATE_DROPPED");
    try {
      const read = proxy.hold(readOf(id));
      const updating = a.update(id, "I work in a library.", user);
      await read.answered;
      await b.call("delete", id, user);
      read.release();
      expect((await updating).content).toBe("I work in a library."); // acknowledged: queued
      await a.flush();
      expect(warnings.seen).toEqual([expect.stringContaining(id)]);
    } finally {
      warnings.stop();
    }
    expect(await a.get(id, user)).toBeNull();
    expect((await a.history(id, user)).map((entry) => entry.event)).toEqual(["ADD", "DELETE"]);
  });
});
