import { describe, expect, it } from "@jest/globals";
import { join } from "node:path";
import { type Peer, peerSuite } from "../tests/peers.js";
import { Memory } from "./memory.js";
import { reembed } from "./reembed.js";
import { Target } from "../tests/reembed_targets.js";

/** {@link Target}, running `during` on the first batch that holds one of Alice's memories. */
class AliceHook extends Target {
  private fired = false;
  constructor(private readonly during: () => Promise<void>) {
    super();
  }
  override async embedDocuments(texts: string[]): Promise<number[][]> {
    if (!this.fired && texts.some((text) => text.startsWith("Alice"))) {
      this.fired = true;
      await this.during();
    }
    return super.embedDocuments(texts);
  }
}

async function seed(app: Peer): Promise<void> {
  for (let i = 0; i < 4; i += 1) await app.call("add", `Alice note ${i}: my locker code is ${1000 + i}.`, { userId: "alice" });
  for (let i = 0; i < 2; i += 1) await app.call("add", `Bob note ${i}: the boat leaves pier ${i + 3}.`, { userId: "bob" });
}

async function contents(dataDir: string, url: string, userId: string): Promise<string[]> {
  const after = new Memory({ dataDir, chroma: { url }, embeddings: new Target(), writes: "sync" });
  try {
    return (await after.getAll({ userId, limit: 100 })).map((record) => record.content).sort();
  } finally {
    await after.close();
  }
}

describe("reembed and a user erased while being copied", () => {
  const suite = peerSuite();

  it("a user erased (deleteAll, from an application process) while reembed copies them stays erased", async () => {
    const url = suite.chroma.server.url;
    const dataDir = join(suite.chroma.dir, "erased-live");
    const app = suite.start({ dataDir, chromaUrl: url, embeddings: "hash", prefix: "live" });
    await seed(app);
    const target = new AliceHook(async () => void (await app.call("deleteAll", { userId: "alice" })));
    await reembed({ dataDir, chroma: { url }, prefix: "live", embeddings: target, batchSize: 2 });
    await app.close();
    const after = async (userId: string) => {
      const memory = new Memory({ dataDir, chroma: { url }, prefix: "live", embeddings: new Target(), writes: "sync" });
      try {
        return (await memory.getAll({ userId, limit: 100 })).map((record) => record.content).sort();
      } finally {
        await memory.close();
      }
    };
    expect(await after("alice")).toEqual([]);
    expect(await after("bob")).toHaveLength(2);
  });

  it("a user erased after a run died half-way through copying them is not brought back by the run that resumes", async () => {
    const url = suite.chroma.server.url;
    const dataDir = join(suite.chroma.dir, "erased-crash");
    const app = suite.start({ dataDir, chromaUrl: url, embeddings: "hash" });
    await seed(app);
    // The first run dies in Alice's second batch (one batch of hers copied); the application,
    // still running, erases her before the run is resumed.
    let batches = 0;
    const dying = new AliceHook(async () => undefined);
    const original = dying.embedDocuments.bind(dying);
    dying.embedDocuments = async (texts: string[]) => {
      if (texts.some((text) => text.startsWith("Alice")) && ++batches === 2) throw new Error("killed");
      return original(texts);
    };
    await expect(reembed({ dataDir, chroma: { url }, embeddings: dying, batchSize: 2 })).rejects.toMatchObject({ code: "EMBEDDING_FAILED" });
    await app.call("deleteAll", { userId: "alice" });
    await app.close();

    const resumed = await reembed({ dataDir, chroma: { url }, embeddings: new Target(), batchSize: 2 });
    expect(resumed.to).toBe("hash-target@128");
    expect(await contents(dataDir, url, "alice")).toEqual([]);
    expect(await contents(dataDir, url, "bob")).toHaveLength(2);
  });
});
