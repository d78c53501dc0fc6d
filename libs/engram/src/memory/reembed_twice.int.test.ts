import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startTestChroma, type TestChroma } from "../tests/chroma.js";
import { HashEmbeddings } from "../tests/hash_embeddings.js";
import { Memory } from "./memory.js";
import { reembed } from "./reembed.js";
import { SlowTarget, Target } from "../tests/reembed_targets.js";
import { REEMBED_LOCK_FILE } from "./reembed_lock.js";

const CLI = fileURLToPath(new URL("../cli/main.ts", import.meta.url));

/** `engram reembed` in a real child process; resolves with its exit code and standard error. */
function runCli(args: string[]): Promise<{ code: number | null; err: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, "reembed", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr.on("data", (chunk: Buffer) => void (err += chunk.toString()));
  child.stdout.resume();
  return new Promise((done) => child.on("exit", (code) => done({ code, err })));
}

describe("two reembeds of one data folder at once", () => {
  let chroma: TestChroma;
  beforeAll(async () => {
    chroma = await startTestChroma();
  });
  afterAll(async () => chroma.stop());

  it("the second is refused with REEMBED_RUNNING before it touches anything, and the first moves every memory once", async () => {
    const url = chroma.server.url;
    const dataDir = join(chroma.dir, "twice");
    const seed = new Memory({ dataDir, chroma: { url }, embeddings: new HashEmbeddings(), writes: "sync" });
    const texts = Array.from({ length: 6 }, (_, i) => `Note ${i}: the tram to Belem leaves at ${i + 7} o'clock.`);
    for (const text of texts) await seed.add(text, { userId: "ana" });
    await seed.close();

    // While the first run embeds its first batch, a second one starts (the CLI, another process).
    let second: { code: number | null; err: string } | undefined;
    const first = new SlowTarget(async () => {
      second = await runCli(["--data-dir", dataDir, "--chroma-url", url, "--model", "static"]);
    });
    const result = await reembed({ dataDir, chroma: { url }, embeddings: first, batchSize: 2 });
    expect(second?.code).toBe(1);
    expect(second?.err).toContain("REEMBED_RUNNING");
    expect(result).toMatchObject({ to: first.modelId, reembedded: 6, total: 6 });
    expect(existsSync(join(dataDir, REEMBED_LOCK_FILE))).toBe(false);

    const after = new Memory({ dataDir, chroma: { url }, embeddings: new Target(), writes: "sync" });
    try {
      const all = await after.getAll({ userId: "ana", limit: 100 });
      expect(all.map((record) => record.content).sort()).toEqual([...texts].sort());
    } finally {
      await after.close();
    }
  });
});
