import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ChromaClient } from "chromadb";
import { startTestChroma, type TestChroma } from "../tests/chroma.js";
import { RevisionLog, sameRevision, type StoreRevision } from "./revision_log.js";

describe("RevisionLog (per-user revisions in Chroma)", () => {
  let chroma: TestChroma;
  let client: ChromaClient;
  const log = (compactAt?: number): RevisionLog =>
    new RevisionLog({ client: async () => client, prefix: "rev", call: (_operation, run) => run(), ...(compactAt ? { compactAt } : {}) });
  const noRecords = async (): Promise<boolean> => false;

  beforeAll(async () => {
    chroma = await startTestChroma();
    client = new ChromaClient({ host: chroma.server.host, port: chroma.server.port });
  });
  afterAll(async () => {
    await chroma.stop();
  });

  it("never returns to an earlier revision: appends by two instances, an erase, a compaction", async () => {
    const a = log(20);
    const b = log(20);
    const seen: StoreRevision[] = [await a.read("u", noRecords)];
    expect(seen[0]).toEqual({ log: null, count: 0 });
    const expectNew = async (reader: RevisionLog): Promise<void> => {
      const now = await reader.read("u", noRecords);
      for (const before of seen) expect(sameRevision(before, now)).toBe(false);
      seen.push(now);
    };
    for (let i = 0; i < 5; i += 1) {
      await (i % 2 ? a : b).append("u");
      await expectNew(i % 2 ? b : a);
    }
    // b erases (deleteAll); a still holds a handle to the dropped log and appends through it.
    await b.erase("u");
    await expectNew(a);
    await a.append("u");
    await expectNew(b);
    // Past `compactAt` entries the log starts again under a new id, and still never repeats.
    for (let i = 0; i < 30; i += 1) {
      await a.append("u");
      await expectNew(b);
    }
    expect((await b.read("u", noRecords)).count).toBeLessThan(30);
    // A user stored before revision logs existed (records, no log) is given a log on first read.
    const legacy = await a.read("legacy", async () => true);
    expect(legacy.log).not.toBeNull();
    expect(sameRevision(legacy, await b.read("legacy", async () => true))).toBe(true);
    // Other users are not touched.
    expect(await a.read("someone-else", noRecords)).toEqual({ log: null, count: 0 });
  });
});
