import { describe, expect, it, jest } from "@jest/globals";
import { replicaPairSuite } from "../tests/replica_pair.js";

/*
 * Two replicas (real processes) on one Chroma server and one PostgreSQL state update the same
 * record at once: B has read the record, A's update is acknowledged and its drain is held by a
 * proxy at the record's upsert, then B's update is acknowledged: it re-queues the record's key,
 * which replaces A's outbox row. A's write still reaches the store, but its completion removed
 * nothing and so recorded no history: an acknowledged update was missing from `history` on every
 * replica (about half the updates, with two replicas updating shared records at once).
 */

jest.setTimeout(300_000); // a hang, not a slow machine

const pair = replicaPairSuite();

interface Stored {
  id: string;
  content: string;
}

describe("an update acknowledged by one replica while another replica's drain applies the same record", () => {
  it("leaves both updates in history, in order, and the later one's content everywhere", async () => {
    const { world } = pair;
    const postgres = await world.database("engram_replaced");
    const [a, b] = [world.start("a", 0, { postgres, writes: "background" }), world.start("b", 1, { postgres, writes: "background" })];
    const user = { userId: "ines" };
    const added = await a.call<{ results: Stored[] }>("add", "I work in a bakery.", user);
    const id = added.results[0]!.id;
    await a.call("flush");
    expect((await b.call<Stored | null>("get", id, user))?.content).toBe("I work in a bakery.");

    // B's update reads the record (held on its way back), then A's update is acknowledged and drains.
    const read = world.proxies[1].hold((request) => request.path.endsWith("/get") && request.body.includes(id));
    const updating = b.call("update", id, "I work in a library.", user);
    await read.arrived;
    const upsert = world.proxies[0].hold((request) => request.path.endsWith("/upsert") && request.body.includes(id));
    await a.call("update", id, "I work in a bookshop.", user);
    await upsert.arrived;
    read.release();
    await updating;
    upsert.release();
    await a.call("flush");
    await b.call("flush");

    for (const peer of [a, b]) {
      expect((await peer.call<Stored | null>("get", id, user))?.content).toBe("I work in a library.");
      const history = await peer.call<Array<{ event: string; oldContent: string | null; newContent: string | null }>>("history", id, user);
      expect(history.map((entry) => [entry.event, entry.oldContent, entry.newContent])).toEqual([
        ["ADD", null, "I work in a bakery."],
        ["UPDATE", "I work in a bakery.", "I work in a bookshop."],
        ["UPDATE", "I work in a bakery.", "I work in a library."],
      ]);
    }
  });
});
