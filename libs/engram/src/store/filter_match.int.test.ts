import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { MemoryKind, MemoryRecord } from "../core/types.js";
import { startTestChroma, type TestChroma } from "../tests/chroma.js";
import { ChromaClient } from "chromadb";
import { ChromaStore } from "./chroma_store.js";
import { matchesFilter } from "./filter_match.js";
import type { StoreFilter } from "./types.js";

let chroma: TestChroma;
let store: ChromaStore;
const records: MemoryRecord[] = [];
const KINDS: MemoryKind[] = ["episode", "fact", "summary", "procedure"];

beforeAll(async () => {
  chroma = await startTestChroma();
  const client = new ChromaClient({ host: chroma.server.host, port: chroma.server.port });
  store = new ChromaStore({ client: async () => client });
  for (let i = 0; i < 40; i += 1) {
    const record: MemoryRecord = {
      id: `r${i}`,
      scope: { userId: "u", ...(i % 3 ? { agentId: `a${i % 2}` } : {}), ...(i % 4 ? { threadId: `t${i % 3}` } : {}) },
      kind: KINDS[i % 4]!,
      content: `record ${i}`,
      importance: 0.5,
      createdAt: 1_000 + i * 10,
      updatedAt: 1_000 + i * 10,
      lastAccessedAt: 1_000 + i * 10,
      source: {},
      metadata: { topic: ["tea", "chess", "rust"][i % 3]!, n: i % 5, flag: i % 2 === 0 },
    };
    records.push(record);
  }
  await store.upsert("u", records.map((record, i) => ({ record, embedding: [1, i / 40, 0.5] })));
});
afterAll(async () => chroma.stop());

const filter: fc.Arbitrary<StoreFilter> = fc.record(
  {
    kind: fc.oneof(fc.constantFrom(...KINDS), fc.subarray(KINDS, { minLength: 1 })),
    agentId: fc.constantFrom("a0", "a1", "a9"),
    threadId: fc.constantFrom("t0", "t1", "t2"),
    createdAfter: fc.integer({ min: 900, max: 1_500 }),
    createdBefore: fc.integer({ min: 900, max: 1_500 }),
    metadata: fc.record(
      { topic: fc.constantFrom("tea", "chess", "rust", "none"), n: fc.nat({ max: 5 }), flag: fc.boolean() },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);

describe("matchesFilter", () => {
  it("selects exactly what Chroma's where (whereFor) selects, for random filters", async () => {
    await fc.assert(
      fc.asyncProperty(filter, async (f) => {
        const fromChroma = (await store.list("u", f)).map((record) => record.id).sort();
        const inProcess = records.filter((record) => matchesFilter(record, f)).map((record) => record.id).sort();
        expect(inProcess).toEqual(fromChroma);
      }),
      { numRuns: 60 },
    );
  });
});
