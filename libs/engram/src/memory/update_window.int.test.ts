import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { startTestChroma, type TestChroma } from "../tests/chroma.js";
import { startChromaProxy, type ChromaProxy, type Hold } from "../tests/chroma_proxy.js";
import { freshDatabase, startPostgres, type TestPostgres } from "../tests/postgres.js";
import type { StatePeerOptions } from "../tests/state_peer.js";
import { startStatePeer, type StatePeer } from "../tests/state_peers.js";

/*
 * The window of an update that removes keys (Chroma merges an upsert's metadata into the stored
 * row's: store/chroma_store.ts removes the keys in the same upsert; it used to delete the row first),
 * with real processes: a Memory process's drain is held by a proxy in front of Chroma
 * (tests/chroma_proxy.ts) at the record's upsert, every store call before it done, or just after
 * it, before the write is completed in the outbox. Then (1) it is killed with SIGKILL, and a
 * process started on the same data folder and state must find the acknowledged update, whole (new
 * text, removed keys gone: the removed TTL no longer expires the memory), exactly once; or (2)
 * another process sharing the store and the state reads the user meanwhile, and must see the record
 * (old or new version, never neither) and never a deleted one. Over the data folder's SQLite state
 * and over PostgreSQL. With the delete first, (1) lost the memory (its replayed update applies only
 * over a stored record) and (2) found neither version.
 */

jest.setTimeout(300_000); // a hang, not a slow machine

const OLD = { content: "I moved to Porto yesterday.", metadata: { mood: "happy", topic: "moves" } };
const NEW = { content: "I live in Porto now.", metadata: { topic: "moves" } };
/** The TTL the update removes; the restarted process runs past it. */
const TTL_MS = 60_000;
const LATER_MS = 10 * 60_000;

interface Stored {
  id: string;
  content: string;
  expiresAt?: number;
  metadata: { [key: string]: unknown };
}

let chroma: TestChroma;
let proxy: ChromaProxy;
let postgres: TestPostgres | undefined;
const peers: StatePeer[] = [];

beforeAll(async () => {
  [chroma, postgres] = await Promise.all([startTestChroma(), startPostgres()]);
  proxy = await startChromaProxy(chroma.server.url);
});

afterAll(async () => {
  for (const peer of peers.splice(0).reverse()) await peer.kill();
  await proxy?.close();
  await chroma?.stop();
  await postgres?.stop();
});

describe.each(["sqlite", "postgres"] as const)("an update that removes keys, caught in the middle of its store write, state in %s", (kind) => {
  let pgUrl: string | undefined;
  beforeAll(async () => {
    if (kind === "postgres") pgUrl = await freshDatabase(postgres!.url, "engram_window");
  });

  /** A Memory process on `dataDir` and the suite's state; through the proxy unless told otherwise. */
  const start = (dataDir: string, options: Partial<StatePeerOptions> = {}): StatePeer => {
    const peer = startStatePeer({
      dataDir,
      chromaUrl: proxy.url,
      writes: "background",
      ...(pgUrl !== undefined ? { postgres: pgUrl } : {}),
      ...options,
    });
    peers.push(peer);
    return peer;
  };

  /** Writes queued in the shared state's outbox, read without a Memory. */
  const queued = async (dataDir: string): Promise<number> => {
    if (pgUrl === undefined) {
      const db = new Database(join(dataDir, "engram.sqlite"), { readonly: true, fileMustExist: true });
      try {
        return (db.prepare("SELECT COUNT(*) AS n FROM outbox").get() as { n: number }).n;
      } finally {
        db.close();
      }
    }
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    try {
      return Number((await client.query<{ n: string }>("SELECT COUNT(*) AS n FROM engram.outbox")).rows[0]!.n);
    } finally {
      await client.end();
    }
  };

  /**
   * In `writer` (through the proxy): adds the memory with a TTL and two metadata keys, lets it reach
   * the store, then updates it (new text, TTL and one key removed) and waits until the drain is
   * held at the proxy: at the record's upsert (`"upsert"`: every store call before it done), or at
   * the revision append that follows it (`"revision"`: the record written, the write not yet
   * completed in the outbox). Returns the id.
   */
  const updateIntoWindow = async (writer: StatePeer, user: string, at: "upsert" | "revision" = "upsert"): Promise<{ id: string; hold: Hold }> => {
    const added = await writer.call<{ results: Array<{ id: string }> }>("add", OLD.content, { userId: user, expiresAt: Date.now() + TTL_MS, metadata: OLD.metadata });
    const id = added.results[0]!.id;
    await writer.call("flush");
    const hold = proxy.hold((request) =>
      at === "upsert" ? request.path.endsWith("/upsert") && request.body.includes(id) : request.path.endsWith("/add"),
    );
    // Acknowledged: with background writes, once the update is durable in the outbox.
    await writer.call("update", id, { content: NEW.content, expiresAt: null, metadata: NEW.metadata }, { userId: user });
    await hold.arrived;
    return { id, hold };
  };

  it.each([
    ["before its upsert", "upsert"],
    ["after its upsert, before the write is completed", "revision"],
  ] as const)("kill -9 %s: a restarted process stores the acknowledged update whole, exactly once", async (_, at) => {
    const dataDir = join(chroma.dir, `${kind}-crash-${at}`);
    // Each test its own user: ids derive from the text and the user, and the server is shared.
    const user = `${kind}-crash-${at}`;
    const writer = start(dataDir);
    const { id, hold } = await updateIntoWindow(writer, user, at);
    await writer.kill();
    // Its held request dies with it, never sent; the update is still queued.
    hold.drop();
    expect(await queued(dataDir)).toBe(1);

    // Restarted later than the TTL the update removed, straight on the server.
    const restarted = start(dataDir, { chromaUrl: chroma.server.url, clockShiftMs: LATER_MS });
    expect(await restarted.call<{ pending: number }>("flush")).toMatchObject({ pending: 0 });
    expect(await queued(dataDir)).toBe(0);
    const got = await restarted.call<Stored | null>("get", id, { userId: user });
    expect(got).toMatchObject({ id, content: NEW.content, metadata: NEW.metadata });
    expect(got!.expiresAt).toBeUndefined();
    expect((await restarted.call<Stored[]>("getAll", { userId: user })).map((r) => r.id)).toEqual([id]);
    const search = (metadata: { [key: string]: string }) =>
      restarted.call<Stored[]>("search", "Where do I live?", { userId: user, filters: { metadata } }).then((hits) => hits.map((r) => r.id));
    expect(await search({ topic: "moves" })).toEqual([id]);
    expect(await search({ mood: "happy" })).toEqual([]);
    const history = await restarted.call<Array<{ event: string; newContent: string | null }>>("history", id, { userId: user });
    expect(history.map((entry) => [entry.event, entry.newContent])).toEqual([
      ["ADD", OLD.content],
      ["UPDATE", NEW.content],
    ]);
  });

  it("a reader in another process during the window sees the record (old or new) and no deleted one", async () => {
    const dataDir = join(chroma.dir, `${kind}-reader`);
    const user = `${kind}-reader`;
    const writer = start(dataDir);
    // A memory deleted before the window: never shown.
    const gone = (await writer.call<{ results: Array<{ id: string }> }>("add", "My old flat was in Lisbon.", { userId: user })).results[0]!.id;
    await writer.call("flush");
    await writer.call("delete", gone, { userId: user });
    const { id, hold } = await updateIntoWindow(writer, user);

    const reader = start(dataDir, { chromaUrl: chroma.server.url });
    const versions = [OLD.content, NEW.content];
    const search = (peer: StatePeer) => peer.call<Stored[]>("search", "Where do I live in Porto?", { userId: user }).then((hits) => hits.map((r) => r.id));
    for (const peer of [reader, writer]) {
      const got = await peer.call<Stored | null>("get", id, { userId: user });
      expect(versions).toContain(got?.content);
      expect(await peer.call("get", gone, { userId: user })).toBeNull();
      expect((await peer.call<Stored[]>("getAll", { userId: user })).map((r) => r.id)).toEqual([id]);
    }
    expect(await search(reader)).toEqual([id]);
    // The writer's own search builds its index behind its write in flight (memory/gated_store.ts):
    // it answers once the window closes, and must find the record then.
    const writerSearch = search(writer);

    // Out of the window: the update lands, and both processes read it.
    hold.release();
    expect(await writerSearch).toEqual([id]);
    await writer.call("flush");
    for (const peer of [reader, writer]) {
      const got = await peer.call<Stored | null>("get", id, { userId: user });
      expect(got).toMatchObject({ content: NEW.content, metadata: NEW.metadata });
      expect(got!.expiresAt).toBeUndefined();
      expect(await search(peer)).toEqual([id]);
    }
  });
});
