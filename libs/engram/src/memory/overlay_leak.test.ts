import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MemoryRecord } from "../core/types.js";
import { SqliteState } from "../state/sqlite/index.js";
import type { OutboxState, PendingOptions } from "../state/types.js";
import { drainedOver, PendingOverlay, type PendingView } from "./pending_overlay.js";
import type { WriteOp } from "./writer.js";

// The pending overlay's kept vectors (a cache by outbox row) leave when this process writes their
// records to the store or erases the user, without waiting for the user's next read; a read that
// was in flight meanwhile keeps none of them. A real SQLite outbox.

let dir: string;
let state: SqliteState;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "engram-overlay-leak-"));
  state = new SqliteState({ path: dir });
});

afterEach(async () => {
  await state.close();
  await rm(dir, { recursive: true, force: true });
});

function upsert(id: string, content: string): WriteOp {
  const record: MemoryRecord = { id, scope: { userId: "alice" }, kind: "episode", content, importance: 0.5, createdAt: 1, updatedAt: 1, lastAccessedAt: 1, source: {}, metadata: {} };
  return { op: "upsert", record, history: null };
}

const embed = async (texts: string[]) => texts.map((text) => [text.length, 1, 0]);

async function queue(outbox: OutboxState<WriteOp>, userId: string, ops: WriteOp[]): Promise<number[]> {
  return outbox.enqueue(ops.map((payload) => ({ userId, key: payload.op === "upsert" ? `upsert:${payload.record.id}` : `delete:${payload.id}`, payload })));
}

/** The records a view's queued upserts write (nothing is stored). */
const upserted = (view: PendingView): string[] => [...drainedOver(view.writes, () => undefined).upserts.keys()];

const stored = (ids: string[]) => ids.map((id) => ({ record: { id } }));

describe("PendingOverlay forgets vectors of rows that left without a read", () => {
  it("a store write of the records drops their vectors, another user's stay; erasure drops the user's", async () => {
    const outbox = state.outbox<WriteOp>();
    const seqs = await queue(outbox, "alice", [upsert("a", "one"), upsert("b", "two"), upsert("c", "three")]);
    await queue(outbox, "bob", [upsert("x", "bob's")]);
    const overlay = new PendingOverlay(outbox, embed);
    await overlay.read("alice");
    await overlay.read("bob");
    expect(overlay.keptVectors).toBe(4);
    // The drain applied a and b (an upsert) and c (a delete after it).
    await outbox.complete(seqs);
    overlay.applied("alice", stored(["a", "b"]), []);
    expect(overlay.keptVectors).toBe(2);
    overlay.applied("alice", [], ["c"]);
    expect(overlay.keptVectors).toBe(1);
    overlay.erased("bob");
    expect(overlay.keptVectors).toBe(0);
    // Reads are as before: nothing queued for alice, bob's row still read (and embedded again).
    expect((await overlay.read("alice"))!.rows).toBe(0);
    expect(upserted((await overlay.read("bob"))!)).toEqual(["x"]);
  });

  it("a read in flight while the records are written returns them but keeps none; erased meanwhile, keeps nothing", async () => {
    const outbox = state.outbox<WriteOp>();
    const seqs = await queue(outbox, "alice", [upsert("a", "one"), upsert("b", "two")]);
    // The outbox read answers, then the drain's store write lands before the read goes on.
    let during: () => void = () => undefined;
    const held: Pick<OutboxState<WriteOp>, "pending"> = {
      pending: async (options?: PendingOptions) => {
        const rows = await outbox.pending(options);
        during();
        return rows;
      },
    };
    const overlay = new PendingOverlay(held, embed);
    during = () => overlay.applied("alice", stored(["a"]), []);
    const view = (await overlay.read("alice"))!;
    expect(upserted(view).sort()).toEqual(["a", "b"]);
    expect(overlay.keptVectors).toBe(1);
    during = () => overlay.erased("alice");
    expect((await overlay.read("alice"))!.rows).toBe(2);
    expect(overlay.keptVectors).toBe(0);
    during = () => undefined;
    await outbox.complete(seqs);
    expect((await overlay.read("alice"))!.rows).toBe(0);
    expect(overlay.keptVectors).toBe(0);
  });
});
