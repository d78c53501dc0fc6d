import { describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { ChromaClient } from "chromadb";
import { ChromaStore } from "../store/chroma_store.js";
import type { EpisodicStore, StoredRecord } from "../store/types.js";
import { testMemories } from "../tests/memories.js";
import { Memory } from "./memory.js";
import { gate, random } from "../tests/interleave.js";

/**
 * Two instances on one data folder drain one user's writes. A drain reads a batch and applies it;
 * if another instance could apply the same upsert and a later delete of that record meanwhile, the
 * first drain's stale upsert (its key still queued when it took its write lease) would land after
 * the delete and bring the record back. Each drain step runs under the user's "drain" lock
 * (writer.ts), so an acknowledged delete holds.
 */

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe("drains of one user across instances on one data folder", () => {
  const memories = testMemories();
  const alice = { userId: "alice" };

  /** The suite's Chroma collections named `prefix`, with `upsert` going through `before` first. */
  const storeOf = (prefix: string, before: () => Promise<void>): EpisodicStore => {
    const server = memories.chroma.server;
    const inner = new ChromaStore({ client: async () => new ChromaClient({ host: server.host, port: server.port }), prefix });
    return Object.assign(Object.create(inner) as EpisodicStore, {
      upsert: async (userId: string, items: StoredRecord[]) => {
        await before();
        return inner.upsert(userId, items);
      },
      revision: (userId: string) => inner.revision(userId),
    });
  };

  const open = (name: string, store: EpisodicStore, writes: "background" | "sync") =>
    memories.track(new Memory({ embeddings: memories.embeddings, store, prefix: name, dataDir: join(memories.chroma.dir, name), writes }));

  it("a delete acknowledged while another instance's drain is paused mid-upsert holds", async () => {
    const paused = gate();
    let first = true;
    const a = open("paused", storeOf("paused", () => (first ? ((first = false), paused.wait()) : Promise.resolve())), "background");
    const b = open("paused", storeOf("paused", async () => {}), "sync");
    const id = (await a.add("Alice keeps bees on the roof", alice)).results[0]!.id;
    await paused.reached; // A's drain read `upsert:<id>`, holds its write lease, and is writing
    // B applies the same upsert (a replay before the read) and then the delete. Without the drain
    // lock it finishes while A is paused; with it, it waits for A's drain to complete (A's
    // write is then applied first and B deletes it): the race below lets A go on either way.
    const deleting = b.delete(id, alice);
    await Promise.race([deleting, sleep(1_500)]);
    paused.open();
    await deleting;
    await a.flush();
    await b.flush();
    expect(await b.get(id, alice)).toBeNull();
    expect(await a.get(id, alice)).toBeNull();
    expect((await a.search("bees on the roof", alice)).map((hit) => hit.id)).not.toContain(id);
    expect((await b.search("bees on the roof", alice)).map((hit) => hit.id)).not.toContain(id);
  });

  it("adds, updates and deletes of the same records from two instances with background writes: every acknowledged delete holds", async () => {
    const next = random(7);
    // Store upserts take longer, in a fixed pseudo-random pattern: A's some a few ms, some long
    // enough for B to apply an upsert and a delete meanwhile; B's a few ms. So the drains of the
    // two instances overlap in many orders.
    const a = open("mixed", storeOf("mixed", () => sleep(next() < 0.4 ? 500 : Math.floor(next() * 20))), "background");
    const b = open("mixed", storeOf("mixed", () => sleep(Math.floor(next() * 20))), "background");
    const topics = ["bees", "maps", "violins", "sourdough", "kayaks", "orchids", "chess", "tulips"];
    const deleted: string[] = [];
    await Promise.all(
      topics.map(async (topic, i) => {
        const [owner, other] = i % 3 === 0 ? [b, a] : [a, b];
        const id = (await owner.add(`Alice is fond of ${topic}`, alice)).results[0]!.id;
        // Both edit it at once (each edit first replays the queued writes, so the record exists),
        // then one of them deletes it; no edit is issued after the delete.
        await Promise.all([owner.update(id, `Alice is very fond of ${topic}`, alice), other.update(id, `Alice collects ${topic}`, alice)]);
        await (i % 4 === 3 ? a : b).delete(id, alice);
        deleted.push(id);
      }),
    );
    await Promise.all([a.flush(), b.flush()]);
    expect(deleted).toHaveLength(topics.length);
    for (const memory of [a, b]) {
      for (const id of deleted) expect(await memory.get(id, alice)).toBeNull();
      for (const topic of topics) expect((await memory.search(topic, alice)).map((hit) => hit.id).filter((id) => deleted.includes(id))).toEqual([]);
      expect(await memory.getAll(alice)).toEqual([]);
    }
  });
});
