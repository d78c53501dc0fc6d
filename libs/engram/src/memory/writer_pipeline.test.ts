import { afterEach, beforeEach, expect, it } from "@jest/globals";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MemoryRecord } from "../core/types.js";
import { SqliteState } from "../state/sqlite/index.js";
import type { EpisodicStore, StoredRecord } from "../store/types.js";
import { Writer, type WriteOp } from "./writer.js";

/*
 * The drain's pipeline (memory/writer.ts), hermetic: the real SQLite outbox, a store that logs its
 * calls. A bulk import's drain must send a group's store call before it embeds the next group (the
 * model computes on the drain's thread: embedding first held the request back, so the store sat
 * idle while this process embedded), and embed in slices so the call in flight is not blocked.
 * Order only, no timing: the log is of events, not durations.
 */

const USER = "bulk";

function record(i: number): MemoryRecord {
  return { id: `r${i}`, scope: { userId: USER }, kind: "episode", content: `turn ${i}`, importance: 0.5, createdAt: i, updatedAt: i, lastAccessedAt: i, source: {}, metadata: {} };
}

let dir: string;
let state: SqliteState;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "engram-pipeline-"));
  state = new SqliteState({ path: dir });
});
afterEach(async () => {
  await state.close();
  await rm(dir, { recursive: true, force: true });
});

it("sends each store call before embedding the next group, embeds in slices, and stores every write once, in order", async () => {
  const log: string[] = [];
  const stored: string[] = [];
  const embedded: string[] = [];
  const store = {
    async upsert(_userId: string, items: StoredRecord[]): Promise<void> {
      log.push(`upsert ${items.length} from ${items[0]!.record.id}`);
      // The store's own time: the drain's CPU work for the next group may run meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 5));
      for (const item of items) {
        expect(item.embedding).toEqual([item.record.createdAt, 1]);
        stored.push(item.record.id);
      }
    },
    async get() {
      return [];
    },
    async count() {
      return stored.length;
    },
  } as unknown as EpisodicStore;
  const writer = new Writer({
    outbox: state.outbox<WriteOp>(),
    store,
    embed: async (texts) => {
      log.push(`embed ${texts.length} from ${texts[0]}`);
      embedded.push(...texts);
      return texts.map((text) => [Number(text.split(" ")[1]), 1]);
    },
  });
  const n = 2_500;
  await writer.enqueue(USER, Array.from({ length: n }, (_, i): WriteOp => ({ op: "upsert", record: record(i), history: null })));
  const result = await writer.drain(USER);
  expect(result).toMatchObject({ applied: n, pending: 0 });
  expect(stored).toEqual(Array.from({ length: n }, (_, i) => `r${i}`));
  expect(embedded).toHaveLength(n);
  // No model call embeds a whole group at once.
  const sizes = log.filter((line) => line.startsWith("embed")).map((line) => Number(line.split(" ")[1]));
  expect(Math.max(...sizes)).toBeLessThanOrEqual(200);
  // Within a drain step (2,000 writes: groups of 1,000), the second group is embedded only after the
  // first group's store call was made.
  const firstUpsert = log.indexOf("upsert 1000 from r0");
  const secondGroupEmbed = log.indexOf("embed 200 from turn 1000");
  expect(firstUpsert).toBeGreaterThanOrEqual(0);
  expect(secondGroupEmbed).toBeGreaterThan(firstUpsert);
  expect(log.indexOf("upsert 1000 from r1000")).toBeGreaterThan(secondGroupEmbed);
});
